/**
 * The other server processes of `strato serve --workers N`, as the encoded-chunk cache sees
 * them (server/chunk-peers.ts implements it over the cluster's IPC channel).
 *
 * A chunk one process encoded stays in its memory only until another process asks for it: then
 * the holder writes it to the disk tier they share and the asker serves it from there. A cold pass
 * so costs no disk writes (on this kind of machine a write of fresh page-cache pages cost more
 * than a third of an encode), and a second pass is still warm in every process.
 */
export interface ChunkPeers {
  /** This process encoded `key` and holds it in memory only. */
  holding(key: string): void;
  /** This process no longer holds `key` in memory only (evicted, or written to the disk tier). */
  released(key: string): void;
  /**
   * Asks the process holding `key` in memory only (if any) to write it to the disk tier. True
   * once it is written; false when no other process holds it, or it did not answer in time.
   */
  askToWrite(key: string): Promise<boolean>;
  /** Answers the other processes' `askToWrite` with `write` (true once `key` is on disk). */
  answer(write: (key: string) => Promise<boolean>): void;
}
