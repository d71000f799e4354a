/** Bob Jenkins' lookup3 `hashlittle` (initval 0): the checksum of HDF5's version-2 metadata. */
export function lookup3(data: Uint8Array, init = 0): number {
  let length = data.length;
  let a = (0xdeadbeef + length + init) | 0;
  let b = a;
  let c = a;
  let i = 0;
  const rot = (x: number, k: number) => (x << k) | (x >>> (32 - k));
  const word = (at: number) => data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24);
  while (length > 12) {
    a = (a + word(i)) | 0;
    b = (b + word(i + 4)) | 0;
    c = (c + word(i + 8)) | 0;
    a = (a - c) | 0;
    a ^= rot(c, 4);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rot(a, 6);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rot(b, 8);
    b = (b + a) | 0;
    a = (a - c) | 0;
    a ^= rot(c, 16);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rot(a, 19);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rot(b, 4);
    b = (b + a) | 0;
    length -= 12;
    i += 12;
  }
  if (length === 0) return c >>> 0;
  // the last 1..12 bytes, little-endian into a, b, c
  const tail = [0, 0, 0];
  for (let k = 0; k < length; k++) tail[k >> 2]! += data[i + k]! << (8 * (k & 3));
  a = (a + tail[0]!) | 0;
  b = (b + tail[1]!) | 0;
  c = (c + tail[2]!) | 0;
  c ^= b;
  c = (c - rot(b, 14)) | 0;
  a ^= c;
  a = (a - rot(c, 11)) | 0;
  b ^= a;
  b = (b - rot(a, 25)) | 0;
  c ^= b;
  c = (c - rot(b, 16)) | 0;
  a ^= c;
  a = (a - rot(c, 4)) | 0;
  b ^= a;
  b = (b - rot(a, 14)) | 0;
  c ^= b;
  c = (c - rot(b, 24)) | 0;
  return c >>> 0;
}

/** Whether `bytes` end with the lookup3 checksum of what precedes it. */
export function checksumOk(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const n = bytes.length - 4;
  const stored = (bytes[n]! | (bytes[n + 1]! << 8) | (bytes[n + 2]! << 16) | (bytes[n + 3]! << 24)) >>> 0;
  return lookup3(bytes.subarray(0, n)) === stored;
}
