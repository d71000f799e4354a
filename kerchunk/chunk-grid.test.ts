import { describe, expect, it } from 'vitest';
import { ChunkGrid, locateChunk } from './chunk-grid.js';

describe('ChunkGrid', () => {
  it('counts ceil(shape / chunks) chunks per dimension', () => {
    const grid = new ChunkGrid([5, 1249, 999], [2, 1249, 500]);
    expect(grid.counts).toEqual([3, 1, 2]);
    expect(grid.size).toBe(6);
  });

  it('numbers chunks in C order (last dimension fastest)', () => {
    const grid = new ChunkGrid([2, 1249, 999], [1, 1249, 999]);
    expect(grid.indexOf('0.0.0')).toBe(0);
    expect(grid.indexOf('1.0.0')).toBe(1);
    const grid3 = new ChunkGrid([4, 3, 5], [1, 1, 1]);
    expect(grid3.indexOf('2.1.3')).toBe(2 * 15 + 1 * 5 + 3);
    expect(grid3.indexOf('3.2.4')).toBe(grid3.size - 1);
  });

  it('turns every index back into its key', () => {
    const grid = new ChunkGrid([7, 3, 10], [2, 1, 4], '/');
    for (let index = 0; index < grid.size; index++) expect(grid.indexOf(grid.suffixOf(index))).toBe(index);
    expect(grid.suffixOf(grid.size - 1)).toBe('3/2/2');
    expect(() => grid.suffixOf(grid.size)).toThrow(RangeError);
  });

  it('answers undefined for suffixes that name no chunk', () => {
    const grid = new ChunkGrid([4, 6], [2, 3]);
    for (const suffix of ['2.0', '0.2', '0', '0.0.0', '', '.', '0.', '.0', 'a.0', '-1.0', '01.0', '1e0.0', ' 1.0', '1.0 ', '0x1.0', '1.5.0', '0/0', '+1.0']) {
      expect(grid.indexOf(suffix), suffix).toBeUndefined();
    }
    expect(grid.indexOf('1.1')).toBe(3);
  });

  it('uses the "/" separator when asked', () => {
    const grid = new ChunkGrid([4, 6], [2, 3], '/');
    expect(grid.indexOf('1/1')).toBe(3);
    expect(grid.indexOf('1.1')).toBeUndefined();
  });

  it('gives a 0-d array the single chunk "0"', () => {
    for (const chunks of [[], [1]]) {
      const grid = new ChunkGrid([], chunks);
      expect(grid.size).toBe(1);
      expect(grid.indexOf('0')).toBe(0);
      expect(grid.indexOf('0.0')).toBeUndefined();
      expect(grid.indexOf('1')).toBeUndefined();
      expect(grid.suffixOf(0)).toBe('0');
    }
  });

  it('has no chunks along an empty dimension', () => {
    const grid = new ChunkGrid([0, 10], [5, 5]);
    expect(grid.size).toBe(0);
    expect(grid.indexOf('0.0')).toBeUndefined();
  });

  it('rejects grids it cannot index', () => {
    expect(() => new ChunkGrid([10], [0])).toThrow(RangeError);
    expect(() => new ChunkGrid([10, 10], [5])).toThrow(RangeError);
    expect(() => new ChunkGrid([-1], [1])).toThrow(RangeError);
    expect(() => new ChunkGrid([2 ** 40, 2 ** 40], [1, 1])).toThrow(/2\^53/);
  });
});

describe('locateChunk', () => {
  const grids = new Map([
    ['T2', new ChunkGrid([2, 3], [1, 1])],
    ['group/v', new ChunkGrid([4], [2])],
    ['slashed', new ChunkGrid([2, 2], [1, 1], '/')],
  ]);

  it('finds the array and linear index of a key', () => {
    expect(locateChunk('T2/1.2', grids)).toEqual({ array: 'T2', index: 5 });
    expect(locateChunk('group/v/1', grids)).toEqual({ array: 'group/v', index: 1 });
    expect(locateChunk('slashed/1/0', grids)).toEqual({ array: 'slashed', index: 2 });
  });

  it('answers undefined for unknown arrays and chunks outside the grid', () => {
    for (const key of ['T3/0.0', 'T2/2.0', 'T2', 'group/0', 'group/v/2', '/T2/0.0', 'slashed/1.0', 'T2/0.0/', '']) {
      expect(locateChunk(key, grids), key).toBeUndefined();
    }
  });

  it('finds chunks of a root array', () => {
    expect(locateChunk('1.0', new Map([['', new ChunkGrid([2, 2], [1, 1])]]))).toEqual({ array: '', index: 2 });
  });
});
