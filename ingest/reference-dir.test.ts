import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DIR_LIMITS, findReferenceSets, ReferenceDirError } from './reference-dir.js';

let root: string;
let dir: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'strato-refdir-'));
  dir = join(root, 'sets');
  await mkdir(join(dir, 'a', 'b'), { recursive: true });
  await writeFile(join(dir, 'a', 'b', 'c.json'), '{}');
  await writeFile(join(dir, 'top.json'), '{}');
  await writeFile(join(dir, '.c.json.123.staging'), '{}');
  await writeFile(join(dir, 'notes.txt'), '');
  await mkdir(join(dir, 'a', 'ocean.parq', 'tas'), { recursive: true });
  await writeFile(join(dir, 'a', 'ocean.parq', '.zmetadata'), '{}');
  await writeFile(join(dir, 'a', 'ocean.parq', 'tas', 'refs.0.parq'), '');
  await writeFile(join(dir, 'a', 'ocean.parq', 'inner.json'), '{}'); // inside a parquet set: not a set of its own
  await mkdir(join(dir, 'zarr-store'), { recursive: true });
  await writeFile(join(dir, 'zarr-store', '.zmetadata'), '{}'); // a consolidated Zarr store, no refs: walked, nothing found
  await writeFile(join(root, 'outside.json'), '{}');
  await symlink(join(root, 'outside.json'), join(dir, 'escape.json'));
  await symlink(root, join(dir, 'up'));
  await symlink(join(dir, 'top.json'), join(dir, 'alias.json'));
  await writeFile(join(dir, 'bad name.json'), '{}');
  await writeFile(join(dir, '__proto__.json'), '{}');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('findReferenceSets', () => {
  it('finds JSON tables and parquet directories, ids from relative paths', async () => {
    const { sets, skipped } = await findReferenceSets(dir);
    expect(sets.map((s) => [s.id, s.format])).toEqual([
      ['a.b.c', 'json'],
      ['a.ocean', 'parquet'],
      ['alias', 'json'],
      ['top', 'json'],
    ]);
    expect(sets.every((s) => s.signature.length > 0 && s.path.startsWith(dir))).toBe(true);
    expect(skipped.map((s) => s.id).sort()).toEqual(['__proto__', 'bad name', 'escape', 'up']);
    expect(skipped.find((s) => s.id === 'escape')?.reason).toMatch(/symlink that leaves/);
  });

  it('is bounded in sets and entries', async () => {
    const few = await findReferenceSets(dir, { ...DEFAULT_DIR_LIMITS, maxSets: 2 });
    expect(few.sets).toHaveLength(2);
    expect(few.skipped.some((s) => /more than 2 reference sets/.test(s.reason))).toBe(true);
    const shallow = await findReferenceSets(dir, { ...DEFAULT_DIR_LIMITS, maxDepth: 1 });
    expect(shallow.sets.map((s) => s.id)).toEqual(['alias', 'top']);
  });

  it('a missing directory is an error', async () => {
    await expect(findReferenceSets(join(root, 'nothing'))).rejects.toThrow(ReferenceDirError);
  });
});
