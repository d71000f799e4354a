import { CodecError } from './codec.js';

/**
 * What the frames of a zstd stream say about their decoded size, read from the frame and block
 * headers alone (RFC 8878), without decompressing anything.
 */
export interface ZstdFrames {
  /** Sum of the frames' Frame_Content_Size fields; undefined when a frame has none. */
  readonly contentSize: number | undefined;
  /**
   * The most bytes the frames can decode to: a frame's content size where it has one (decoders
   * refuse a frame whose content differs from it), else the sum of its blocks' largest sizes
   * (raw and RLE blocks: their size; compressed blocks: Block_Maximum_Size).
   */
  readonly bound: number;
  /** Largest Window_Size of a frame without a content size (0 when every frame has one). */
  readonly window: number;
  readonly frames: number;
}

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const BLOCK_SIZE_MAX = 128 * 1024;

/** Reads the frame and block headers of `data` (one or more frames), or a CodecError saying why it is not zstd. */
export function zstdFrames(data: Uint8Array): ZstdFrames {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const corrupt = (detail: string): CodecError => new CodecError('zstd', `corrupt data: ${detail}`);
  const need = (at: number, bytes: number): void => {
    if (at + bytes > data.byteLength) throw corrupt(`truncated at byte ${at} of ${data.byteLength}`);
  };
  let contentSize: number | undefined = 0;
  let bound = 0;
  let window = 0;
  let frames = 0;
  let p = 0;
  if (data.byteLength === 0) throw corrupt('no zstd frame in 0 bytes');
  while (p < data.byteLength) {
    need(p, 4);
    const magic = view.getUint32(p, true);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      need(p, 8);
      const size = view.getUint32(p + 4, true);
      need(p + 8, size);
      p += 8 + size;
      continue;
    }
    if (magic !== FRAME_MAGIC) throw corrupt(`no zstd frame at byte ${p} (magic 0x${magic.toString(16)})`);
    frames++;
    need(p, 5);
    const descriptor = view.getUint8(p + 4);
    if (descriptor & 0x08) throw corrupt('reserved bit set in a frame header');
    const fcsFlag = descriptor >>> 6;
    const singleSegment = (descriptor & 0x20) !== 0;
    const checksum = (descriptor & 0x04) !== 0;
    const dictionaryIdBytes = [0, 1, 2, 4][descriptor & 0x03] as number;
    let q = p + 5;
    let windowSize = 0;
    if (!singleSegment) {
      need(q, 1);
      const w = view.getUint8(q++);
      const windowBase = 2 ** (10 + (w >>> 3));
      windowSize = windowBase + (windowBase / 8) * (w & 0x07);
    }
    q += dictionaryIdBytes;
    const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : 1 << fcsFlag;
    need(q, fcsBytes);
    let fcs: number | undefined;
    switch (fcsBytes) {
      case 1:
        fcs = view.getUint8(q);
        break;
      case 2:
        fcs = view.getUint16(q, true) + 256;
        break;
      case 4:
        fcs = view.getUint32(q, true);
        break;
      case 8:
        fcs = view.getUint32(q + 4, true) * 2 ** 32 + view.getUint32(q, true);
        break;
      default:
        fcs = undefined;
    }
    q += fcsBytes;
    if (singleSegment) windowSize = fcs as number;
    const blockMax = Math.min(windowSize, BLOCK_SIZE_MAX);
    let blocksBound = 0;
    for (let last = false; !last; ) {
      need(q, 3);
      const h = view.getUint8(q) | (view.getUint8(q + 1) << 8) | (view.getUint8(q + 2) << 16);
      last = (h & 1) !== 0;
      const type = (h >>> 1) & 3;
      const size = h >>> 3;
      q += 3;
      if (type === 3) throw corrupt('reserved block type');
      if (size > blockMax) throw corrupt(`block of ${size} bytes in a frame whose blocks hold at most ${blockMax}`);
      if (type === 1) {
        need(q, 1);
        q += 1;
        blocksBound += size;
      } else {
        need(q, size);
        q += size;
        blocksBound += type === 0 ? size : blockMax;
      }
    }
    if (checksum) {
      need(q, 4);
      q += 4;
    }
    if (fcs === undefined) {
      contentSize = undefined;
      bound += blocksBound;
      window = Math.max(window, windowSize);
    } else {
      if (contentSize !== undefined) contentSize += fcs;
      bound += Math.min(fcs, blocksBound);
    }
    p = q;
  }
  return { contentSize, bound, window, frames };
}
