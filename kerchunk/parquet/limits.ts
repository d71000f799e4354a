/**
 * Bounds on what one record file may declare. A reference record is a few columns of at most
 * record_size rows; anything past these is refused with a ReferenceFormatError before memory or
 * time is spent on it.
 */
export const LIMITS = {
  /** Rows of one record file, whatever record_size says (fsspec writes 10 000 to 100 000). */
  recordRows: 1 << 20,
  /**
   * Footer (file metadata) bytes. A record's footer is a few KiB; hyparquet needs ~25 bytes of
   * heap and ~0.3 µs per footer byte, so this bounds one parse to ~7 MiB and ~80 ms.
   */
  footerBytes: 256 * 1024,
  /** The span of offset indexes read at once (a 100 000-row record has ~3 KiB). */
  indexBytes: 1024 * 1024,
  /**
   * Compressed bytes of one column chunk (a 100 000-row record column is about 1 MB), and
   * uncompressed bytes of one page (fastparquet writes a page per chunk: inline data of a few
   * hundred bytes a row). With four reads at a time, a burst of misses holds at most 4 × 2 × 16 MiB.
   */
  columnChunkBytes: 16 * 1024 * 1024,
  pageBytes: 16 * 1024 * 1024,
  /** A column chunk this small without an offset index is read whole with every row range. */
  smallChunkBytes: 64 * 1024,
  /** The pages a lookup needs are read with one system call when they lie within this span. */
  coalesceBytes: 256 * 1024,
  /** Rows read at once from a file with offset indexes (pieces of the record). */
  pieceRows: 1024,
} as const;
