import { describe, expect, it } from 'vitest';
import { HttpProblem } from '../server/http/problem.js';
import { parseExecute } from './execute-request.js';

const request = (body: string, type = 'application/json') => new Request('http://x/processes/echo/execution', { method: 'POST', headers: { 'content-type': type }, body });

describe('parseExecute', () => {
  it('inputs into a Map, qualified values unwrapped, response mode', async () => {
    const parsed = await parseExecute(request('{"inputs": {"a": 1, "b": {"value": {"x": 2}}}, "response": "document"}'));
    expect([...parsed.inputs]).toEqual([
      ['a', 1],
      ['b', { x: 2 }],
    ]);
    expect(parsed.response).toBe('document');
    expect((await parseExecute(request(''))).inputs.size).toBe(0);
  });
  it('refuses prototype names, deep nesting, references, non-JSON, other media types', async () => {
    for (const [body, type] of [
      ['{"inputs": {"__proto__": 1}}', undefined],
      [`{"inputs": {"a": ${'['.repeat(100)}${']'.repeat(100)}}}`, undefined],
      ['{"inputs": {"a": {"href": "file:///etc/passwd"}}}', undefined],
      ['{"inputs": [1]}', undefined],
      ['{"response": "stream"}', undefined],
      ['nope', undefined],
      ['{}', 'text/plain'],
    ] as const) {
      await expect(parseExecute(request(body, type))).rejects.toBeInstanceOf(HttpProblem);
    }
  });
});
