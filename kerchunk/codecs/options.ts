import type { JsonValue } from '../reference.js';
import { type CodecConfig, UnsupportedCodecError } from './codec.js';

/**
 * Reads the options of one codec configuration; every option must be read or explicitly allowed,
 * so a configuration with an option we do not understand is rejected instead of half honoured.
 */
export class CodecOptions {
  private readonly seen = new Set<string>(['id']);

  constructor(readonly config: CodecConfig) {}

  get id(): string {
    return this.config.id;
  }

  /** An integer option, `fallback` when absent or null. */
  integer(name: string, fallback: number, min = -Infinity, max = Infinity): number {
    const value = this.take(name);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw this.unsupported(`option ${name}=${JSON.stringify(value)} (expected an integer in ${min}..${max})`);
    }
    return value;
  }

  /** A finite number option (required when no fallback). */
  number(name: string, fallback?: number): number {
    const value = this.take(name);
    if ((value === undefined || value === null) && fallback !== undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw this.unsupported(`option ${name}=${JSON.stringify(value ?? null)} (expected a number)`);
    }
    return value;
  }

  /** A string option, one of `allowed` when given. */
  string(name: string, fallback?: string, allowed?: readonly string[]): string {
    const value = this.take(name);
    if ((value === undefined || value === null) && fallback !== undefined) return fallback;
    if (typeof value !== 'string' || (allowed && !allowed.includes(value))) {
      const expected = allowed ? `one of ${allowed.join(', ')}` : 'a string';
      throw this.unsupported(`option ${name}=${JSON.stringify(value ?? null)} (expected ${expected})`);
    }
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.take(name);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') throw this.unsupported(`option ${name}=${JSON.stringify(value)} (expected true or false)`);
    return value;
  }

  /** Options that carry no meaning for decoding or encoding here (read and ignored). */
  ignore(...names: string[]): void {
    for (const name of names) this.seen.add(name);
  }

  /** Throws for any option not read. */
  done(): void {
    const unknown = Object.keys(this.config).filter((key) => !this.seen.has(key));
    if (unknown.length > 0) throw this.unsupported(`unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
  }

  unsupported(detail: string): UnsupportedCodecError {
    return new UnsupportedCodecError(this.id, detail);
  }

  private take(name: string): JsonValue | undefined {
    this.seen.add(name);
    return this.config[name];
  }
}
