import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskChunkCache } from '../views/disk-chunk-cache.js';
import { EncodedChunkCache } from '../views/processed-view.js';
import { ChunkDirectory } from './chunk-directory.js';
import { type ChunkChannel, type ChunkMessage, ClusterChunkPeers, chunkMessage } from './chunk-peers.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'strato-chunk-peers-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/**
 * Workers (`channel(id)`) and a primary routing between them with the real ChunkDirectory;
 * messages are delivered asynchronously and as JSON (as over the IPC channel). `drop` loses messages.
 */
function cluster(drop: (to: number | 'primary', message: ChunkMessage) => boolean = () => false) {
  const directory = new ChunkDirectory();
  const listeners = new Map<number, (message: unknown) => void>();
  const deliver = (listener: ((message: unknown) => void) | undefined, message: ChunkMessage) => {
    const wire = JSON.stringify(message);
    setImmediate(() => listener?.(JSON.parse(wire)));
  };
  const sendTo = (worker: number, message: ChunkMessage): boolean => {
    if (!listeners.has(worker)) return false;
    if (!drop(worker, message)) deliver(listeners.get(worker), message);
    return true;
  };
  const channel = (worker: number): ChunkChannel => ({
    send(message) {
      if (drop('primary', message)) return true;
      const wire = JSON.stringify(message);
      setImmediate(() => {
        const parsed = chunkMessage(JSON.parse(wire));
        if (parsed) directory.route(worker, parsed, sendTo);
      });
      return true;
    },
    listen(listener) {
      listeners.set(worker, listener);
    },
  });
  return { directory, channel };
}

async function tierFiles(dir: string): Promise<number> {
  return (await readdir(dir, { recursive: true })).filter((name) => /[0-9a-f]{64}$/.test(name)).length;
}

const never = async (): Promise<Uint8Array> => {
  throw new Error('encoded again');
};

async function twoWorkers(options: { timeoutMs?: number; drop?: (to: number | 'primary', message: ChunkMessage) => boolean } = {}) {
  const dir = join(root, 'tier');
  const disk = (await DiskChunkCache.open({ dir, maxBytes: 1 << 30 })) as DiskChunkCache;
  const { directory, channel } = cluster(options.drop);
  const peers = [1, 2].map((worker) => new ClusterChunkPeers(channel(worker), { timeoutMs: options.timeoutMs ?? 1000 }));
  const caches = peers.map((p) => new EncodedChunkCache(1 << 20, undefined, disk, undefined, undefined, p));
  return { dir, disk, directory, peers, caches };
}

describe('processed chunks shared between server processes on request', () => {
  it('a chunk one worker encoded is not written until another asks; then that one serves it from disk', async () => {
    const { dir, directory, caches } = await twoWorkers();
    const bytes = randomBytes(5000);
    const [first, second] = caches as [EncodedChunkCache, EncodedChunkCache];
    expect((await first.get('"a"', async () => bytes)).etag).toBe('"a"');
    // the primary learns who holds it; nothing is written
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(directory.size).toBe(1);
    expect(await tierFiles(dir)).toBe(0);
    // the other worker gets it without encoding: the holder wrote it for it
    const body = await second.get('"a"', never);
    expect(Buffer.from(await body.read(0, body.size)).equals(bytes)).toBe(true);
    expect(await tierFiles(dir)).toBe(1);
    // written once: the holder released it, and asking again finds the file
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(directory.size).toBe(0);
    const again = await new EncodedChunkCache(1 << 20, undefined, (await DiskChunkCache.open({ dir, maxBytes: 1 << 30 })) as DiskChunkCache).get('"a"', never);
    expect(again.size).toBe(bytes.byteLength);
  });

  it('a chunk nobody holds is answered at once and encoded by the asker', async () => {
    const { dir, caches, peers } = await twoWorkers({ timeoutMs: 60_000 });
    const bytes = randomBytes(100);
    const started = Date.now();
    const body = await (caches[1] as EncodedChunkCache).get('"b"', async () => bytes);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(body.size).toBe(100);
    expect(peers[1]?.pending).toBe(0);
    expect(await tierFiles(dir)).toBe(0);
  });

  it('a holder that never answers costs the asker its timeout, then an encode; nothing is left waiting', async () => {
    const { caches, peers } = await twoWorkers({ timeoutMs: 50, drop: (to, message) => to === 1 && message.strato === 'chunk-write' });
    await (caches[0] as EncodedChunkCache).get('"c"', async () => randomBytes(100));
    await new Promise((resolve) => setTimeout(resolve, 20));
    let encoded = 0;
    const body = await (caches[1] as EncodedChunkCache).get('"c"', async () => {
      encoded++;
      return randomBytes(100);
    });
    expect(body.size).toBe(100);
    expect(encoded).toBe(1);
    expect(peers[1]?.pending).toBe(0);
  });

  it('a holder that cannot write the chunk answers false, and the asker encodes it', async () => {
    const dir = join(root, 'tier');
    const { channel } = cluster();
    // the holder's bound refuses a 200-byte file (more than 1/8 of 800 bytes): its write is skipped
    const holderDisk = (await DiskChunkCache.open({ dir, maxBytes: 800 })) as DiskChunkCache;
    const askerDisk = (await DiskChunkCache.open({ dir, maxBytes: 1 << 30 })) as DiskChunkCache;
    const holder = new EncodedChunkCache(1 << 20, undefined, holderDisk, undefined, undefined, new ClusterChunkPeers(channel(1)));
    const asker = new EncodedChunkCache(1 << 20, undefined, askerDisk, undefined, undefined, new ClusterChunkPeers(channel(2)));
    await holder.get('"d"', async () => randomBytes(200));
    await new Promise((resolve) => setTimeout(resolve, 20));
    let encoded = 0;
    await asker.get('"d"', async () => {
      encoded++;
      return randomBytes(200);
    });
    expect(encoded).toBe(1);
    expect(await tierFiles(dir)).toBe(0);
  });

  it('many asks at once for one chunk are one write', async () => {
    const { dir, caches } = await twoWorkers();
    const bytes = randomBytes(3000);
    await (caches[0] as EncodedChunkCache).get('"e"', async () => bytes);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const bodies = await Promise.all(Array.from({ length: 20 }, () => (caches[1] as EncodedChunkCache).get('"e"', never)));
    for (const body of bodies) expect(Buffer.from(await body.read(0, body.size)).equals(bytes)).toBe(true);
    expect(await tierFiles(dir)).toBe(1);
  });

  it('bounds the asks waiting at once', async () => {
    const { channel } = cluster(() => true);
    const peers = new ClusterChunkPeers(channel(1), { timeoutMs: 60_000, maxWaiting: 3 });
    const asks = Array.from({ length: 5 }, (_, i) => peers.askToWrite(`"k${i}"`));
    expect(peers.pending).toBe(3);
    // the ones over the bound are answered false at once
    expect(await Promise.race([asks[4], new Promise((resolve) => setTimeout(() => resolve('waiting'), 50))])).toBe(false);
  });
});

describe('ChunkDirectory', () => {
  it('routes an ask to the holder, never back to the asker, and answers at once when nobody holds it', () => {
    const directory = new ChunkDirectory();
    const sent: Array<[number, ChunkMessage]> = [];
    const sendTo = (worker: number, message: ChunkMessage) => {
      sent.push([worker, message]);
      return true;
    };
    directory.route(1, { strato: 'chunk-held', key: 'k' }, sendTo);
    directory.route(1, { strato: 'chunk-wanted', key: 'k', ask: 7 }, sendTo);
    directory.route(2, { strato: 'chunk-wanted', key: 'k', ask: 8 }, sendTo);
    directory.route(1, { strato: 'chunk-written', ask: 8, asker: 2, written: true }, sendTo);
    expect(sent).toEqual([
      [1, { strato: 'chunk-answer', ask: 7, written: false }],
      [1, { strato: 'chunk-write', key: 'k', ask: 8, asker: 2 }],
      [2, { strato: 'chunk-answer', ask: 8, written: true }],
    ]);
  });

  it('answers false when the holder is gone, forgets an exited worker, and only the holder can release', () => {
    const directory = new ChunkDirectory();
    const sent: Array<[number, ChunkMessage]> = [];
    const alive = new Set([2]);
    const sendTo = (worker: number, message: ChunkMessage) => {
      if (!alive.has(worker)) return false;
      sent.push([worker, message]);
      return true;
    };
    directory.route(1, { strato: 'chunk-held', key: 'k' }, sendTo);
    directory.route(2, { strato: 'chunk-wanted', key: 'k', ask: 1 }, sendTo);
    expect(sent).toEqual([[2, { strato: 'chunk-answer', ask: 1, written: false }]]);
    directory.route(2, { strato: 'chunk-released', key: 'k' }, sendTo);
    expect(directory.size).toBe(1);
    directory.route(3, { strato: 'chunk-held', key: 'other' }, sendTo);
    directory.forget(1);
    expect(directory.size).toBe(1);
  });

  it('keeps at most maxKeys keys, forgetting the oldest', () => {
    const directory = new ChunkDirectory(3);
    for (let i = 0; i < 10; i++) directory.route(1, { strato: 'chunk-held', key: `k${i}` }, () => true);
    expect(directory.size).toBe(3);
    const sent: ChunkMessage[] = [];
    directory.route(2, { strato: 'chunk-wanted', key: 'k0', ask: 1 }, (_, m) => sent.push(m) > 0);
    directory.route(2, { strato: 'chunk-wanted', key: 'k9', ask: 2 }, (_, m) => sent.push(m) > 0);
    expect(sent).toEqual([
      { strato: 'chunk-answer', ask: 1, written: false },
      { strato: 'chunk-write', key: 'k9', ask: 2, asker: 2 },
    ]);
  });
});

describe('chunkMessage', () => {
  it('takes only well-formed chunk messages', () => {
    expect(chunkMessage({ strato: 'chunk-held', key: 'k' })).toEqual({ strato: 'chunk-held', key: 'k' });
    // extra fields are not passed on
    expect(chunkMessage({ strato: 'chunk-wanted', key: 'k', ask: 1, __proto__: { polluted: true }, extra: 1 })).toEqual({ strato: 'chunk-wanted', key: 'k', ask: 1 });
    for (const bad of [
      null,
      'chunk-held',
      { strato: 'listening', url: 'x' },
      { strato: '__proto__', key: 'k' },
      { strato: 'chunk-held' },
      { strato: 'chunk-held', key: '' },
      { strato: 'chunk-held', key: 'k'.repeat(1025) },
      { strato: 'chunk-held', key: 7 },
      { strato: 'chunk-wanted', key: 'k', ask: -1 },
      { strato: 'chunk-wanted', key: 'k', ask: 1.5 },
      { strato: 'chunk-wanted', key: 'k', ask: '1' },
      { strato: 'chunk-write', key: 'k', ask: 1 },
      { strato: 'chunk-written', ask: 1, asker: 2, written: 'yes' },
      { strato: 'chunk-answer', ask: 2 ** 60, written: true },
    ]) {
      expect(chunkMessage(bad)).toBeUndefined();
    }
  });
});
