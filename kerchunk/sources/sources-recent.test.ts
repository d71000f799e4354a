import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { etagOf } from '../../server/http/etag.js';
import type { ChunkReference } from '../reference.js';
import { SourceForbiddenError } from './source-error.js';
import { Sources } from './sources.js';

// Reads of a local file reuse the allow list's recent decision and the pooled descriptor's
// recent check (no wait at all on the hot path). These pin down what that reuse may and may not
// do once the window (1 s, moved on by a fake clock) has passed: never serve outside the roots,
// always see a replaced file.

const original = Uint8Array.from({ length: 8192 }, (_, i) => (i * 7) % 251);
const replaced = Uint8Array.from({ length: 9000 }, (_, i) => (i * 13) % 253);
const secret = new TextEncoder().encode('secret outside the roots, long enough to be read at 0+16');
let dir: string;
let sources: Sources;

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  dir = await mkdtemp(join(tmpdir(), 'strato-recent-'));
  for (const sub of ['data', 'data/sub', 'outside', 'refs']) await mkdir(join(dir, sub));
  await writeFile(join(dir, 'data', 'a.bin'), original);
  await writeFile(join(dir, 'data', 'sub', 'a.bin'), original);
  await writeFile(join(dir, 'outside', 'a.bin'), secret);
  await writeFile(join(dir, 'outside', 'secret.bin'), secret);
  await symlink(join(dir, 'data', 'a.bin'), join(dir, 'data', 'link.bin'));
  sources = await Sources.create({ allow: ['data/'], baseDir: dir });
});
afterEach(async () => {
  await sources.close();
  vi.useRealTimers();
  await rm(dir, { recursive: true, force: true });
});

const later = () => vi.setSystemTime(Date.now() + 1500);

async function served(ref: ChunkReference): Promise<{ bytes: Uint8Array; etag: string }> {
  const opened = await sources.open(ref, join(dir, 'refs'));
  const length = ref.kind === 'range' ? ref.length : 0;
  const bytes = await opened.read({ start: 0, end: length });
  return { bytes, etag: etagOf(ref.kind === 'range' ? ref.url : '', ref.kind === 'range' ? ref.offset : 0, length, opened.version ?? '') };
}

describe('small reads of local files lent pooled buffers', () => {
  it('each lent read has a buffer of its own until released, then the buffer is reused', async () => {
    await writeFile(
      join(dir, 'data', 'big.bin'),
      Uint8Array.from({ length: 200_000 }, (_, i) => (i * 31) % 255),
    );
    const opened = await sources.open({ kind: 'range', url: '../data/big.bin', offset: 1000, length: 150_000 }, join(dir, 'refs'));
    const releases: Array<() => void> = [];
    const lend = (release: () => void) => {
      releases.push(release);
      return true;
    };
    const first = await opened.read({ start: 0, end: 51_200 }, undefined, lend);
    const second = await opened.read({ start: 51_200, end: 102_400 }, undefined, lend);
    expect(second.buffer).not.toBe(first.buffer); // never lent twice at once
    const expected = (from: number) => Uint8Array.from({ length: 51_200 }, (_, i) => ((1000 + from + i) * 31) % 255);
    expect(first).toEqual(expected(0));
    expect(second).toEqual(expected(51_200));
    releases[0]?.();
    releases[0]?.(); // twice: still handed back once
    const third = await opened.read({ start: 0, end: 51_200 }, undefined, lend);
    expect(third.buffer).toBe(first.buffer);
    expect(third).toEqual(expected(0));
    const fourth = await opened.read({ start: 51_200, end: 102_400 }, undefined, lend);
    expect(fourth.buffer).not.toBe(third.buffer);
    expect(fourth.buffer).not.toBe(second.buffer);
    // a caller that cannot hand the buffer back gets a fresh one
    const fresh = await opened.read({ start: 0, end: 51_200 }, undefined, () => false);
    expect(fresh).toEqual(expected(0));
    expect([first.buffer, second.buffer, fourth.buffer]).not.toContain(fresh.buffer);
  });
});

describe('recent decisions of local files', () => {
  it('serve the same bytes and ETag as the first, checked, read', async () => {
    const ref: ChunkReference = { kind: 'range', url: '../data/a.bin', offset: 100, length: 4000 };
    const first = await served(ref);
    const again = await served(ref);
    expect(first.bytes).toEqual(original.subarray(100, 4100));
    expect(again.bytes).toEqual(first.bytes);
    expect(again.etag).toBe(first.etag);
    expect(again.bytes).not.toBe(first.bytes); // a buffer of its own: callers may keep it
  });

  it('see a file replaced in place, or renamed over, once the window has passed: new bytes, new ETag', async () => {
    const ref: ChunkReference = { kind: 'range', url: '../data/a.bin', offset: 0, length: 8192 };
    const before = await served(ref);
    await writeFile(join(dir, 'data', 'new.bin'), replaced);
    await rename(join(dir, 'data', 'new.bin'), join(dir, 'data', 'a.bin'));
    later();
    const after = await served(ref);
    expect(after.bytes).toEqual(replaced.subarray(0, 8192));
    expect(after.etag).not.toBe(before.etag);
    // rewritten in place (same inode, other size): a new version too
    await writeFile(join(dir, 'data', 'a.bin'), original);
    later();
    const rewritten = await served(ref);
    expect(rewritten.bytes).toEqual(original);
    expect(rewritten.etag).not.toBe(after.etag);
  });

  it('never serve outside the roots through a symlink swapped after the decision', async () => {
    const ref: ChunkReference = { kind: 'range', url: '../data/link.bin', offset: 0, length: 16 };
    expect((await served(ref)).bytes).toEqual(original.subarray(0, 16));
    await rm(join(dir, 'data', 'link.bin'));
    await symlink(join(dir, 'outside', 'secret.bin'), join(dir, 'data', 'link.bin'));
    // within the window the decision still names the file inside the roots, never the new target
    expect((await served(ref)).bytes).toEqual(original.subarray(0, 16));
    later();
    await expect(served(ref)).rejects.toBeInstanceOf(SourceForbiddenError);
    await expect(served(ref)).rejects.toBeInstanceOf(SourceForbiddenError); // refusals are never kept
  });

  it('never serve outside the roots through a directory on the way swapped for a symlink', async () => {
    const ref: ChunkReference = { kind: 'range', url: '../data/sub/a.bin', offset: 0, length: 16 };
    expect((await served(ref)).bytes).toEqual(original.subarray(0, 16));
    await rename(join(dir, 'data', 'sub'), join(dir, 'data', 'sub-old'));
    await symlink(join(dir, 'outside'), join(dir, 'data', 'sub'));
    for (let i = 0; i < 3; i++) {
      const result = await served(ref).catch((error: unknown) => error);
      if (result instanceof Error) expect(result).toBeInstanceOf(SourceForbiddenError);
      else expect((result as { bytes: Uint8Array }).bytes).toEqual(original.subarray(0, 16));
      later();
    }
    await expect(served(ref)).rejects.toBeInstanceOf(SourceForbiddenError);
  });
});
