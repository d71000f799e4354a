import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCatalog } from './catalog-file.js';
import { DatasetRegistry } from './registry.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-registry-access-'));
  const zarray = { zarr_format: 2, shape: [2], chunks: [2], dtype: '<f4', compressor: null, filters: null, fill_value: null, order: 'C' };
  const refs = {
    version: 1,
    refs: { '.zgroup': '{"zarr_format": 2}', 'v/.zarray': JSON.stringify(zarray), 'v/.zattrs': '{"_ARRAY_DIMENSIONS": ["x"]}', 'v/0': 'base64:AAAAAAAAAAA=' },
  };
  await writeFile(join(dir, 'r.json'), JSON.stringify(refs));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const catalogText = `auth:
  issuers:
    - {issuer: "https://idp.example.org/realms/climate", audience: strato}
datasets:
  open: {refs: r.json}
  embargoed: {refs: r.json, access: {roles: [members]}}
`;

describe('protected datasets in the registry', () => {
  it('are left out unless the server says it enforces access (fail closed until wired)', async () => {
    const catalog = parseCatalog(catalogText, join(dir, 'catalog.yaml'));
    const plain = await DatasetRegistry.open(catalog);
    try {
      expect(plain.ids()).toEqual(['open']);
      expect(plain.problems()).toEqual([expect.objectContaining({ id: 'embargoed', reason: 'entry-invalid', message: expect.stringMatching(/does not enforce/) })]);
    } finally {
      await plain.close();
    }
    const enforcing = await DatasetRegistry.open(catalog, { servesProtected: true });
    try {
      expect(enforcing.ids().sort()).toEqual(['embargoed', 'open']);
      expect(enforcing.get('embargoed')?.entry.access?.roles).toEqual(['members']);
    } finally {
      await enforcing.close();
    }
  });

  it('an unusable auth section is logged, and its protected datasets are problem entries', async () => {
    const warnings: Array<[string, Record<string, unknown> | undefined]> = [];
    const logger = { warn: (message: string, fields?: Record<string, unknown>) => warnings.push([message, fields]), info: () => undefined };
    const catalog = parseCatalog(catalogText.replace('https://idp.example.org', 'http://idp.example.org'), join(dir, 'catalog.yaml'));
    const registry = await DatasetRegistry.open(catalog, { servesProtected: true, logger });
    try {
      expect(registry.ids()).toEqual(['open']);
      expect(registry.problems().map((p) => p.id)).toEqual(['embargoed']);
      expect(warnings.map(([message]) => message)).toEqual(['catalog "auth" unusable: protected datasets are not served', 'catalog entry left out']);
      expect(String(warnings[0]?.[1]?.reason)).toMatch(/loopback/);
    } finally {
      await registry.close();
    }
  });
});
