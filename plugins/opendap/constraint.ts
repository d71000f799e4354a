import { DapError } from './dap-error.js';
import { undapName } from './dap-names.js';

/** `[start:stride:stop]` of DAP 2.0 §4.4: `stop` is inclusive. */
export interface Hyperslab {
  readonly start: number;
  readonly stride: number;
  readonly stop: number;
}

/** One name of a projection path, with the hyperslabs written after it. */
export interface PathComponent {
  readonly name: string;
  readonly hyperslabs: readonly Hyperslab[];
}

/** `tas[0:1:3][2][0:7]` → one component; `tas.lat[1:2]` → two (a Grid's field). */
export interface Projection {
  readonly path: readonly PathComponent[];
}

export interface ConstraintExpression {
  /** Empty: the whole dataset. */
  readonly projections: readonly Projection[];
}

/** Largest index a hyperslab may name (beyond any real dimension; keeps arithmetic exact). */
const MAX_INDEX = 2 ** 48;

/**
 * Parses the query of a DAP request (the text after `?`, still percent-encoded as sent):
 * comma-separated projections of variables or Grid fields with hyperslabs. Selections (`&...`)
 * and server functions are refused with a DapError, as is anything malformed.
 */
export function parseConstraint(query: string): ConstraintExpression {
  let text: string;
  try {
    text = decodeURIComponent(query.replace(/\+/g, '%2B'));
  } catch {
    throw new DapError(400, 'malformed percent-encoding in the constraint expression');
  }
  const ampersand = text.indexOf('&');
  const projectionText = ampersand >= 0 ? text.slice(0, ampersand) : text;
  const selections =
    ampersand >= 0
      ? text
          .slice(ampersand + 1)
          .split('&')
          .filter((s) => s.trim() !== '')
      : [];
  if (selections.length > 0) {
    throw new DapError(400, `selections are not supported on gridded data (got "&${selections[0]}")`);
  }
  if (projectionText.trim() === '') return { projections: [] };
  return { projections: splitProjections(projectionText).map(parseProjection) };
}

/** Splits at commas outside brackets (a comma inside `[...]` is a syntax error found later). */
function splitProjections(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '[') depth++;
    else if (char === ']') depth--;
    else if (char === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function parseProjection(text: string): Projection {
  const trimmed = text.trim();
  if (trimmed === '') throw new DapError(400, 'empty projection in the constraint expression');
  if (/^[^[\].]*\(/.test(trimmed)) {
    throw new DapError(400, `server functions are not supported (got "${trimmed}")`);
  }
  const path: PathComponent[] = [];
  let rest = trimmed;
  for (;;) {
    const name = /^[^[\].\s]+/.exec(rest);
    if (!name) throw new DapError(400, `expected a variable name at "${rest}" in "${trimmed}"`);
    rest = rest.slice(name[0].length);
    const hyperslabs: Hyperslab[] = [];
    for (;;) {
      rest = rest.trimStart();
      if (!rest.startsWith('[')) break;
      const close = rest.indexOf(']');
      if (close < 0) throw new DapError(400, `unclosed "[" in "${trimmed}"`);
      hyperslabs.push(parseHyperslab(rest.slice(1, close), trimmed));
      rest = rest.slice(close + 1);
    }
    path.push({ name: undapName(name[0]), hyperslabs });
    rest = rest.trimStart();
    if (rest === '') return { path };
    if (!rest.startsWith('.')) throw new DapError(400, `unexpected "${rest}" in "${trimmed}"`);
    rest = rest.slice(1);
  }
}

function parseHyperslab(body: string, projection: string): Hyperslab {
  const parts = body.split(':').map((p) => p.trim());
  if (parts.length > 3 || !parts.every((p) => /^\d+$/.test(p))) {
    throw new DapError(400, `malformed hyperslab "[${body}]" in "${projection}": use [i], [start:stop] or [start:stride:stop]`);
  }
  const numbers = parts.map(Number);
  if (numbers.some((n) => n > MAX_INDEX)) throw new DapError(400, `hyperslab index too large in "[${body}]"`);
  const [a = 0, b = a, c = b] = numbers;
  const slab = numbers.length === 3 ? { start: a, stride: b, stop: c } : { start: a, stride: 1, stop: b };
  if (slab.stride < 1) throw new DapError(400, `hyperslab stride must be at least 1 in "[${body}]"`);
  if (slab.stop < slab.start) throw new DapError(400, `hyperslab stop is before start in "[${body}]"`);
  return slab;
}
