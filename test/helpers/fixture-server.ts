import { rm } from 'node:fs/promises';
import { afterAll, beforeAll } from 'vitest';
import { loadCatalog } from '../../catalog/catalog-file.js';
import { DatasetRegistry } from '../../catalog/registry.js';
import { type FixtureOptions, type Fixtures, makeFixtures } from './fixtures.js';
import { type SpawnedServer, spawnServer } from './server.js';

/**
 * For the tests of one file: the shared NetCDF4 fixtures, or with `copy` a copy of them made
 * before the tests (and removed after), with `start` run on them (and `stop` after). Returns a
 * getter, valid once the tests run.
 */
function useFixtures<T>(options: FixtureOptions, start: (fixtures: Fixtures) => Promise<T>, stop: (started: T) => Promise<void>): () => Fixtures & { readonly started: T } {
  let fixtures: Fixtures | undefined;
  let started: T | undefined;
  beforeAll(async () => {
    fixtures = await makeFixtures(options);
    started = await start(fixtures);
  });
  afterAll(async () => {
    if (started !== undefined) await stop(started);
    if (fixtures && options.copy) await rm(fixtures.dir, { recursive: true, force: true });
  });
  return () => {
    if (!fixtures || started === undefined) throw new Error('fixtures are only there while the tests run');
    return { ...fixtures, started };
  };
}

export interface FixtureServerOptions extends FixtureOptions {
  /** Writes the catalog to serve and returns its path (it writes: with `copy`); else the fixture catalog. */
  readonly catalog?: (fixtures: Fixtures) => Promise<string>;
}

/** The fixtures (shared, or a copy with `copy`) and the built CLI serving them. */
export function useFixtureServer(options: FixtureServerOptions = {}) {
  const { catalog = async (fixtures: Fixtures) => fixtures.catalog } = options;
  const get = useFixtures(
    options,
    async (fixtures) => spawnServer(await catalog(fixtures), ['--log-level', 'warn']),
    (server: SpawnedServer) => server.stop(),
  );
  return () => {
    const { started, ...fixtures } = get();
    return { fixtures: fixtures as Fixtures, server: started };
  };
}

/** The fixtures and a registry with every fixture dataset opened (no server). */
export function useFixtureRegistry(options: FixtureOptions = {}) {
  const get = useFixtures(
    options,
    async (fixtures) => DatasetRegistry.open(await loadCatalog(fixtures.catalog)),
    (registry: DatasetRegistry) => registry.close(),
  );
  return () => {
    const { started, ...fixtures } = get();
    return { fixtures: fixtures as Fixtures, registry: started };
  };
}
