/**
 * Attribute documents (`.zattrs`) read from their JSON text with the form of every number kept:
 * `2.0` is a float and `2` an integer, a difference `JSON.parse` erases but DAP attribute types
 * (Float64 vs Int32) must keep.
 */
export type AttributeValue =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'null' }
  | { readonly kind: 'number'; readonly value: number; readonly float: boolean; readonly text: string }
  | { readonly kind: 'list'; readonly items: readonly AttributeValue[] }
  | { readonly kind: 'object'; readonly text: string };

/** A JSON document that is not valid JSON. */
export class AttributeJsonError extends Error {
  override readonly name = 'AttributeJsonError';
}

/** The members of a JSON object document, in document order, values with their number forms. */
export function parseAttributes(text: string): Array<[string, AttributeValue]> {
  const parser = new Parser(text);
  parser.space();
  if (parser.peek() !== '{') throw new AttributeJsonError('attribute document is not a JSON object');
  const members = parser.object();
  parser.space();
  if (!parser.done()) throw new AttributeJsonError(`trailing text at ${parser.position}`);
  return members;
}

class Parser {
  position = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.position >= this.text.length;
  }

  peek(): string {
    return this.text[this.position] ?? '';
  }

  space(): void {
    while (/[ \t\r\n]/.test(this.peek())) this.position++;
  }

  expect(char: string): void {
    if (this.peek() !== char) throw new AttributeJsonError(`expected "${char}" at ${this.position}`);
    this.position++;
  }

  object(): Array<[string, AttributeValue]> {
    this.expect('{');
    const members: Array<[string, AttributeValue]> = [];
    this.space();
    if (this.peek() === '}') {
      this.position++;
      return members;
    }
    for (;;) {
      this.space();
      const key = this.string();
      this.space();
      this.expect(':');
      members.push([key, this.value()]);
      this.space();
      if (this.peek() === ',') {
        this.position++;
        continue;
      }
      this.expect('}');
      return members;
    }
  }

  value(): AttributeValue {
    this.space();
    const char = this.peek();
    if (char === '"') return { kind: 'string', value: this.string() };
    if (char === '[') return this.list();
    if (char === '{') {
      const start = this.position;
      this.object();
      return { kind: 'object', text: this.text.slice(start, this.position) };
    }
    if (this.text.startsWith('true', this.position)) return this.word('true', { kind: 'bool', value: true });
    if (this.text.startsWith('false', this.position)) return this.word('false', { kind: 'bool', value: false });
    if (this.text.startsWith('null', this.position)) return this.word('null', { kind: 'null' });
    // Python's json writes NaN and Infinity bare; accept them as floats.
    for (const [word, value] of [
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['-Infinity', -Infinity],
    ] as const) {
      if (this.text.startsWith(word, this.position)) return this.word(word, { kind: 'number', value, float: true, text: word });
    }
    return this.number();
  }

  private word(word: string, value: AttributeValue): AttributeValue {
    this.position += word.length;
    return value;
  }

  private list(): AttributeValue {
    this.expect('[');
    const items: AttributeValue[] = [];
    this.space();
    if (this.peek() === ']') {
      this.position++;
      return { kind: 'list', items };
    }
    for (;;) {
      items.push(this.value());
      this.space();
      if (this.peek() === ',') {
        this.position++;
        continue;
      }
      this.expect(']');
      return { kind: 'list', items };
    }
  }

  private number(): AttributeValue {
    const match = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.position, this.position + 64));
    if (!match) throw new AttributeJsonError(`unexpected character at ${this.position}`);
    this.position += match[0].length;
    return { kind: 'number', value: Number(match[0]), float: match[1] !== undefined || match[2] !== undefined, text: match[0] };
  }

  string(): string {
    const start = this.position;
    this.expect('"');
    for (;;) {
      const char = this.text[this.position];
      if (char === undefined) throw new AttributeJsonError(`unterminated string at ${start}`);
      this.position++;
      if (char === '\\') this.position++;
      else if (char === '"') break;
    }
    return JSON.parse(this.text.slice(start, this.position)) as string;
  }
}
