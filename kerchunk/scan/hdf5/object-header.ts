import type { Hdf5File } from './file.js';

/** Header message types used by the scanner (HDF5 File Format Specification, section IV.A.2). */
export const MSG = {
  NIL: 0x00,
  DATASPACE: 0x01,
  LINK_INFO: 0x02,
  DATATYPE: 0x03,
  FILL_VALUE_OLD: 0x04,
  FILL_VALUE: 0x05,
  LINK: 0x06,
  EXTERNAL_FILES: 0x07,
  LAYOUT: 0x08,
  GROUP_INFO: 0x0a,
  FILTER_PIPELINE: 0x0b,
  ATTRIBUTE: 0x0c,
  CONTINUATION: 0x10,
  SYMBOL_TABLE: 0x11,
  ATTRIBUTE_INFO: 0x15,
} as const;

export interface HeaderMessage {
  readonly type: number;
  readonly flags: number;
  readonly data: Uint8Array;
}

export interface ObjectHeader {
  readonly address: number;
  readonly version: number;
  readonly messages: readonly HeaderMessage[];
}

/** Message flag bit 1: the message is stored elsewhere (shared / committed). */
export const MSG_FLAG_SHARED = 0x02;

/** Reads an object header (version 1 or 2) with all its continuation blocks. */
export async function readObjectHeader(file: Hdf5File, address: number): Promise<ObjectHeader> {
  const first = await file.read(address, 4);
  const isV2 = first[0] === 0x4f && first[1] === 0x48 && first[2] === 0x44 && first[3] === 0x52; // "OHDR"
  const messages: HeaderMessage[] = [];
  const pending: { address: number; length: number }[] = [];
  let version: number;
  let creationOrderTracked = false;

  if (isV2) {
    const prefix = file.cursorOf(await file.read(address, 4 + 1 + 1 + 16 + 4 + 8));
    prefix.skip(4);
    version = prefix.u8();
    if (version !== 2) file.fail(`object header at ${address}: unsupported version ${version}`);
    const flags = prefix.u8();
    if (flags & 0x20) prefix.skip(16); // times
    if (flags & 0x10) prefix.skip(4); // attribute phase change values
    creationOrderTracked = (flags & 0x04) !== 0;
    const sizeBytes = 1 << (flags & 0x03);
    const chunkSize = prefix.uint(sizeBytes);
    const start = prefix.position;
    const whole = await file.read(address, start + chunkSize + 4, 'object header');
    file.verify(whole, `object header at ${address}`);
    parseV2Messages(file, whole.subarray(start, start + chunkSize), creationOrderTracked, messages, pending);
  } else {
    const prefix = file.cursorOf(await file.read(address, 16));
    version = prefix.u8();
    if (version !== 1) file.fail(`object header at ${address}: unsupported version ${version} (or not an object header)`);
    prefix.skip(1);
    prefix.u16(); // total number of messages
    prefix.u32(); // reference count
    const size = prefix.u32();
    const chunk = await file.read(address + 16, size, `object header at ${address}: message block`);
    parseV1Messages(file, chunk, messages, pending);
  }

  const seen = new Set<number>();
  while (pending.length > 0) {
    const next = pending.shift()!;
    if (seen.has(next.address)) file.fail(`object header at ${address}: continuation loop`);
    seen.add(next.address);
    const block = await file.read(next.address, next.length, `object header at ${address}: continuation block`);
    if (isV2) {
      const c = file.cursorOf(block);
      c.signature('OCHK');
      file.verify(block, `object header continuation at ${next.address}`);
      parseV2Messages(file, block.subarray(4, block.length - 4), creationOrderTracked, messages, pending);
    } else {
      parseV1Messages(file, block, messages, pending);
    }
  }
  return { address, version, messages };
}

function parseV1Messages(file: Hdf5File, chunk: Uint8Array, messages: HeaderMessage[], pending: { address: number; length: number }[]): void {
  const c = file.cursorOf(chunk);
  while (c.remaining >= 8) {
    const type = c.u16();
    const size = c.u16();
    const flags = c.u8();
    c.skip(3);
    if (size > c.remaining) file.fail(`object header message of ${size} bytes overruns its block`);
    const data = c.take(size);
    addMessage(file, { type, flags, data }, messages, pending);
  }
}

function parseV2Messages(file: Hdf5File, chunk: Uint8Array, creationOrder: boolean, messages: HeaderMessage[], pending: { address: number; length: number }[]): void {
  const c = file.cursorOf(chunk);
  const headerSize = 4 + (creationOrder ? 2 : 0);
  while (c.remaining >= headerSize) {
    const type = c.u8();
    const size = c.u16();
    const flags = c.u8();
    if (creationOrder) c.skip(2);
    if (size > c.remaining) file.fail(`object header message of ${size} bytes overruns its block`);
    const data = c.take(size);
    addMessage(file, { type, flags, data }, messages, pending);
  }
}

function addMessage(file: Hdf5File, message: HeaderMessage, messages: HeaderMessage[], pending: { address: number; length: number }[]): void {
  if (message.type === MSG.CONTINUATION) {
    const c = file.cursorOf(message.data);
    const address = c.address();
    const length = c.length();
    if (address !== undefined && length > 0) pending.push({ address, length });
    return;
  }
  if (message.type === MSG.NIL) return;
  messages.push(message);
}
