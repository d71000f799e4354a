import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkGrid } from '../../kerchunk/chunk-grid.js';
import { recordFilePath } from '../../kerchunk/parquet-references.js';
import type { RunningServer } from '../../server/serve.js';
import { type InProcessApp, openApp } from '../helpers/in-process-app.js';
import { startInProcess } from '../helpers/server.js';

/**
 * The parquet reference set of a listening strato, downloaded over HTTP into a directory and
 * registered in a second strato's catalog: the second server reads every chunk through the
 * first one's raw view URLs (escaped, C-order spellings included) and answers the same bytes.
 */
let first: RunningServer;
let second: InProcessApp;
let dir: string;
const grids = new Map<string, ChunkGrid>();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-refs-parq-served-'));
  // 1-d, 30 chunks of one float (more than 10 along a dimension: URLs spelled with escapes), chunk 7 missing
  const values = new Float32Array(Array.from({ length: 30 }, (_, i) => i * 1.5));
  await mkdir(join(dir, 'origin'));
  await writeFile(join(dir, 'origin', 'seq.bin'), new Uint8Array(values.buffer));
  const refs: Record<string, unknown> = {
    '.zgroup': '{"zarr_format": 2}',
    'v/.zarray': JSON.stringify({ zarr_format: 2, shape: [30], chunks: [1], dtype: '<f4', compressor: null, filters: null, fill_value: -1, order: 'C' }),
    'v/.zattrs': '{"_ARRAY_DIMENSIONS": ["t"]}',
  };
  for (let i = 0; i < 30; i++) if (i !== 7) refs[`v/${i}`] = ['seq.bin', i * 4, 4];
  await writeFile(join(dir, 'origin', 'seq.json'), JSON.stringify({ version: 1, refs }));
  await writeFile(join(dir, 'origin', 'catalog.yaml'), 'datasets:\n  seq:\n    refs: seq.json\nsources:\n  allow: [./]\n');
  first = await startInProcess(join(dir, 'origin', 'catalog.yaml'));
  const set = join(dir, 'seq.parq');
  const base = `${first.url}/datasets/seq/references.parq`;
  const text = await (await fetch(`${base}/.zmetadata`)).text();
  const zmetadata = JSON.parse(text) as { metadata: Record<string, { shape: number[]; chunks: number[] }>; record_size: number };
  await mkdir(set, { recursive: true });
  await writeFile(join(set, '.zmetadata'), text);
  for (const [key, document] of Object.entries(zmetadata.metadata)) {
    if (!key.endsWith('/.zarray')) continue;
    const array = key.slice(0, -'/.zarray'.length);
    const grid = new ChunkGrid(document.shape, document.chunks);
    grids.set(array, grid);
    for (let record = 0; record * zmetadata.record_size < grid.size; record++) {
      const response = await fetch(`${base}/${array}/refs.${record}.parq`);
      expect(response.status).toBe(200);
      const file = recordFilePath(set, array, record);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, new Uint8Array(await response.arrayBuffer()));
    }
  }
  await writeFile(join(dir, 'catalog.yaml'), `datasets:\n  copy:\n    refs: seq.parq\nsources:\n  allow: ["${first.url}/"]\n`);
  second = await openApp(join(dir, 'catalog.yaml'));
}, 60_000);
afterAll(async () => {
  await second?.close();
  await first?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a parquet reference set of a strato, served by another strato', () => {
  it('answers every chunk with the first server’s raw view bytes', async () => {
    expect(grids.size).toBeGreaterThan(0);
    let chunks = 0;
    for (const [array, grid] of grids) {
      for (let index = 0; index < grid.size; index++) {
        const key = `${array}/${grid.suffixOf(index)}`;
        const [original, copy] = await Promise.all([fetch(`${first.url}/datasets/seq/kerchunk/${key}`), second.request(`/datasets/copy/kerchunk/${key}`)]);
        expect(copy.status, key).toBe(original.status);
        if (original.status === 200) expect(new Uint8Array(await copy.arrayBuffer()), key).toEqual(new Uint8Array(await original.arrayBuffer()));
        chunks++;
      }
    }
    expect(chunks).toBe(30);
    // the URLs went through their escaped spellings (chunk 0: every bit 0, every slot escaped)
    const rows = (await parquetReadObjects({
      file: await readFile(recordFilePath(join(dir, 'seq.parq'), 'v', 0)).then((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
      compressors,
      columns: ['path'],
    })) as Array<{ path: string | null }>;
    expect(rows[0]?.path).toContain('%');
    expect(rows[7]?.path).toBeNull();
    expect((await second.request('/datasets/copy/kerchunk/v/7')).status).toBe(404);
    expect(new Float32Array(await (await second.request('/datasets/copy/kerchunk/v/29')).arrayBuffer())).toEqual(new Float32Array([43.5]));
  }, 120_000);
});
