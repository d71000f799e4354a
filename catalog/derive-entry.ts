/**
 * The `derive:` block of a catalog entry: a dataset computed from another one instead of read
 * through references (derive/ computes it). Only the shape is checked here; whether the names
 * exist in the source, and cycles between entries, are checked when the datasets are opened.
 *
 * ```yaml
 * derive:
 *   from: tas-day                                   # another dataset id (possibly derived)
 *   select: {lat: [30, 70], time: ["1950-01-05", "1950-02-10"]}   # by coordinate value, inclusive
 *   variables: [tas]
 *   resample: {time: month}                         # hour|day|month|season|year
 *   groupby: time.month                             # time.month|time.season|time.dayofyear|time.hour
 *   reduce: mean                                    # mean|min|max|sum|std|count
 *   over: [lat, lon]
 *   weights: area                                   # cos(latitude)
 * ```
 */

export type DeriveReduce = 'mean' | 'min' | 'max' | 'sum' | 'std' | 'count';
export type ResampleFrequency = 'hour' | 'day' | 'month' | 'season' | 'year';
export type GroupKey = 'month' | 'season' | 'dayofyear' | 'hour';

/** One `select` range: a dimension and its two inclusive ends (numbers, or date strings for time). */
export interface SelectRange {
  readonly dim: string;
  readonly from: number | string;
  readonly to: number | string;
}

export interface DeriveSpec {
  readonly from: string;
  readonly select: readonly SelectRange[];
  readonly variables?: readonly string[];
  readonly resample?: { readonly dim: string; readonly frequency: ResampleFrequency };
  readonly groupby?: { readonly dim: string; readonly key: GroupKey };
  readonly reduce?: DeriveReduce;
  readonly over: readonly string[];
  readonly weights?: 'area';
}

const KEYS = new Set(['from', 'select', 'variables', 'resample', 'groupby', 'reduce', 'over', 'weights']);
const REDUCTIONS: readonly DeriveReduce[] = ['mean', 'min', 'max', 'sum', 'std', 'count'];
const FREQUENCIES: readonly ResampleFrequency[] = ['hour', 'day', 'month', 'season', 'year'];
const GROUP_KEYS: readonly GroupKey[] = ['month', 'season', 'dayofyear', 'hour'];
/** Names that would reach an object's prototype if looked up carelessly; refused outright. */
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
const MAX_LIST = 256;
const MAX_TEXT = 64;

/** The name problem of a variable or dimension name, or undefined. */
function nameProblem(name: unknown, what: string): string | undefined {
  if (typeof name !== 'string') return `${what} must be a name`;
  if (FORBIDDEN_NAMES.has(name)) return `${what} "${name}" is not allowed`;
  if (!NAME.test(name)) return `${what} ${JSON.stringify(name.slice(0, MAX_TEXT))} is not a usable name`;
  return undefined;
}

/** The parsed `derive` block, or a message saying what is wrong with it. */
export function parseDeriveSpec(value: unknown): DeriveSpec | string {
  if (!isRecord(value)) return '"derive" must be a mapping with at least "from"';
  const unknown = Object.keys(value).filter((key) => !KEYS.has(key));
  if (unknown.length > 0) return `"derive": unknown key(s) ${unknown.map((key) => JSON.stringify(key.slice(0, MAX_TEXT))).join(', ')}; known: ${[...KEYS].join(', ')}`;
  const from = value.from;
  if (typeof from !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(from)) return '"derive.from" must be the id of another dataset';
  const select: SelectRange[] = [];
  if (value.select !== undefined && value.select !== null) {
    if (!isRecord(value.select)) return '"derive.select" must map dimensions to [from, to]';
    const entries = Object.entries(value.select);
    if (entries.length > MAX_LIST) return '"derive.select" names too many dimensions';
    for (const [dim, range] of entries) {
      const problem = nameProblem(dim, 'selected dimension');
      if (problem) return `"derive.select": ${problem}`;
      if (!Array.isArray(range) || range.length !== 2) return `"derive.select.${dim}" must be [from, to]`;
      const [lo, hi] = range as unknown[];
      for (const end of [lo, hi]) {
        const ok = (typeof end === 'number' && Number.isFinite(end) && Math.abs(end) <= 1e300) || (typeof end === 'string' && end.length > 0 && end.length <= MAX_TEXT);
        if (!ok) return `"derive.select.${dim}" ends must be finite numbers or date strings of at most ${MAX_TEXT} characters`;
      }
      if (typeof lo !== typeof hi) return `"derive.select.${dim}" ends must both be numbers or both be dates`;
      select.push({ dim, from: lo as number | string, to: hi as number | string });
    }
  }
  let variables: string[] | undefined;
  if (value.variables !== undefined) {
    const list = value.variables;
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_LIST) return '"derive.variables" must be a non-empty list of variable names';
    for (const name of list) {
      const problem = nameProblem(name, 'variable');
      if (problem) return `"derive.variables": ${problem}`;
    }
    variables = [...new Set(list as string[])];
  }
  let resample: DeriveSpec['resample'];
  if (value.resample !== undefined) {
    const entries = isRecord(value.resample) ? Object.entries(value.resample) : [];
    const [entry] = entries;
    if (entries.length !== 1 || !entry) return `"derive.resample" must be {<time dimension>: ${FREQUENCIES.join('|')}}`;
    const [dim, frequency] = entry;
    const problem = nameProblem(dim, 'resampled dimension');
    if (problem) return `"derive.resample": ${problem}`;
    if (!FREQUENCIES.includes(frequency as ResampleFrequency)) return `"derive.resample.${dim}" must be one of ${FREQUENCIES.join(', ')}`;
    resample = { dim, frequency: frequency as ResampleFrequency };
  }
  let groupby: DeriveSpec['groupby'];
  if (value.groupby !== undefined) {
    const match = typeof value.groupby === 'string' ? /^([^.]+)\.([a-z]+)$/.exec(value.groupby) : null;
    if (!match || !GROUP_KEYS.includes(match[2] as GroupKey)) return `"derive.groupby" must be <time dimension>.${GROUP_KEYS.join('|')} (e.g. time.month)`;
    const problem = nameProblem(match[1], 'grouped dimension');
    if (problem) return `"derive.groupby": ${problem}`;
    groupby = { dim: match[1] as string, key: match[2] as GroupKey };
  }
  if (resample && groupby) return '"derive" may have "resample" or "groupby", not both';
  let reduce: DeriveReduce | undefined;
  if (value.reduce !== undefined) {
    if (!REDUCTIONS.includes(value.reduce as DeriveReduce)) return `"derive.reduce" must be one of ${REDUCTIONS.join(', ')}`;
    reduce = value.reduce as DeriveReduce;
  }
  const over: string[] = [];
  if (value.over !== undefined) {
    const list = typeof value.over === 'string' ? [value.over] : value.over;
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_LIST) return '"derive.over" must be a list of dimension names';
    for (const name of list) {
      const problem = nameProblem(name, 'reduced dimension');
      if (problem) return `"derive.over": ${problem}`;
    }
    over.push(...new Set(list as string[]));
  }
  let weights: 'area' | undefined;
  if (value.weights !== undefined) {
    if (value.weights !== 'area') return '"derive.weights" must be "area" (cos(latitude))';
    weights = 'area';
  }
  if ((resample || groupby || over.length > 0) && !reduce) return '"derive" needs "reduce" (mean, min, max, sum, std or count) with "resample", "groupby" or "over"';
  if (reduce && !resample && !groupby && over.length === 0) return '"derive.reduce" needs "resample", "groupby" or "over" to say what it reduces';
  if (weights && over.length === 0) return '"derive.weights" needs "over"';
  if (weights && reduce !== 'mean' && reduce !== 'sum') return '"derive.weights" applies to reduce: mean or sum only';
  for (const dim of [resample?.dim, groupby?.dim]) if (dim && over.includes(dim)) return `"derive.over" cannot name "${dim}", which is already grouped`;
  return {
    from,
    select,
    ...(variables ? { variables } : {}),
    ...(resample ? { resample } : {}),
    ...(groupby ? { groupby } : {}),
    ...(reduce ? { reduce } : {}),
    over,
    ...(weights ? { weights } : {}),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
