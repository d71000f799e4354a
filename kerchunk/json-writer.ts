import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { asciiJson } from './ascii-json.js';
import { type ChunkReference, type JsonValue, ReferenceFormatError } from './reference.js';

export { asciiJson };

/**
 * Writes a reference table as fsspec JSON, version 1 (`{"version": 1, "refs": {...}}`), the format
 * `json-references.ts` reads and kerchunk's `SingleHdf5ToZarr(...).translate()` + `ujson.dump` write:
 *
 * - metadata documents (`.zgroup`, `.zattrs`, `v/.zarray`, ...) as JSON text in strings; the
 *   document's `metadataText` verbatim where it still says the same (so `150.0` stays a float),
 *   non-ASCII characters escaped (`\u00e9`, as Python's json writes);
 * - chunk references as `[url, offset, length]`, `[url]` for a whole file;
 * - inline bytes as plain text when they are printable ASCII (kerchunk's rule, minus control
 *   characters, and never text that itself starts with `base64:`), else `base64:...`.
 *
 * One reference per line. The file is written to a temporary file beside the target, fsynced and
 * renamed over it: readers see the old table or the new one, never a torn one.
 */
export interface JsonReferenceSet {
  readonly metadata: ReadonlyMap<string, JsonValue>;
  /** The documents' original JSON text, used where it parses to the document. */
  readonly metadataText?: ReadonlyMap<string, string>;
  readonly chunks: ReadonlyMap<string, ChunkReference>;
}

export interface JsonWriteSummary {
  /** Bytes written. */
  readonly bytes: number;
  readonly chunks: number;
}

/** Text is flushed to the file in pieces of about this many characters. */
const FLUSH_CHARS = 1 << 20;

export async function writeJsonReferences(file: string, references: JsonReferenceSet): Promise<JsonWriteSummary> {
  const temporary = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', 0o644);
  let bytes = 0;
  try {
    try {
      let pending: string[] = [];
      let pendingChars = 0;
      let first = true;
      const flush = async () => {
        if (pending.length === 0) return;
        const buffer = Buffer.from(pending.join(''), 'utf8');
        // write(2) may write less than asked (a disk filling up writes what fits, then fails on
        // the next call): loop until all is written, so a full disk is an error, not a torn file.
        for (let written = 0; written < buffer.byteLength; ) {
          written += (await handle.write(buffer, written)).bytesWritten;
        }
        bytes += buffer.byteLength;
        pending = [];
        pendingChars = 0;
      };
      const emit = async (key: string, value: string) => {
        const line = `${first ? '\n' : ',\n'}${JSON.stringify(key)}:${value}`;
        first = false;
        pending.push(line);
        pendingChars += line.length;
        if (pendingChars >= FLUSH_CHARS) await flush();
      };
      pending.push('{"version":1,"refs":{');
      for (const [key, document] of references.metadata) {
        await emit(key, JSON.stringify(metadataText(key, document, references.metadataText?.get(key), file)));
      }
      for (const [key, reference] of references.chunks) {
        if (references.metadata.has(key)) throw new ReferenceFormatError(`${file}: "${key}" is both a metadata document and a chunk`);
        await emit(key, encodeReference(key, reference, file));
      }
      pending.push('\n}}\n');
      await flush();
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw namingFile(error, file);
  }
  await syncDirectory(dirname(file));
  return { bytes, chunks: references.chunks.size };
}

/** The JSON text of a metadata document: its original text when that still parses to the document. */
function metadataText(key: string, document: JsonValue, text: string | undefined, file: string): string {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new ReferenceFormatError(`${file}: metadata "${key}" must be a JSON object`);
  }
  if (text !== undefined && saysTheSame(text, document)) return asciiJson(text);
  return asciiJson(JSON.stringify(document));
}

function saysTheSame(text: string, document: JsonValue): boolean {
  try {
    return isDeepStrictEqual(JSON.parse(text), document);
  } catch {
    return false;
  }
}

/** A chunk reference as JSON text. */
export function encodeReference(key: string, reference: ChunkReference, file = 'references'): string {
  switch (reference.kind) {
    case 'inline':
      return JSON.stringify(encodeInline(reference.data));
    case 'whole':
      if (reference.url.length === 0) throw new ReferenceFormatError(`${file}: reference "${key}" has no url`);
      return JSON.stringify([reference.url]);
    case 'range':
      if (reference.url.length === 0) throw new ReferenceFormatError(`${file}: reference "${key}" has no url`);
      if (!isByteCount(reference.offset) || !isByteCount(reference.length)) {
        throw new ReferenceFormatError(`${file}: reference "${key}" needs a non-negative integer offset and length`);
      }
      return JSON.stringify([reference.url, reference.offset, reference.length]);
  }
}

/** Inline bytes: the text itself when printable ASCII (no control characters), else `base64:`. */
export function encodeInline(data: Uint8Array): string {
  let printable = true;
  for (const byte of data) {
    if (byte < 0x20 || byte > 0x7e) {
      printable = false;
      break;
    }
  }
  const text = printable ? Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1') : undefined;
  if (text !== undefined && !text.startsWith('base64:')) return text;
  return `base64:${Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64')}`;
}

function isByteCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // some filesystems cannot fsync a directory; the rename is still atomic
  } finally {
    await handle?.close();
  }
}

/** A write error (ENOSPC, EFBIG, EIO: errors of a descriptor, which name no path) with the file named, its code kept. */
function namingFile(error: unknown, file: string): unknown {
  const failed = error as NodeJS.ErrnoException;
  if (typeof failed?.code === 'string' && failed.path === undefined && !failed.message.includes(file)) failed.message = `cannot write ${file}: ${failed.message}`;
  return error;
}
