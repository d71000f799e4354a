import { describe, expect, it } from 'vitest';
import { xdrArrayHeader, xdrArraySize, xdrPadding, xdrScalar, xdrScalarSize, xdrValues } from './xdr.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('XDR encoding', () => {
  it('prefixes arrays with their length twice', () => {
    expect(hex(xdrArrayHeader(5))).toBe('0000000500000005');
  });

  it('writes big-endian 4- and 8-byte values', () => {
    expect(hex(xdrValues('Float32', new Float32Array([1, -2])))).toBe('3f800000c0000000');
    expect(hex(xdrValues('Float64', new Float64Array([1])))).toBe('3ff0000000000000');
    expect(hex(xdrValues('Int32', new Int32Array([1, -1])))).toBe('00000001ffffffff');
    expect(hex(xdrValues('UInt32', new Uint32Array([4294967295])))).toBe('ffffffff');
  });

  it('widens Int16 and UInt16 to 4 bytes, sign-extended or not', () => {
    expect(hex(xdrValues('Int16', new Int16Array([-2, 3])))).toBe('fffffffe00000003');
    expect(hex(xdrValues('UInt16', new Uint16Array([65535])))).toBe('0000ffff');
  });

  it('packs bytes, keeping the bits of int8', () => {
    expect(hex(xdrValues('Byte', new Int8Array([-1, 2, -128])))).toBe('ff0280');
    expect(hex(xdrValues('Byte', new Uint8Array([7])))).toBe('07');
    expect(xdrPadding(3)).toBe(1);
    expect(xdrPadding(4)).toBe(0);
    expect(xdrArraySize('Byte', 5)).toBe(8 + 8);
  });

  it('sends 64-bit integers as Float64', () => {
    expect(hex(xdrValues('Float64', new BigInt64Array([2n ** 40n])))).toBe(hex(xdrValues('Float64', new Float64Array([2 ** 40]))));
  });

  it('does not change the values it encodes', () => {
    const values = new Float32Array([1, 2]);
    xdrValues('Float32', values);
    expect([...values]).toEqual([1, 2]);
  });

  it('writes scalars as whole XDR units', () => {
    expect(hex(xdrScalar('Byte', new Uint8Array([200])))).toBe('000000c8');
    expect(hex(xdrScalar('Float64', new Float64Array([2])))).toBe('4000000000000000');
    expect(xdrScalarSize('Byte')).toBe(4);
    expect(xdrScalarSize('Float64')).toBe(8);
    expect(xdrArraySize('Int16', 3)).toBe(8 + 12);
  });
});
