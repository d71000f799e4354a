import { rm } from 'node:fs/promises';
import { afterAll, beforeAll } from 'vitest';
import { loadCatalog } from '../../catalog/catalog-file.js';
import { DatasetRegistry } from '../../catalog/registry.js';
import { type Fixtures, makeFixtures } from './fixtures.js';
import { type SpawnedServer, spawnServer } from './server.js';

/**
 * For the tests of one file: the NetCDF4 fixtures made before them (and removed after), with
 * `start` run on them (and `stop` after). Returns a getter, valid once the tests run.
 */
function useFixtures<T>(start: (fixtures: Fixtures) => Promise<T>, stop: (started: T) => Promise<void>): () => Fixtures & { readonly started: T } {
  let fixtures: Fixtures | undefined;
  let started: T | undefined;
  beforeAll(async () => {
    fixtures = await makeFixtures();
    started = await start(fixtures);
  });
  afterAll(async () => {
    if (started !== undefined) await stop(started);
    if (fixtures) await rm(fixtures.dir, { recursive: true, force: true });
  });
  return () => {
    if (!fixtures || started === undefined) throw new Error('fixtures are only there while the tests run');
    return { ...fixtures, started };
  };
}

/** The fixtures and the built CLI serving them (the fixture catalog, or one `catalog` writes). */
export function useFixtureServer(catalog: (fixtures: Fixtures) => Promise<string> = async (f) => f.catalog) {
  const get = useFixtures(
    async (fixtures) => spawnServer(await catalog(fixtures), ['--log-level', 'warn']),
    (server: SpawnedServer) => server.stop(),
  );
  return () => {
    const { started, ...fixtures } = get();
    return { fixtures: fixtures as Fixtures, server: started };
  };
}

/** The fixtures and a registry with every fixture dataset opened (no server). */
export function useFixtureRegistry() {
  const get = useFixtures(
    async (fixtures) => DatasetRegistry.open(await loadCatalog(fixtures.catalog)),
    (registry: DatasetRegistry) => registry.close(),
  );
  return () => {
    const { started, ...fixtures } = get();
    return { fixtures: fixtures as Fixtures, registry: started };
  };
}
