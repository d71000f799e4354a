import type { JsonValue } from '../reference.js';

/**
 * The JSON text of an attributes document in which float-typed attributes keep a decimal point
 * (150 → 150.0), as Python's json writes floats: JSON.stringify would turn them into ints for
 * Python clients.
 */
export function attributesText(attributes: Readonly<Record<string, JsonValue>>, floatNames: ReadonlySet<string>): string {
  const members = Object.entries(attributes).map(([name, value]) => {
    const text = floatNames.has(name) ? floatJson(value) : JSON.stringify(value);
    return `${JSON.stringify(name)}: ${text}`;
  });
  return `{${members.join(', ')}}`;
}

function floatJson(value: JsonValue): string {
  if (typeof value === 'number') return floatLiteral(value);
  if (Array.isArray(value)) return `[${value.map(floatJson).join(', ')}]`;
  return JSON.stringify(value);
}

/** A float as Python writes it: `150.0`, `0.25`, `1e+16`. */
export function floatLiteral(value: number): string {
  if (!Number.isFinite(value)) return JSON.stringify(value);
  if (!Number.isInteger(value)) return String(value);
  return Math.abs(value) < 1e16 ? `${value}.0` : value.toExponential();
}
