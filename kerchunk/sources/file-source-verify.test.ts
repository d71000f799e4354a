import { mkdir, mkdtemp, realpath, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSource } from './file-source.js';
import { type SourceError, SourceForbiddenError } from './source-error.js';

let dir: string;
let root: string;
beforeAll(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'strato-verify-')));
  root = join(dir, 'root');
  await mkdir(join(root, 'd'), { recursive: true });
  await mkdir(join(dir, 'outside', 'd'), { recursive: true });
  await writeFile(join(root, 'd', 'f.bin'), 'inside!');
  await writeFile(join(dir, 'outside', 'd', 'f.bin'), 'OUTSIDE');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const insideRoot = (path: string) => path === root || path.startsWith(`${root}${sep}`);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('FileSource: descriptors checked against allowsRealPath', () => {
  it('refuses a path whose directory became a symlink out of the root, on open and on re-check', async () => {
    const path = join(root, 'd', 'f.bin');
    const pooled = new FileSource({ allowsRealPath: insideRoot, revalidateMs: 0 });
    const fresh = new FileSource({ allowsRealPath: insideRoot });
    try {
      expect(text(await pooled.read(path, 0, 7))).toBe('inside!');
      await rename(join(root, 'd'), join(root, 'd.orig'));
      await symlink(join(dir, 'outside', 'd'), join(root, 'd'));
      for (const source of [pooled, fresh]) {
        await expect(source.read(path, 0, 7)).rejects.toBeInstanceOf(SourceForbiddenError);
        await expect(source.readWhole(path)).rejects.toBeInstanceOf(SourceForbiddenError);
        await expect(source.size(path)).rejects.toBeInstanceOf(SourceForbiddenError);
        await expect(source.version(path)).rejects.toBeInstanceOf(SourceForbiddenError);
      }
      expect(pooled.openCount).toBe(0);
    } finally {
      await pooled.close();
      await fresh.close();
      await rm(join(root, 'd'));
      await rename(join(root, 'd.orig'), join(root, 'd'));
    }
  });

  it('refuses a pooled descriptor whose file was moved out of the root', async () => {
    const path = join(root, 'moving.bin');
    await writeFile(path, 'moving');
    const source = new FileSource({ allowsRealPath: insideRoot, revalidateMs: 0 });
    try {
      expect(text(await source.read(path, 0, 6))).toBe('moving');
      await rename(path, join(dir, 'outside', 'moving.bin'));
      await expect(source.read(path, 0, 6)).rejects.toBeInstanceOf(SourceForbiddenError);
      expect(source.openCount).toBe(0);
    } finally {
      await source.close();
    }
  });

  it('still notices replaced and deleted files inside the root', async () => {
    const path = join(root, 'replaced.bin');
    await writeFile(path, 'one');
    const source = new FileSource({ allowsRealPath: insideRoot, revalidateMs: 0 });
    try {
      expect(text(await source.read(path, 0, 3))).toBe('one');
      expect(await source.size(path)).toBe(3);
      await writeFile(`${path}.new`, 'two!');
      await rename(`${path}.new`, path);
      expect(text(await source.read(path, 0, 4))).toBe('two!');
      expect(await source.size(path)).toBe(4);
      await rm(path);
      const error = await source.read(path, 0, 1).catch((e: unknown) => e);
      expect((error as SourceError).failure).toBe('not-found');
    } finally {
      await source.close();
    }
  });

  it('without allowsRealPath reads what it is given (the old behaviour)', async () => {
    const source = new FileSource();
    try {
      expect(text(await source.read(join(dir, 'outside', 'd', 'f.bin'), 0, 7))).toBe('OUTSIDE');
    } finally {
      await source.close();
    }
  });
});
