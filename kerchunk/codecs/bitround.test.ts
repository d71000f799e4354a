import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { bitRound, bitRoundInPlace, bitRoundValuesInPlace } from './bitround.js';
import { CodecError } from './codec.js';
import { makeCases } from './fixtures/cases.js';
import { codecFromConfig } from './registry.js';

const cases = await makeCases();
afterAll(() => rm(cases.dir, { recursive: true, force: true }));

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

describe('bitRound equals numcodecs.BitRound byte for byte (NaN payloads, ±inf, subnormals, -0, random bits)', () => {
  const rows = cases.bitround.flatMap((c) => Object.keys(c.encoded).map((k) => [c.dtype, Number(k), c] as const));
  it.each(rows)('%s keepbits %i', async (dtype, keepbits, c) => {
    const raw = await cases.read(c.raw);
    const rounded = bitRound(raw, dtype, keepbits);
    expect(same(rounded, await cases.read(c.encoded[String(keepbits)] as string))).toBe(true);
    expect(same(raw, await cases.read(c.raw))).toBe(true); // input untouched
  });

  it('rounds misaligned input the same as aligned input', async () => {
    const c = cases.bitround.find((b) => b.dtype === '<f8');
    const raw = await cases.read(c!.raw);
    const shifted = new Uint8Array(raw.length + 3).subarray(3);
    shifted.set(raw);
    bitRoundInPlace(shifted, '<f8', 9);
    expect(same(shifted, await cases.read(c!.encoded['9'] as string))).toBe(true);
  });
});

describe('bitRound semantics', () => {
  const f4 = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);
  const f8 = (values: number[]) => new Uint8Array(new Float64Array(values).buffer);

  it('keepbits at or beyond the mantissa width is the identity', () => {
    const raw = f4([1.1, NaN, -3.3e-40]);
    expect(same(bitRound(raw, '<f4', 23), raw)).toBe(true);
    expect(same(bitRound(raw, '<f4', 40), raw)).toBe(true);
    expect(same(bitRound(f8([Math.PI]), '<f8', 52), f8([Math.PI]))).toBe(true);
  });

  it('rounds halves to even on the kept bits', () => {
    // 1 + 2^-2 + 2^-3 with 2 kept bits → halfway between 1.25 and 1.5: rounds to 1.5 (even: ...11 → ...10 + carry)
    expect([...new Float32Array(bitRound(f4([1.375, 1.125, 1.0625]), '<f4', 2).buffer)]).toEqual([1.5, 1, 1]);
  });

  it('keeps the fill value bit for bit when asked (numcodecs rounds it)', () => {
    const fill = -999.9; // mantissa bits everywhere: bit-rounding changes it
    const raw = f4([fill, 1.2345, fill]);
    const plain = new Float32Array(bitRound(raw, '<f4', 3).buffer);
    const kept = new Float32Array(bitRound(raw, '<f4', 3, { fillValue: fill }).buffer);
    expect(plain[0]).not.toBe(Math.fround(fill));
    expect([kept[0], kept[2]]).toEqual([Math.fround(fill), Math.fround(fill)]);
    expect(kept[1]).toBe(plain[1]);
    const raw8 = f8([fill, 1.2345]);
    const kept8 = new Float64Array(bitRound(raw8, '<f8', 3, { fillValue: fill }).buffer);
    expect(kept8[0]).toBe(fill);
    expect(kept8[1]).toBe(new Float64Array(bitRound(raw8, '<f8', 3).buffer)[1]);
  });

  it('keeps every NaN (with its payload) when the fill value is NaN', () => {
    const words = new Uint32Array([0x7fc00000, 0xffc00001, 0x3f9e0419]);
    const raw = new Uint8Array(words.buffer);
    const numcodecs = new Uint32Array(bitRound(raw, '<f4', 0).buffer);
    expect(numcodecs[0]).toBe(0x80000000); // numcodecs turns this NaN into -0.0 at keepbits 0
    const kept = new Uint32Array(bitRound(raw, '<f4', 0, { fillValue: 'NaN' }).buffer);
    expect([kept[0], kept[1]]).toEqual([0x7fc00000, 0xffc00001]);
    expect(kept[2]).toBe(numcodecs[2]);
  });

  it('works on native-order Float32Array/Float64Array values, returning a new array', async () => {
    for (const c of cases.bitround.filter((b) => b.dtype.startsWith('<'))) {
      const raw = await cases.read(c.raw);
      const expected = await cases.read(c.encoded['4'] as string);
      const values = c.dtype === '<f4' ? new Float32Array(raw.slice().buffer) : new Float64Array(raw.slice().buffer);
      const rounded = bitRound(values, 4);
      expect(rounded.constructor).toBe(values.constructor);
      expect(same(new Uint8Array(rounded.buffer), expected)).toBe(true);
      expect(same(new Uint8Array(values.buffer), raw)).toBe(true);
    }
  });

  it('rounds native-order Float32Array/Float64Array values in place, equal to numcodecs', async () => {
    for (const c of cases.bitround.filter((b) => b.dtype.startsWith('<'))) {
      const raw = await cases.read(c.raw);
      const values = c.dtype === '<f4' ? new Float32Array(raw.slice().buffer) : new Float64Array(raw.slice().buffer);
      bitRoundValuesInPlace(values, 4);
      expect(same(new Uint8Array(values.buffer), await cases.read(c.encoded['4'] as string))).toBe(true);
    }
  });

  it('keepNaN leaves NaNs alone whatever the fill value', () => {
    const values = new Float64Array(new BigUint64Array([0x7ff8000000000001n, 0x7ff0000000000000n, 0x3ff3c083126e978dn]).buffer);
    const kept = new BigUint64Array(bitRound(values, 0, { keepNaN: true, fillValue: -1 }).buffer);
    expect(kept[0]).toBe(0x7ff8000000000001n);
    expect(kept[1]).toBe(0x7ff0000000000000n); // +inf: unchanged by rounding anyway
    expect(kept[2]).toBe(new BigUint64Array(bitRound(values, 0).buffer)[2]);
  });

  it('the codec rounds on encode, keeps the fill value through preserveFill, and decodes as the identity', async () => {
    const raw = f4([-9999, 1.2345]);
    const codec = codecFromConfig({ id: 'bitround', keepbits: 2 }, { dtype: '<f4', preserveFill: -9999 });
    const encoded = new Float32Array((await codec.encode(raw)).buffer);
    expect(encoded[0]).toBe(-9999);
    expect(encoded[1]).toBe(1.25);
    expect(await codec.decode(raw)).toBe(raw);
  });

  it('refuses non-float dtypes and negative keepbits', () => {
    expect(() => bitRound(new Uint8Array(4), '<i4', 3)).toThrow(CodecError);
    expect(() => bitRound(new Uint8Array(4), '<f4', -1)).toThrow(/keepbits/);
    expect(() => codecFromConfig({ id: 'bitround', keepbits: -2 })).toThrow(/bitround/);
  });
});
