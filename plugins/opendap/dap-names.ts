/**
 * Identifiers in DDS/DAS text and constraint expressions (DAP 2.0 §9: "%" escapes). Characters
 * outside the safe set go out as %XX of their UTF-8 bytes; clients send them back the same way.
 */
const SAFE = /[A-Za-z0-9_.!~*'+-]/;

export function dapName(name: string): string {
  let out = '';
  for (const char of name) {
    if (SAFE.test(char)) out += char;
    else for (const byte of new TextEncoder().encode(char)) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The identifier a `dapName` or a client's percent-escaped name stands for (malformed escapes kept as written). */
export function undapName(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
