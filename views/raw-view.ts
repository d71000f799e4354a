import type { Dataset } from '../catalog/dataset.js';
import type { ChunkReference } from '../kerchunk/reference.js';
import type { SourceReadEvent } from '../kerchunk/sources/source-observer.js';
import type { OpenedReference, Sources } from '../kerchunk/sources/sources.js';
import { isMetadataKey, splitChunkKey } from '../kerchunk/zarr-keys.js';
import { v2ChunkKey } from '../kerchunk/zarr-v3.js';
import { etagOf } from '../server/http/etag.js';
import { whenResponseOver } from '../server/http/response-lifetime.js';
import type { SendEnd } from '../server/http/sendfile.js';
import { bytesBody, type ServedBody } from '../server/http/served-body.js';
import { type BodyFile, STREAM_PIECE_BYTES, type StreamableBody } from '../server/http/store-routes.js';
import { dimensionSeparators, LazyMetadataDocuments, type MetadataDocumentCache } from './metadata-documents.js';

export const CHUNK_CACHE_CONTROL = 'public, max-age=3600';

/** Where the raw view reports what went wrong after an answer had started. */
export interface RawViewLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** A sendfile end as the source read observer counts it. */
const SEND_FAILURES: Record<SendEnd, SourceReadEvent['failure'] | undefined> = { sent: undefined, short: 'short-read', aborted: 'aborted', stalled: 'aborted', failed: 'other' };
const BYTES_TYPE = 'application/octet-stream';

/**
 * The raw view of a dataset: Zarr v2 metadata from the references, chunk bytes passed through
 * exactly as stored in the source files (never decoded).
 */
export class RawView {
  /** Rendered when first asked for, kept in the cache shared by all views (nothing per view stays). */
  private readonly documents: LazyMetadataDocuments;
  /** The dimension separator of every array (the arrays that exist, for chunk keys). */
  private readonly separators: ReadonlyMap<string, string>;

  constructor(
    private readonly dataset: Dataset,
    private readonly sources: Sources,
    /** Told about responses cut short (a source file shorter than its references say). */
    private readonly logger?: RawViewLogger,
    /** Where rendered metadata documents are kept (none: this view keeps its own). */
    documentCache?: MetadataDocumentCache,
  ) {
    const given = dataset.references.metadataText;
    this.documents = new LazyMetadataDocuments(given, () => completeMetadata(given), documentCache);
    this.separators = dimensionSeparators(given);
  }

  /** A metadata document ('.zmetadata', '.zgroup', 'v/.zarray', ...), or undefined. */
  metadata(key: string): ServedBody | undefined {
    return this.documents.get(key);
  }

  /**
   * The body of a chunk key (v2 `v/0.1`, or v3 `v/c/0/1`), or undefined when the array or the
   * chunk does not exist. Source bytes are read only for the part a response sends (HEAD reads
   * none, a Range its slice), also for whole-object references (`[url]`), whose size comes from
   * the source (fstat, HEAD or a Range probe); large answers stream in pieces.
   */
  async chunk(key: string, signal?: AbortSignal): Promise<ServedBody | undefined> {
    if (isMetadataKey(key)) return undefined;
    const v2Key = v2ChunkKey(key, this.separators) ?? key;
    const parts = splitChunkKey(v2Key);
    if (!parts || !this.separators.has(parts.array)) return undefined;
    const reference = await this.dataset.references.chunk(v2Key);
    if (!reference) return undefined;
    return this.referenceBody(reference, signal);
  }

  /**
   * `signal`: the request's; a client that leaves cancels the source read it started (shared
   * reads: once every reader left). The reference is resolved and checked once per request; a
   * local file's bytes go into a pooled buffer, handed back once the response is written out.
   */
  private async referenceBody(reference: ChunkReference, signal: AbortSignal | undefined): Promise<ServedBody> {
    const base = this.dataset.referenceBase;
    switch (reference.kind) {
      case 'inline':
        return bytesBody(reference.data, etagOf(reference.data), BYTES_TYPE, CHUNK_CACHE_CONTROL);
      case 'whole': {
        // size first: for http it is a HEAD that also leaves the version cached
        const size = await this.sources.size(reference, base);
        if (size === undefined) {
          // the server says neither Content-Length nor Content-Range: nothing to do but read it
          const bytes = await this.sources.readShared(reference, base, undefined, signal);
          return bytesBody(bytes, etagOf(bytes), BYTES_TYPE, CHUNK_CACHE_CONTROL);
        }
        const opened = await this.sources.open(reference, base, signal);
        return this.sourceBody(opened, size, etagOf(reference.url, 'whole', size, opened.version ?? ''), signal);
      }
      case 'range': {
        const opened = await this.sources.open(reference, base, signal);
        return this.sourceBody(opened, reference.length, etagOf(reference.url, reference.offset, reference.length, opened.version ?? ''), signal);
      }
    }
  }

  /** A body of `size` bytes read from the source by range, on demand (or sent from its file by sendfile). */
  private sourceBody(opened: OpenedReference, size: number, etag: string, requestSignal: AbortSignal | undefined): StreamableBody {
    // one plain object, `file` added only for local files (a conditional spread cost ~3 µs a chunk)
    const body: { -readonly [K in keyof StreamableBody]: StreamableBody[K] } = {
      size,
      etag,
      contentType: BYTES_TYPE,
      cacheControl: CHUNK_CACHE_CONTROL,
      // the bytes only go into this request's response: lend them a pooled buffer until it is written out
      read: (start, end) => opened.read({ start, end }, requestSignal, (release) => whenResponseOver(requestSignal, release)),
      stream: (start, end, signal) => pieces(start, end, signal, (from, to, pieceSignal) => opened.read({ start: from, end: to }, pieceSignal)),
    };
    const inFile = opened.file;
    if (inFile) body.file = (start, end, signal) => this.pinnedFile(inFile, start, end, signal);
    return body;
  }

  /** Bytes [start, end) of a local file on its pinned descriptor, for sendfile; what was sent is reported when done. */
  private async pinnedFile(inFile: NonNullable<OpenedReference['file']>, start: number, end: number, signal: AbortSignal | undefined): Promise<BodyFile> {
    const pinned = await inFile({ start, end }, signal);
    return {
      fd: pinned.fd,
      offset: pinned.offset,
      length: pinned.length,
      done: (outcome) => {
        pinned.done(outcome.bytes, SEND_FAILURES[outcome.end]);
        if (outcome.end === 'short' || outcome.end === 'failed') {
          this.logger?.warn('chunk response cut short', {
            dataset: this.dataset.id,
            reason:
              outcome.end === 'short' ? `the source file ends before the referenced range (${outcome.bytes} of ${pinned.length} bytes sent)` : (outcome.error ?? 'send failed'),
          });
        }
      },
    };
  }
}

/** Bytes [start, end) as a stream read one piece at a time, when the consumer asks for more. */
function pieces(
  start: number,
  end: number,
  signal: AbortSignal | undefined,
  read: (start: number, end: number, signal?: AbortSignal) => Promise<Uint8Array>,
): ReadableStream<Uint8Array> {
  let position = start;
  const controller = new AbortController();
  const forward = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', forward, { once: true });
  const stop = () => signal?.removeEventListener('abort', forward);
  return new ReadableStream<Uint8Array>(
    {
      async pull(stream) {
        if (position >= end) {
          stop();
          stream.close();
          return;
        }
        const to = Math.min(end, position + STREAM_PIECE_BYTES);
        try {
          const bytes = await read(position, to, controller.signal);
          position = to;
          stream.enqueue(bytes);
        } catch (error) {
          stop();
          stream.error(error);
        }
      },
      cancel(reason) {
        stop();
        controller.abort(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

const GROUP_TEXT = '{"zarr_format": 2}';

/**
 * The metadata documents (JSON text) a Zarr client needs, with what kerchunk tables often leave
 * out: a root `.zgroup` and `.zattrs`, and a `.zgroup` for every parent group of an array.
 */
export function completeMetadata(metadataText: ReadonlyMap<string, string>): Map<string, string> {
  const complete = new Map<string, string>([
    ['.zgroup', GROUP_TEXT],
    ['.zattrs', '{}'],
  ]);
  for (const [key, text] of metadataText) {
    complete.set(key, text);
    const parts = key.split('/').slice(0, -2);
    for (let depth = 1; depth <= parts.length; depth++) {
      const group = `${parts.slice(0, depth).join('/')}/.zgroup`;
      if (!metadataText.has(group)) complete.set(group, GROUP_TEXT);
    }
  }
  return complete;
}
