/**
 * The source text of the members of a JSON object, exactly as written. JSON.parse loses the
 * difference between `150.0` and `150`, which Python clients see as float versus int
 * attributes; serving the original text keeps metadata bit for bit.
 */
export function objectMemberTexts(text: string, start = 0): Map<string, string> {
  const scanner = new Scanner(text, start);
  const members = new Map<string, string>();
  scanner.skipSpace();
  scanner.expect('{');
  scanner.skipSpace();
  if (scanner.peek() === '}') return members;
  for (;;) {
    scanner.skipSpace();
    const keyStart = scanner.position;
    scanner.skipString();
    const key = JSON.parse(text.slice(keyStart, scanner.position)) as string;
    scanner.skipSpace();
    scanner.expect(':');
    scanner.skipSpace();
    const valueStart = scanner.position;
    scanner.skipValue();
    members.set(key, text.slice(valueStart, scanner.position));
    scanner.skipSpace();
    if (scanner.peek() === ',') {
      scanner.position++;
      continue;
    }
    scanner.expect('}');
    return members;
  }
}

class Scanner {
  constructor(
    readonly text: string,
    public position: number,
  ) {}

  peek(): string | undefined {
    return this.text[this.position];
  }

  expect(ch: string): void {
    if (this.text[this.position] !== ch) throw new SyntaxError(`expected "${ch}" at ${this.position}`);
    this.position++;
  }

  skipSpace(): void {
    while (/\s/.test(this.text[this.position] ?? '')) this.position++;
  }

  skipString(): void {
    this.expect('"');
    for (;;) {
      const ch = this.text[this.position++];
      if (ch === undefined) throw new SyntaxError('unterminated string');
      if (ch === '\\') this.position++;
      else if (ch === '"') return;
    }
  }

  skipValue(): void {
    const ch = this.peek();
    if (ch === '"') return this.skipString();
    if (ch === '{' || ch === '[') return this.skipNested();
    const match = /^(-?[0-9.eE+-]+|true|false|null|NaN|-?Infinity)/.exec(this.text.slice(this.position, this.position + 64));
    if (!match) throw new SyntaxError(`unexpected "${ch}" at ${this.position}`);
    this.position += match[0].length;
  }

  private skipNested(): void {
    let depth = 0;
    for (;;) {
      const ch = this.text[this.position];
      if (ch === undefined) throw new SyntaxError('unterminated object or array');
      if (ch === '"') {
        this.skipString();
        continue;
      }
      this.position++;
      if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') {
        depth--;
        if (depth === 0) return;
      }
    }
  }
}
