import type { ChunkMessage } from './chunk-peers.js';

/** Keys remembered at most (~150 bytes each); the oldest are forgotten first. */
const DEFAULT_MAX_KEYS = 100_000;

/**
 * The primary's side of the chunk messages (server/chunk-peers.ts): which worker holds which
 * processed chunk in memory only, and the routing of a worker's ask to the holder and of the
 * holder's reply back. It answers an ask nobody can serve at once, so a cold miss waits for one
 * round trip to an idle primary, never for a busy worker.
 *
 * Bounded: at most `maxKeys` keys (a forgotten key only costs an encode), nothing kept per ask.
 */
export class ChunkDirectory {
  /** Key → the worker holding it (Map: keys are request-derived text). */
  private readonly holders = new Map<string, number>();

  constructor(private readonly maxKeys = DEFAULT_MAX_KEYS) {}

  /**
   * Handles `message` from worker `from`; `sendTo(worker, message)` delivers to a worker and is
   * false when that worker is gone.
   */
  route(from: number, message: ChunkMessage, sendTo: (worker: number, message: ChunkMessage) => boolean): void {
    switch (message.strato) {
      case 'chunk-held':
        this.holders.delete(message.key);
        this.holders.set(message.key, from);
        if (this.holders.size > this.maxKeys) {
          const oldest = this.holders.keys().next();
          if (!oldest.done) this.holders.delete(oldest.value);
        }
        return;
      case 'chunk-released':
        if (this.holders.get(message.key) === from) this.holders.delete(message.key);
        return;
      case 'chunk-wanted': {
        const holder = this.holders.get(message.key);
        const forwarded = holder !== undefined && holder !== from && sendTo(holder, { strato: 'chunk-write', key: message.key, ask: message.ask, asker: from });
        if (!forwarded) sendTo(from, { strato: 'chunk-answer', ask: message.ask, written: false });
        return;
      }
      case 'chunk-written':
        sendTo(message.asker, { strato: 'chunk-answer', ask: message.ask, written: message.written });
        return;
      default:
        return;
    }
  }

  /** Forgets what worker `worker` held (it exited). */
  forget(worker: number): void {
    for (const [key, holder] of this.holders) if (holder === worker) this.holders.delete(key);
  }

  /** Keys known (tests, metrics). */
  get size(): number {
    return this.holders.size;
  }
}
