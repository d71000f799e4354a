import { describe, expect, it } from 'vitest';
import { objectMemberTexts } from './json-spans.js';

describe('objectMemberTexts', () => {
  it('returns each member value exactly as written', () => {
    const text = '{ "a/.zattrs": {"valid_range": [150.0, 350.0], "s": "x}\\"]"}, "b": 2.0 ,"c":[{"d":[]}],"e":null }';
    const members = objectMemberTexts(text);
    expect([...members.keys()]).toEqual(['a/.zattrs', 'b', 'c', 'e']);
    expect(members.get('a/.zattrs')).toBe('{"valid_range": [150.0, 350.0], "s": "x}\\"]"}');
    expect(members.get('b')).toBe('2.0');
    expect(members.get('c')).toBe('[{"d":[]}]');
    expect(members.get('e')).toBe('null');
  });
  it('reads an object that starts later in the text, and empty objects', () => {
    const text = '{"metadata": {"x": 1.50}, "record_size": 10}';
    expect(objectMemberTexts(text, text.indexOf('{', 1)).get('x')).toBe('1.50');
    expect(objectMemberTexts('{}').size).toBe(0);
  });
  it('throws on text that is not an object', () => {
    expect(() => objectMemberTexts('[1]')).toThrow(SyntaxError);
    expect(() => objectMemberTexts('{"a": ')).toThrow(SyntaxError);
  });
});
