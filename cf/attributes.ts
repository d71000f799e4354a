import type { JsonValue } from '../kerchunk/reference.js';

/** CF attributes of a variable (or of a dataset): names and values as the file gives them. */
export type Attributes = Readonly<Record<string, JsonValue>>;

/**
 * An attribute's value, read as an own property only: attribute names come from files, and a
 * lookup of `constructor` or `__proto__` must not find Object.prototype's members.
 */
export function attribute(attrs: Attributes | undefined, name: string): JsonValue | undefined {
  return attrs !== undefined && Object.hasOwn(attrs, name) ? attrs[name] : undefined;
}

/** A string attribute as written (blank too); undefined when absent or not a string. */
export function stringAttribute(attrs: Attributes | undefined, name: string): string | undefined {
  const value = attribute(attrs, name);
  return typeof value === 'string' ? value : undefined;
}

/** A string attribute, trimmed; undefined when absent, not a string or blank. */
export function text(attrs: Attributes | undefined, name: string): string | undefined {
  const value = attribute(attrs, name);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** A numeric attribute as numbers: a number, an array of them (flattened) or the string 'NaN'. */
export function numbers(value: JsonValue | undefined): number[] {
  if (typeof value === 'number') return [value];
  if (value === 'NaN') return [Number.NaN];
  if (Array.isArray(value)) return value.flatMap((v) => numbers(v));
  return [];
}
