import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Fixtures } from './fixtures.js';

/**
 * Dataset ids of the catalog-tree tests → the fixture dataset each serves: three levels, JSON and
 * parquet references, and `icon.hist`, a dataset that is also the prefix of others.
 */
export const TREE: Readonly<Record<string, string>> = {
  'icon.hist.atmos': 'basic',
  'icon.hist.ocean': 'basic-parquet',
  'icon.ssp585.atmos.day': 'templated',
  'icon.hist': 'generated',
  era5: 'combined-parquet',
};

/** The groups of TREE's tree, intermediate ones included. */
export const TREE_GROUPS = ['era5', 'icon', 'icon/hist', 'icon/hist/atmos', 'icon/hist/ocean', 'icon/ssp585', 'icon/ssp585/atmos', 'icon/ssp585/atmos/day'];

/**
 * A catalog in `dir` serving the shared fixtures under other ids (`ids`: id → fixture id); the
 * fixtures are referenced by absolute path and never written.
 */
export async function writeTreeCatalog(fixtures: Fixtures, dir: string, ids: Readonly<Record<string, string>>): Promise<string> {
  const lines = Object.entries(ids).map(([id, fixture]) => {
    const dataset = fixtures.datasets.find((d) => d.id === fixture);
    if (!dataset) throw new Error(`no fixture ${fixture}`);
    return `  ${JSON.stringify(id)}: {refs: ${JSON.stringify(join(fixtures.dir, dataset.refs))}}`;
  });
  const catalog = join(dir, 'catalog.yaml');
  await writeFile(catalog, `datasets:\n${lines.join('\n')}\nsources:\n  allow: [${JSON.stringify(`${fixtures.dir}/`)}]\n`);
  return catalog;
}
