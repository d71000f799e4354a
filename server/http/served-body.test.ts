import { describe, expect, it } from 'vitest';
import { answerOf, type BodyFacts, headersObject } from './served-body.js';

const body: BodyFacts = { size: 100, etag: '"e1"', contentType: 'application/octet-stream', cacheControl: 'public, max-age=60' };
const OWN = ['content-type', 'application/octet-stream', 'cache-control', 'public, max-age=60', 'etag', '"e1"', 'accept-ranges', 'bytes'];

describe('answerOf', () => {
  it('answers 200, 206, 304 and 416 with the same fields whether or not a head leads them', () => {
    const cases: Array<[string, string | undefined, string | undefined]> = [
      ['GET', undefined, undefined],
      ['HEAD', undefined, undefined],
      ['GET', undefined, 'bytes=10-19'],
      ['GET', '"e1"', undefined],
      ['GET', undefined, 'bytes=500-'],
      ['GET', undefined, 'bytes=abc'],
    ];
    for (const [method, ifNoneMatch, range] of cases) {
      const alone = answerOf(method, ifNoneMatch, range, body);
      const led = answerOf(method, ifNoneMatch, range, body, ['x-request-id', 'r1']);
      expect(led.fields).toEqual(['x-request-id', 'r1', ...alone.fields]);
      expect({ ...led, fields: [] }).toEqual({ ...alone, fields: [] });
    }
  });

  it('declares what it sends', () => {
    expect(answerOf('GET', undefined, undefined, body).fields).toEqual([...OWN, 'content-length', '100']);
    expect(answerOf('GET', undefined, 'bytes=10-19', body)).toMatchObject({
      status: 206,
      start: 10,
      end: 20,
      send: true,
      fields: [...OWN, 'content-length', '10', 'content-range', 'bytes 10-19/100'],
    });
    expect(answerOf('HEAD', undefined, undefined, body)).toMatchObject({ status: 200, send: false });
    expect(answerOf('GET', 'W/"e1"', undefined, body)).toEqual({ status: 304, fields: OWN });
    const refused = answerOf('GET', undefined, 'bytes=100-', body);
    expect(refused.status).toBe(416);
    expect(headersObject(refused.fields)['content-range']).toBe('bytes */100');
  });
});
