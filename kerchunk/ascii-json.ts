/**
 * JSON text with every non-ASCII character written as a `\uXXXX` escape, as Python's `json`
 * writes it by default (`ensure_ascii=True`). The same document: outside strings JSON text is
 * ASCII anyway. zarr-python 2 and other Python readers decode metadata as ASCII and fail on raw
 * UTF-8, so every metadata document strato writes or serves goes through here.
 */
export function asciiJson(text: string): string {
  return text.replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
