import { describe, expect, it } from 'vitest';
import { attributeNumberText, fitsType, float32Text, looksLikeFloat32, servedType, wireBytes } from './dap-types.js';

describe('servedType', () => {
  it('maps Zarr dtypes onto DAP 2.0 atomic types', () => {
    expect(servedType('<f4')).toEqual({ type: 'Float32' });
    expect(servedType('>f8')).toEqual({ type: 'Float64' });
    expect(servedType('<i2')).toEqual({ type: 'Int16' });
    expect(servedType('<u2')).toEqual({ type: 'UInt16' });
    expect(servedType('<i4')).toEqual({ type: 'Int32' });
    expect(servedType('>u4')).toEqual({ type: 'UInt32' });
    expect(servedType('|u1')).toEqual({ type: 'Byte' });
    expect(servedType('|b1')).toEqual({ type: 'Byte' });
    expect(servedType('|i1')).toEqual({ type: 'Byte', signedByte: true });
  });
  it('serves 64-bit integers as Float64, saying so', () => {
    expect(servedType('<i8')).toMatchObject({ type: 'Float64', conversion: expect.stringContaining('int64') });
    expect(servedType('<u8')).toMatchObject({ type: 'Float64', conversion: expect.stringContaining('uint64') });
  });
  it('has no type for strings, complex numbers, datetimes and float16', () => {
    for (const dtype of ['|S8', '<U4', '<c8', '<M8[ns]', '|O', '<f2']) expect(servedType(dtype)).toBeUndefined();
  });
});

describe('wire sizes and number text', () => {
  it('widens 16-bit integers to 4 bytes and packs bytes', () => {
    expect(['Byte', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Float32', 'Float64'].map((t) => wireBytes(t as never))).toEqual([1, 4, 4, 4, 4, 4, 8]);
  });
  it('writes the shortest text that reads back to the same value', () => {
    expect(float32Text(Math.fround(0.1))).toBe('0.1');
    expect(float32Text(1.0000000116860974e-7)).toBe('1e-7');
    expect(float32Text(9.969209968386869e36)).toBe('9.96921e+36');
    expect(float32Text(150)).toBe('150');
    expect(float32Text(1e20)).toBe('1e+20');
    expect(attributeNumberText(1e20, 'Float64')).toBe('1e+20');
    expect(attributeNumberText(0.1, 'Float64')).toBe('0.1');
    expect(attributeNumberText(NaN, 'Float32')).toBe('NaN');
    expect(attributeNumberText(-Infinity, 'Float64')).toBe('-Infinity');
    expect(attributeNumberText(-32767, 'Int16')).toBe('-32767');
  });
  it('tells float32 values widened to float64 from plain doubles', () => {
    expect(looksLikeFloat32(1.0000000116860974e-7)).toBe(true);
    expect(looksLikeFloat32(2)).toBe(false);
    expect(looksLikeFloat32(0.1)).toBe(false);
    expect(looksLikeFloat32(100000)).toBe(false);
    expect(looksLikeFloat32(Math.fround(273.15))).toBe(true);
  });
  it('checks ranges of integer types', () => {
    expect(fitsType(255, 'Byte')).toBe(true);
    expect(fitsType(-1, 'Byte')).toBe(false);
    expect(fitsType(-32768, 'Int16')).toBe(true);
    expect(fitsType(40000, 'Int16')).toBe(false);
    expect(fitsType(1.5, 'Int32')).toBe(false);
    expect(fitsType(0.1, 'Float32')).toBe(false);
    expect(fitsType(0.5, 'Float32')).toBe(true);
  });
});
