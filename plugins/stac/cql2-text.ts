import { FilterError } from './cql2.js';

/**
 * CQL2 text (OGC 21-065, the `cql2-text` encoding) translated into CQL2 JSON, which
 * `parseFilter` then checks and evaluates: one tree, one set of rules for both encodings.
 *
 * Grammar covered (keywords and function names are case-insensitive):
 *
 *     expr      = term {OR term};  term = factor {AND factor};  factor = [NOT] primary
 *     primary   = "(" expr ")" | TRUE | FALSE | predicate
 *     predicate = scalar (= | <> | < | <= | > | >=) scalar
 *               | scalar [NOT] LIKE 'pattern' | scalar [NOT] BETWEEN scalar AND scalar
 *               | scalar [NOT] IN "(" scalar {"," scalar} ")" | scalar IS [NOT] NULL
 *               | name "(" [arg {"," arg}] ")"          (S_INTERSECTS, T_*, A_*, others)
 *     scalar    = property | 'string' | number | TRUE | FALSE | DATE('…') | TIMESTAMP('…')
 *               | INTERVAL(a, b) | WKT geometry | BBOX(…) | "(" array ")" | name "(" args ")"
 *     property  = identifier (letters, digits, `_`, `:`, `.`) | "double-quoted identifier"
 *
 * Strings use `'`, with `''` or `\'` for a quote inside (the BNF's escapeQuote). WKT: POINT, LINESTRING, POLYGON, MULTIPOINT,
 * MULTILINESTRING, MULTIPOLYGON, GEOMETRYCOLLECTION (2-D, or with a Z/third ordinate), and
 * BBOX(w, s, e, n). Bounded: the text has at most MAX_FILTER_TEXT characters and nests at most
 * MAX_FILTER_DEPTH levels (parentheses, NOTs and functions together), so no input can exhaust the
 * stack. A syntax error is a FilterError naming the character position (1-based) and what was
 * expected there.
 */
export const MAX_FILTER_TEXT = 100_000;
export const MAX_FILTER_DEPTH = 64;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'op' | 'end';
interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** 0-based offset of the token in the filter text. */
  readonly at: number;
}

const COMPARISON_OPS = new Set(['=', '<>', '<', '<=', '>', '>=']);
const KEYWORDS = new Set(['and', 'or', 'not', 'like', 'between', 'in', 'is', 'null', 'true', 'false']);
const GEOMETRY_WORDS = new Set(['point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection', 'bbox']);

/** Translates a CQL2 text filter into its CQL2 JSON form; throws FilterError with the position of a mistake. */
export function cql2TextToJson(text: string): Json {
  if (text.length > MAX_FILTER_TEXT) throw new FilterError(`a cql2-text filter may have at most ${MAX_FILTER_TEXT} characters, got ${text.length}`);
  const parser = new Parser(tokenize(text));
  const expression = parser.expression();
  parser.expectEnd();
  return expression;
}

function syntaxError(at: number, message: string): FilterError {
  return new FilterError(`cql2-text syntax error at character ${at + 1}: ${message}`);
}

function describeToken(token: Token): string {
  if (token.kind === 'end') return 'the end of the filter';
  const shown = token.text.length > 40 ? `${token.text.slice(0, 40)}…` : token.text;
  return JSON.stringify(shown);
}

function isIdentifierStart(ch: string): boolean {
  return /[\p{L}_:]/u.test(ch);
}
function isIdentifierPart(ch: string): boolean {
  return /[\p{L}\p{N}\p{M}_:.]/u.test(ch);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (ch === "'") {
      // 'it''s' and 'it\'s': an escaped quote stands for one; the literal ends at a lone quote.
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw syntaxError(start, "unterminated string (a string literal ends with ')");
        const c = text[i] as string;
        if (c === '\\' && text[i + 1] === "'") {
          value += "'";
          i += 2;
          continue;
        }
        if (c === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += c;
        i++;
      }
      tokens.push({ kind: 'string', text: value, at: start });
      continue;
    }
    if (ch === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw syntaxError(start, 'unterminated quoted property name (it ends with ")');
      const name = text.slice(i + 1, end);
      if (name === '') throw syntaxError(start, 'empty quoted property name');
      tokens.push({ kind: 'quoted', text: name, at: start });
      i = end + 1;
      continue;
    }
    const number = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (number) {
      if (number[0].length >= 400) throw syntaxError(start, 'number literal too long');
      const after = text[i + number[0].length];
      if (after !== undefined && isIdentifierPart(after)) throw syntaxError(start, `malformed number ${JSON.stringify(text.slice(i, i + number[0].length + 1))}`);
      tokens.push({ kind: 'number', text: number[0], at: start });
      i += number[0].length;
      continue;
    }
    if (isIdentifierStart(ch)) {
      while (i < text.length && isIdentifierPart(text[i] as string)) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), at: start });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '<>' || two === '<=' || two === '>=') {
      tokens.push({ kind: 'op', text: two, at: start });
      i += 2;
      continue;
    }
    if (two === '!=') throw syntaxError(start, 'CQL2 writes "not equal" as <>');
    if ('=<>(),-+'.includes(ch)) {
      tokens.push({ kind: 'op', text: ch, at: start });
      i++;
      continue;
    }
    throw syntaxError(start, `unexpected character ${JSON.stringify(ch)}`);
  }
  tokens.push({ kind: 'end', text: '', at: text.length });
  return tokens;
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)] as Token;
  }
  next(): Token {
    const token = this.peek();
    if (this.index < this.tokens.length - 1) this.index++;
    return token;
  }
  isWord(word: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'word' && token.text.toLowerCase() === word;
  }
  isOp(op: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'op' && token.text === op;
  }
  private expectOp(op: string, what: string): void {
    const token = this.next();
    if (token.kind !== 'op' || token.text !== op) throw syntaxError(token.at, `expected "${op}" ${what}, found ${describeToken(token)}`);
  }
  private expectWord(word: string, what: string): void {
    const token = this.next();
    if (token.kind !== 'word' || token.text.toLowerCase() !== word) throw syntaxError(token.at, `expected ${word.toUpperCase()} ${what}, found ${describeToken(token)}`);
  }
  private nested<T>(at: number, body: () => T): T {
    if (++this.depth > MAX_FILTER_DEPTH) throw syntaxError(at, `the filter nests deeper than ${MAX_FILTER_DEPTH} levels`);
    try {
      return body();
    } finally {
      this.depth--;
    }
  }

  expectEnd(): void {
    const token = this.peek();
    if (token.kind !== 'end') throw syntaxError(token.at, `expected AND, OR or the end of the filter, found ${describeToken(token)}`);
  }

  expression(): Json {
    const terms = [this.term()];
    while (this.isWord('or')) {
      this.next();
      terms.push(this.term());
    }
    return terms.length === 1 ? (terms[0] as Json) : { op: 'or', args: terms };
  }

  private term(): Json {
    const factors = [this.factor()];
    while (this.isWord('and')) {
      this.next();
      factors.push(this.factor());
    }
    return factors.length === 1 ? (factors[0] as Json) : { op: 'and', args: factors };
  }

  private factor(): Json {
    if (this.isWord('not')) {
      const token = this.next();
      return this.nested(token.at, () => ({ op: 'not', args: [this.factor()] }));
    }
    return this.primary();
  }

  private primary(): Json {
    const token = this.peek();
    // At the start of a predicate a parenthesis opens a nested boolean expression (array
    // literals appear only as function arguments and IN lists, which are read as lists).
    if (this.isOp('(')) {
      return this.nested(token.at, () => {
        this.next();
        const inner = this.expression();
        this.expectOp(')', 'to close the parenthesis');
        return inner;
      });
    }
    const left = this.scalar();
    return this.predicateTail(left, token);
  }

  private predicateTail(left: Json, first: Token): Json {
    const token = this.peek();
    if (token.kind === 'op' && COMPARISON_OPS.has(token.text)) {
      this.next();
      return { op: token.text, args: [left, this.scalar()] };
    }
    if (this.isWord('is')) {
      this.next();
      const negated = this.isWord('not');
      if (negated) this.next();
      this.expectWord('null', 'after IS');
      const test: Json = { op: 'isNull', args: [left] };
      return negated ? { op: 'not', args: [test] } : test;
    }
    const negated = this.isWord('not');
    if (negated) this.next();
    let predicate: Json;
    if (this.isWord('like')) {
      this.next();
      predicate = { op: 'like', args: [left, this.scalar()] };
    } else if (this.isWord('between')) {
      this.next();
      const low = this.scalar();
      this.expectWord('and', 'between the bounds of BETWEEN');
      predicate = { op: 'between', args: [left, low, this.scalar()] };
    } else if (this.isWord('in')) {
      this.next();
      const list = this.peek();
      if (!this.isOp('(')) throw syntaxError(list.at, `expected "(" to open the IN list, found ${describeToken(list)}`);
      predicate = { op: 'in', args: [left, this.list(list)] };
    } else {
      const here = this.peek();
      if (negated) throw syntaxError(here.at, `expected LIKE, BETWEEN or IN after NOT, found ${describeToken(here)}`);
      // A function call or boolean literal stands alone as a predicate.
      if (typeof left === 'boolean' || (isObject(left) && typeof left.op === 'string')) return left;
      throw syntaxError(here.at, `expected a comparison (=, <>, <, <=, >, >=, LIKE, BETWEEN, IN, IS NULL) after ${describeToken(first)}, found ${describeToken(here)}`);
    }
    return negated ? { op: 'not', args: [predicate] } : predicate;
  }

  /** `( item {, item} )` as a JSON array (also `()`). */
  private list(open: Token): Json[] {
    return this.nested(open.at, () => {
      this.expectOp('(', 'to open a list');
      const items: Json[] = [];
      if (this.isOp(')')) {
        this.next();
        return items;
      }
      for (;;) {
        items.push(this.scalar());
        const token = this.next();
        if (token.kind === 'op' && token.text === ')') return items;
        if (token.kind !== 'op' || token.text !== ',') throw syntaxError(token.at, `expected "," or ")" in a list, found ${describeToken(token)}`);
      }
    });
  }

  private scalar(): Json {
    const token = this.peek();
    switch (token.kind) {
      case 'string':
        this.next();
        return token.text;
      case 'number':
        this.next();
        return numberOf(token);
      case 'quoted':
        this.next();
        return { property: token.text };
      case 'op':
        if (token.text === '-' || token.text === '+') {
          this.next();
          const digits = this.next();
          if (digits.kind !== 'number') throw syntaxError(digits.at, `expected a number after "${token.text}", found ${describeToken(digits)}`);
          const value = numberOf(digits);
          return token.text === '-' ? -value : value;
        }
        if (token.text === '(') return this.list(token);
        throw syntaxError(token.at, `expected a property, a literal or a function, found ${describeToken(token)}`);
      case 'end':
        throw syntaxError(token.at, 'the filter ends where a value was expected');
      case 'word':
        return this.word(token);
    }
  }

  private word(token: Token): Json {
    const lower = token.text.toLowerCase();
    if (lower === 'true' || lower === 'false') {
      this.next();
      return lower === 'true';
    }
    const call = this.isOp('(', 1) || (GEOMETRY_WORDS.has(lower) && this.isWord('z', 1) && this.isOp('(', 2));
    if (!call) {
      if (KEYWORDS.has(lower)) throw syntaxError(token.at, `expected a property, a literal or a function, found the keyword ${token.text.toUpperCase()}`);
      this.next();
      return { property: token.text };
    }
    this.next();
    if (lower === 'timestamp' || lower === 'date') {
      const value = this.singleString(token);
      return lower === 'timestamp' ? { timestamp: value } : { date: value };
    }
    if (lower === 'interval') return this.interval(token);
    if (GEOMETRY_WORDS.has(lower)) return this.nested(token.at, () => geometry(this, lower, token));
    const args = this.list(this.peek());
    return { op: lower, args };
  }

  private singleString(fn: Token): string {
    this.expectOp('(', `after ${fn.text.toUpperCase()}`);
    const value = this.next();
    if (value.kind !== 'string') throw syntaxError(value.at, `${fn.text.toUpperCase()} takes a quoted string, found ${describeToken(value)}`);
    this.expectOp(')', `to close ${fn.text.toUpperCase()}`);
    return value.text;
  }

  private interval(fn: Token): Json {
    this.expectOp('(', 'after INTERVAL');
    const bound = (): Json => {
      const token = this.next();
      if (token.kind === 'string') return token.text;
      throw syntaxError(token.at, `INTERVAL bounds are quoted dates, date-times or '..', found ${describeToken(token)}`);
    };
    const start = bound();
    this.expectOp(',', `between the bounds of ${fn.text.toUpperCase()}`);
    const end = bound();
    this.expectOp(')', 'to close INTERVAL');
    return { interval: [start, end] };
  }

  // Used by the WKT reader.
  takeOp(op: string): boolean {
    if (!this.isOp(op)) return false;
    this.next();
    return true;
  }
  requireOp(op: string, what: string): void {
    this.expectOp(op, what);
  }
  signedNumber(): number {
    const token = this.next();
    if (token.kind === 'op' && (token.text === '-' || token.text === '+')) {
      const digits = this.next();
      if (digits.kind !== 'number') throw syntaxError(digits.at, `expected a number after "${token.text}", found ${describeToken(digits)}`);
      return token.text === '-' ? -numberOf(digits) : numberOf(digits);
    }
    if (token.kind !== 'number') throw syntaxError(token.at, `expected a coordinate, found ${describeToken(token)}`);
    return numberOf(token);
  }
  enter<T>(at: number, body: () => T): T {
    return this.nested(at, body);
  }
}

function numberOf(token: Token): number {
  const value = Number(token.text);
  if (!Number.isFinite(value)) throw syntaxError(token.at, `number ${describeToken(token)} is out of range`);
  return value;
}

function isObject(value: Json): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A WKT geometry (the keyword already read) or BBOX(...) as GeoJSON / `{bbox}`. */
function geometry(parser: Parser, kind: string, keyword: Token): Json {
  // Optional dimension markers of WKT: `POINT Z (…)` is read as `POINT (…)` with three ordinates.
  if (parser.isWord('z')) parser.next();
  const position = (): number[] => {
    const coordinates = [parser.signedNumber(), parser.signedNumber()];
    if (!parser.isOp(',') && !parser.isOp(')')) coordinates.push(parser.signedNumber());
    return coordinates;
  };
  const sequence = <T>(item: () => T, what: string): T[] => {
    const open = parser.next();
    if (open.kind !== 'op' || open.text !== '(') throw syntaxError(open.at, `expected "(" to open ${what}, found ${describeToken(open)}`);
    return parser.enter(open.at, () => {
      const items = [item()];
      while (parser.takeOp(',')) items.push(item());
      parser.requireOp(')', `to close ${what}`);
      return items;
    });
  };
  const points = () => sequence(position, 'a list of positions');
  const rings = () => sequence(points, 'a list of rings');
  switch (kind) {
    case 'bbox': {
      const numbers = sequence(() => parser.signedNumber(), 'BBOX');
      return { bbox: numbers };
    }
    case 'point': {
      const [only] = sequence(position, 'POINT');
      return { type: 'Point', coordinates: only as number[] };
    }
    case 'linestring':
      return { type: 'LineString', coordinates: points() };
    case 'polygon':
      return { type: 'Polygon', coordinates: rings() };
    case 'multipoint':
      // Both MULTIPOINT((1 2), (3 4)) and MULTIPOINT(1 2, 3 4).
      return {
        type: 'MultiPoint',
        coordinates: sequence(() => {
          if (parser.takeOp('(')) {
            const p = position();
            parser.requireOp(')', 'to close a point of MULTIPOINT');
            return p;
          }
          return position();
        }, 'MULTIPOINT'),
      };
    case 'multilinestring':
      return { type: 'MultiLineString', coordinates: rings() };
    case 'multipolygon':
      return { type: 'MultiPolygon', coordinates: sequence(rings, 'a list of polygons') };
    default: {
      const geometries = sequence(() => {
        const token = parser.next();
        const lower = token.kind === 'word' ? token.text.toLowerCase() : '';
        if (!GEOMETRY_WORDS.has(lower) || lower === 'bbox') throw syntaxError(token.at, `expected a WKT geometry in GEOMETRYCOLLECTION, found ${describeToken(token)}`);
        return parser.enter(token.at, () => geometry(parser, lower, token));
      }, `${keyword.text.toUpperCase()}`);
      return { type: 'GeometryCollection', geometries };
    }
  }
}
