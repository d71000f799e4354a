import type { ByteSource } from './byte-source.js';
import { HttpSource, type HttpSourceOptions } from './http-source.js';
import { checkS3Endpoint, parseS3Url, s3ObjectUrl } from './s3-url.js';
import { SourceError } from './source-error.js';

/**
 * `s3://bucket/key` objects, read anonymously (unsigned requests) from a configured endpoint in
 * path style (`${endpoint}/${bucket}/${key}`) through an http source: ranges, retries, timeouts,
 * versions (ETag) and error kinds are the http source's. Note that S3 answers 403, not 404, for a
 * missing key when the bucket does not allow anonymous listing: that is `bad-response` here.
 */
export interface S3SourceOptions {
  /** http(s) URL of the S3-compatible service, e.g. `https://s3.eu-central-1.amazonaws.com`. */
  readonly endpoint: string;
  /** The http source to read through (not closed by `close()`); by default one of our own. */
  readonly http?: ByteSource;
  /** Settings of our own http source when `http` is not given. */
  readonly httpOptions?: HttpSourceOptions;
}

export class S3Source implements ByteSource {
  private readonly endpoint: string;
  private readonly http: ByteSource;
  private readonly ownsHttp: boolean;

  constructor(options: S3SourceOptions) {
    this.endpoint = checkS3Endpoint(options.endpoint);
    this.ownsHttp = options.http === undefined;
    this.http = options.http ?? new HttpSource(options.httpOptions);
  }

  /** The http URL an `s3://` URL is read from. */
  objectUrl(url: string): string {
    const location = parseS3Url(url);
    if (!location || location.key === '') throw new SourceError('bad-response', `not an s3://bucket/key URL: ${JSON.stringify(url)}`);
    return s3ObjectUrl(this.endpoint, location);
  }

  async read(url: string, offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    return this.http.read(this.objectUrl(url), offset, length, signal);
  }

  async readWhole(url: string, signal?: AbortSignal): Promise<Uint8Array> {
    return this.http.readWhole(this.objectUrl(url), signal);
  }

  async size(url: string, signal?: AbortSignal): Promise<number | undefined> {
    return this.http.size(this.objectUrl(url), signal);
  }

  async version(url: string, signal?: AbortSignal): Promise<string | undefined> {
    return this.http.version(this.objectUrl(url), signal);
  }

  async close(): Promise<void> {
    if (this.ownsHttp) await this.http.close();
  }
}
