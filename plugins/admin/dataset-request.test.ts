import { describe, expect, it } from 'vitest';
import { HttpProblem } from '../../server/http/problem.js';
import { datasetRecord } from './dataset-request.js';

const problem = (body: unknown, pathId?: string): HttpProblem => {
  try {
    datasetRecord(body, pathId);
  } catch (error) {
    if (error instanceof HttpProblem) return error;
    throw error;
  }
  throw new Error('accepted');
};

describe('datasetRecord', () => {
  it('keeps the known fields, in the record shape the catalog store writes', () => {
    const body = { id: 'tas', refs: 'refs/tas.json', title: 'T', description: 'D', license: 'CC0-1.0', processing: { keepbits: 10 }, stac: { keywords: ['a'] } };
    expect(datasetRecord(body)).toEqual(body);
    expect(datasetRecord({ refs: 'r.json' }, 'from-path')).toEqual({ id: 'from-path', refs: 'r.json' });
  });

  it('refuses malformed bodies with 400 and a reason', () => {
    expect(problem(null).detail).toMatch(/JSON object/);
    expect(problem({ id: 'a', refs: 'r', extra: 1 }).detail).toMatch(/unknown field\(s\) "extra"/);
    expect(problem({ id: 'a b', refs: 'r' }).detail).toMatch(/must match/);
    expect(problem({ id: 'a', refs: '' }).detail).toMatch(/"refs" is required/);
    expect(problem({ id: 'a', refs: 'r\u0000' }).detail).toMatch(/control characters/);
    expect(problem({ id: 'a', refs: 'r', license: ['x'] }).detail).toMatch(/"license" must be text/);
    expect(problem({ id: 'a', refs: 'r', stac: 'x' }).detail).toMatch(/"stac" must be a JSON object/);
    expect(problem({ id: 'b', refs: 'r' }, 'a').detail).toMatch(/differs from the URL/);
    expect(problem({ id: 5, refs: 'r' }).status).toBe(400);
  });
});
