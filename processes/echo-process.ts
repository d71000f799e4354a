import type { JsonValue } from '../kerchunk/reference.js';
import { badRequest } from '../server/http/problem.js';
import type { ProcessDefinition } from './process.js';

const KINDS: ReadonlyArray<readonly [string, JsonValue]> = [
  ['string', { type: 'string' }],
  ['double', { type: 'number' }],
  ['integer', { type: 'integer' }],
  ['boolean', { type: 'boolean' }],
  ['date', { type: 'string', format: 'date-time' }],
  ['array', { type: 'array', items: {} }],
  ['complexObject', { type: 'object' }],
  ['boundingBox', { type: 'array', minItems: 4, maxItems: 6, items: { type: 'number' } }],
];

/** `echo`: every input comes back as the output of the same kind (`stringInput` → `stringOutput`). */
export const echoProcess: ProcessDefinition = {
  id: 'echo',
  description: {
    id: 'echo',
    title: 'Echo',
    description: 'Returns its inputs as outputs, unchanged: `<kind>Input` comes back as `<kind>Output` (for clients and conformance tests).',
    version: '1.0.0',
    jobControlOptions: ['sync-execute', 'async-execute', 'dismiss'],
    outputTransmission: ['value'],
    inputs: Object.fromEntries(KINDS.map(([kind, schema]) => [`${kind}Input`, { title: `${kind} input`, minOccurs: 0, maxOccurs: 1, schema }] as const)),
    outputs: Object.fromEntries(KINDS.map(([kind, schema]) => [`${kind}Output`, { title: `${kind} output`, schema }] as const)),
  },
  async prepare(inputs) {
    const known = new Set(KINDS.map(([kind]) => `${kind}Input`));
    const outputs: Array<[string, JsonValue]> = [];
    for (const [name, value] of inputs) {
      if (!known.has(name)) throw badRequest(`echo has no input "${name.slice(0, 64)}"; it has ${[...known].join(', ')}`);
      outputs.push([`${name.slice(0, -'Input'.length)}Output`, value]);
    }
    return { run: async () => ({ outputs: Object.fromEntries(outputs) }) };
  },
};
