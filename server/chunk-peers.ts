import type { ChunkPeers } from '../views/chunk-peers.js';

/**
 * The messages of `strato serve --workers N` about processed chunks (views/chunk-peers.ts), between
 * a worker and the primary (server/chunk-directory.ts routes them):
 * - `chunk-held` / `chunk-released`: a worker holds a chunk in memory only, or no longer does;
 * - `chunk-wanted`: a worker misses a chunk; the primary forwards it to the holder as `chunk-write`
 *   (with the asker's worker id), or answers `chunk-answer` with `written: false` at once;
 * - `chunk-written`: the holder's reply, which the primary hands to the asker as `chunk-answer`.
 */
export type ChunkMessage =
  | { readonly strato: 'chunk-held'; readonly key: string }
  | { readonly strato: 'chunk-released'; readonly key: string }
  | { readonly strato: 'chunk-wanted'; readonly key: string; readonly ask: number }
  | { readonly strato: 'chunk-write'; readonly key: string; readonly ask: number; readonly asker: number }
  | { readonly strato: 'chunk-written'; readonly ask: number; readonly asker: number; readonly written: boolean }
  | { readonly strato: 'chunk-answer'; readonly ask: number; readonly written: boolean };

/** Longest key passed on (the keys are processed chunks' ETags, ~70 characters). */
export const MAX_CHUNK_KEY_LENGTH = 1024;

const isKey = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= MAX_CHUNK_KEY_LENGTH;
const isId = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/** `message` as a chunk message, or undefined (anything else on the channel, or malformed). */
export function chunkMessage(message: unknown): ChunkMessage | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as Record<string, unknown>;
  switch (m.strato) {
    case 'chunk-held':
    case 'chunk-released':
      return isKey(m.key) ? { strato: m.strato, key: m.key } : undefined;
    case 'chunk-wanted':
      return isKey(m.key) && isId(m.ask) ? { strato: m.strato, key: m.key, ask: m.ask } : undefined;
    case 'chunk-write':
      return isKey(m.key) && isId(m.ask) && isId(m.asker) ? { strato: m.strato, key: m.key, ask: m.ask, asker: m.asker } : undefined;
    case 'chunk-written':
      return isId(m.ask) && isId(m.asker) && typeof m.written === 'boolean' ? { strato: m.strato, ask: m.ask, asker: m.asker, written: m.written } : undefined;
    case 'chunk-answer':
      return isId(m.ask) && typeof m.written === 'boolean' ? { strato: m.strato, ask: m.ask, written: m.written } : undefined;
    default:
      return undefined;
  }
}

/** How a worker talks to the primary: `send` is false when the message could not be sent. */
export interface ChunkChannel {
  send(message: ChunkMessage): boolean;
  /** Calls `listener` with every message from the primary. */
  listen(listener: (message: unknown) => void): void;
}

/** The IPC channel of a cluster worker (it does not keep the process alive). */
export function processChannel(): ChunkChannel {
  return {
    send(message) {
      if (!process.connected || !process.send) return false;
      try {
        // false from send() only means a backlog: the message is still sent. An error (the
        // primary went away) is the same as no answer: the asker's timeout covers it.
        process.send(message, undefined, undefined, () => undefined);
        return true;
      } catch {
        return false;
      }
    },
    listen(listener) {
      process.on('message', listener);
      process.channel?.unref();
    },
  };
}

export interface ClusterChunkPeersOptions {
  /** How long an ask waits for the holder's write (default 1 s); then the asker encodes the chunk itself. */
  readonly timeoutMs?: number;
  /** Asks waiting at once, at most (default 256); more are answered false at once. */
  readonly maxWaiting?: number;
}

/** A worker's side of views/chunk-peers.ts over a `ChunkChannel` to the primary. */
export class ClusterChunkPeers implements ChunkPeers {
  private nextAsk = 1;
  private readonly waiting = new Map<number, (written: boolean) => void>();
  private write: ((key: string) => Promise<boolean>) | undefined;
  private readonly timeoutMs: number;
  private readonly maxWaiting: number;

  constructor(
    private readonly channel: ChunkChannel = processChannel(),
    options: ClusterChunkPeersOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.maxWaiting = options.maxWaiting ?? 256;
    channel.listen((message) => this.received(chunkMessage(message)));
  }

  holding(key: string): void {
    this.channel.send({ strato: 'chunk-held', key });
  }

  released(key: string): void {
    this.channel.send({ strato: 'chunk-released', key });
  }

  askToWrite(key: string): Promise<boolean> {
    if (this.waiting.size >= this.maxWaiting) return Promise.resolve(false);
    const ask = this.nextAsk++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(false), this.timeoutMs);
      timer.unref();
      const settle = (written: boolean) => {
        clearTimeout(timer);
        this.waiting.delete(ask);
        resolve(written);
      };
      this.waiting.set(ask, settle);
      if (!this.channel.send({ strato: 'chunk-wanted', key, ask })) settle(false);
    });
  }

  answer(write: (key: string) => Promise<boolean>): void {
    this.write = write;
  }

  /** Asks still waiting for their answer (tests). */
  get pending(): number {
    return this.waiting.size;
  }

  private received(message: ChunkMessage | undefined): void {
    if (message?.strato === 'chunk-answer') this.waiting.get(message.ask)?.(message.written);
    else if (message?.strato === 'chunk-write') {
      const { ask, asker, key } = message;
      const write = this.write ? this.write(key).catch(() => false) : Promise.resolve(false);
      void write.then((written) => this.channel.send({ strato: 'chunk-written', ask, asker, written }));
    }
  }
}
