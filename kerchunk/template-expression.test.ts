import { describe, expect, it } from 'vitest';
import { evaluate, formatTyped, renderTemplate, TemplateError } from './template-expression.js';

describe('renderTemplate', () => {
  it('substitutes names with or without spaces', () => {
    expect(renderTemplate('{{u}}/{{ name }}', { u: 'data/a.nc', name: 'x' })).toBe('data/a.nc/x');
  });
  it('leaves text without placeholders alone', () => {
    expect(renderTemplate('plain/path.nc', {})).toBe('plain/path.nc');
  });
  it('evaluates integer arithmetic as Python does', () => {
    expect(renderTemplate('{{ (i + 1) * 1000 }}', { i: 4 })).toBe('5000');
    expect(renderTemplate('{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }}', {})).toBe('3 -4 2 1024');
  });
  it('renders true division as a float', () => {
    expect(renderTemplate('{{ 8 / 2 }}', {})).toBe('4.0');
    expect(renderTemplate('{{ 5 / 2 }}', {})).toBe('2.5');
  });
  it('concatenates strings with ~ and +', () => {
    expect(renderTemplate('{{ "f" ~ i ~ ".nc" }}', { i: 3 })).toBe('f3.nc');
    expect(renderTemplate("{{ 'a' + 'b' }}", {})).toBe('ab');
  });
  it('refuses unknown names and anything that is not arithmetic', () => {
    expect(() => renderTemplate('{{ nope }}', {})).toThrow(TemplateError);
    expect(() => renderTemplate('{{ x.__class__ }}', { x: 1 })).toThrow(TemplateError);
    expect(() => renderTemplate('{{ 1 / 0 }}', {})).toThrow(/division by zero/);
    expect(() => renderTemplate('{{ (1 + 2 }}', {})).toThrow(/missing "\)"/);
  });
  it('formats floats like Python str()', () => {
    expect(formatTyped({ value: 3, isFloat: true })).toBe('3.0');
    expect(formatTyped(evaluate('1.5 * 2', {}))).toBe('3.0');
    expect(formatTyped(evaluate('3', {}))).toBe('3');
  });
  it('refuses expressions nested deeper than the limit instead of overflowing the stack', () => {
    const deep = (n: number) => `{{ ${'('.repeat(n)}i${')'.repeat(n)} }}`;
    expect(renderTemplate(deep(50), { i: 7 })).toBe('7');
    expect(() => renderTemplate(deep(20_000), { i: 7 })).toThrow(TemplateError);
    expect(() => renderTemplate(`{{ ${'-'.repeat(20_000)}1 }}`, {})).toThrow(/nests deeper/);
    expect(() => renderTemplate(`{{ 2${' ** 2'.repeat(20_000)} }}`, {})).toThrow(/nests deeper/);
  });
});
