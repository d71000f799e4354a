/**
 * The small part of Jinja2 that fsspec reference tables use: `{{ expr }}` placeholders in
 * `templates` URLs and `gen` blocks, where expr is arithmetic over named values
 * (`{{u}}`, `{{ (i + 1) * 1000 }}`, `{{ "part" ~ i }}`).
 *
 * Supported: integer and float literals, single/double-quoted strings, names, parentheses,
 * unary minus, `+ - * / // % **` and `~` (string concatenation). Numbers render as Python
 * renders them (`3`, `2.5`, `4.0`). Anything else is an error, never evaluated code.
 */
export type TemplateValue = string | number;

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

const PLACEHOLDER = /\{\{(.*?)\}\}/gs;

/** Renders every `{{ expr }}` in `text` with the given names. */
export function renderTemplate(text: string, names: Readonly<Record<string, TemplateValue>>): string {
  if (!text.includes('{{')) return text;
  return text.replace(PLACEHOLDER, (_match, expression: string) => formatTyped(evaluate(expression, names)));
}

/** A value with Python's int/float distinction, which JS numbers do not carry. */
export interface TypedValue {
  readonly value: TemplateValue;
  readonly isFloat: boolean;
}

/** Formats a value as Python's str() would (`3`, `2.5`, `4.0`, `nan`, `inf`). */
export function formatTyped({ value, isFloat }: TypedValue): string {
  if (typeof value === 'string') return value;
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const text = String(value);
  if (!isFloat) return text;
  return /[.e]/.test(text) ? text : `${text}.0`;
}

type Token = { type: 'number'; value: number; isFloat: boolean } | { type: 'string'; value: string } | { type: 'name'; value: string } | { type: 'op'; value: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const rest = source.slice(i);
    const number = /^(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?/.exec(rest);
    if (number) {
      const text = number[0];
      tokens.push({ type: 'number', value: Number(text), isFloat: /[.eE]/.test(text) });
      i += text.length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (name) {
      tokens.push({ type: 'name', value: name[0] });
      i += name[0].length;
      continue;
    }
    if (ch === '"' || ch === "'") {
      const end = source.indexOf(ch, i + 1);
      if (end < 0) throw new TemplateError(`unterminated string in template expression "${source}"`);
      tokens.push({ type: 'string', value: source.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const op = /^(\*\*|\/\/|[-+*/%()~])/.exec(rest);
    if (op) {
      tokens.push({ type: 'op', value: op[0] });
      i += op[0].length;
      continue;
    }
    throw new TemplateError(`unsupported character "${ch}" in template expression "${source}"`);
  }
  return tokens;
}

type Typed = TypedValue;

/**
 * Tokens of recently seen expressions: a `gen` block evaluates the same few expressions for every
 * one of up to millions of keys, and tokenising dominated that (12 s per million keys before).
 */
const tokenCache = new Map<string, readonly Token[]>();
const TOKEN_CACHE_ENTRIES = 256;

function tokensOf(source: string): readonly Token[] {
  let tokens = tokenCache.get(source);
  if (tokens === undefined) {
    tokens = tokenize(source);
    if (tokenCache.size >= TOKEN_CACHE_ENTRIES) tokenCache.delete(tokenCache.keys().next().value as string);
    tokenCache.set(source, tokens);
  }
  return tokens;
}

/**
 * How deeply parentheses, unary signs and `**` chains may nest. Real templates nest two or three
 * levels; the recursive-descent evaluator would overflow the stack somewhere past ten thousand.
 */
export const MAX_EXPRESSION_NESTING = 100;

/** Evaluates one placeholder expression. */
export function evaluate(source: string, names: Readonly<Record<string, TemplateValue>>): TypedValue {
  const tokens = tokensOf(source);
  let position = 0;
  const peek = (): Token | undefined => tokens[position];
  const takeOp = (...ops: string[]): string | undefined => {
    const token = tokens[position];
    if (token?.type === 'op' && ops.includes(token.value)) {
      position++;
      return token.value;
    }
    return undefined;
  };

  const concat = (): Typed => {
    let left = additive();
    while (takeOp('~')) {
      const right = additive();
      left = { value: formatTyped(left) + formatTyped(right), isFloat: false };
    }
    return left;
  };
  const additive = (): Typed => {
    let left = multiplicative();
    for (let op = takeOp('+', '-'); op; op = takeOp('+', '-')) {
      left = binary(op, left, multiplicative());
    }
    return left;
  };
  const multiplicative = (): Typed => {
    let left = unary();
    for (let op = takeOp('*', '/', '//', '%'); op; op = takeOp('*', '/', '//', '%')) {
      left = binary(op, left, unary());
    }
    return left;
  };
  let nesting = 0;
  // Every recursion of the grammar (parentheses, signs, the right side of **) passes through here.
  const unary = (): Typed => {
    if (++nesting > MAX_EXPRESSION_NESTING) {
      throw new TemplateError(`template expression nests deeper than ${MAX_EXPRESSION_NESTING} levels: "${source.slice(0, 80)}..."`);
    }
    try {
      if (takeOp('-')) {
        const operand = unary();
        return { value: -numeric(operand, '-'), isFloat: operand.isFloat };
      }
      if (takeOp('+')) return unary();
      return power();
    } finally {
      nesting--;
    }
  };
  const power = (): Typed => {
    const base = primary();
    if (takeOp('**')) return binary('**', base, unary());
    return base;
  };
  const primary = (): Typed => {
    const token = peek();
    if (!token) throw new TemplateError(`incomplete template expression "${source}"`);
    position++;
    if (token.type === 'number') return { value: token.value, isFloat: token.isFloat };
    if (token.type === 'string') return { value: token.value, isFloat: false };
    if (token.type === 'name') {
      if (!Object.hasOwn(names, token.value)) {
        throw new TemplateError(`unknown name "${token.value}" in template expression "${source}"`);
      }
      const value = names[token.value] as TemplateValue;
      return { value, isFloat: typeof value === 'number' && !Number.isInteger(value) };
    }
    if (token.value === '(') {
      const inner = concat();
      if (!takeOp(')')) throw new TemplateError(`missing ")" in template expression "${source}"`);
      return inner;
    }
    throw new TemplateError(`unexpected "${token.value}" in template expression "${source}"`);
  };

  const result = concat();
  if (position !== tokens.length) throw new TemplateError(`unexpected trailing input in template expression "${source}"`);
  return result;
}

function numeric(operand: Typed, op: string): number {
  if (typeof operand.value !== 'number') throw new TemplateError(`operator "${op}" needs numbers, got "${operand.value}"`);
  return operand.value;
}

function binary(op: string, left: Typed, right: Typed): Typed {
  if (op === '+' && typeof left.value === 'string' && typeof right.value === 'string') {
    return { value: left.value + right.value, isFloat: false };
  }
  const a = numeric(left, op);
  const b = numeric(right, op);
  const isFloat = left.isFloat || right.isFloat;
  switch (op) {
    case '+':
      return { value: a + b, isFloat };
    case '-':
      return { value: a - b, isFloat };
    case '*':
      return { value: a * b, isFloat };
    case '/':
      if (b === 0) throw new TemplateError('division by zero in template expression');
      return { value: a / b, isFloat: true };
    case '//':
      if (b === 0) throw new TemplateError('division by zero in template expression');
      return { value: Math.floor(a / b), isFloat };
    case '%':
      if (b === 0) throw new TemplateError('modulo by zero in template expression');
      return { value: a - Math.floor(a / b) * b, isFloat };
    case '**':
      return { value: a ** b, isFloat: isFloat || b < 0 };
    default:
      throw new TemplateError(`unsupported operator "${op}"`);
  }
}
