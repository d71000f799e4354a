/**
 * `s3://bucket/key` URLs and their path-style http form `${endpoint}/${bucket}/${key}`.
 *
 * Bucket names follow the S3 rules (3–63 characters of lowercase letters, digits, dots and
 * hyphens, starting and ending with a letter or digit), which also rules out userinfo and ports.
 * Keys are taken literally, as fsspec does (no percent-decoding); each `/`-separated segment is
 * percent-encoded in the http form.
 */
export interface S3Location {
  readonly bucket: string;
  /** The object key ('' for the whole bucket, as in an allow-list root). */
  readonly key: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The bucket and key of an `s3://` URL; undefined when it is not one or the bucket name is invalid. */
export function parseS3Url(url: string): S3Location | undefined {
  if (!url.startsWith('s3://')) return undefined;
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (!BUCKET.test(bucket) || bucket.includes('..')) return undefined;
  return { bucket, key };
}

export function formatS3Url(location: S3Location): string {
  return `s3://${location.bucket}/${location.key}`;
}

/** The path-style http URL of an object on `endpoint` (an http(s) URL, optionally with a path). */
export function s3ObjectUrl(endpoint: string, location: S3Location): string {
  const base = endpoint.replace(/\/+$/, '');
  const key = location.key.split('/').map(encodeURIComponent).join('/');
  return `${base}/${location.bucket}/${key}`;
}

/** Checks an S3 endpoint setting: an http(s) URL without credentials, query or fragment. */
export function checkS3Endpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new TypeError(`S3 endpoint ${JSON.stringify(endpoint)} is not a URL`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.search || url.hash) {
    throw new TypeError(`S3 endpoint ${JSON.stringify(endpoint)} must be an http(s) URL without credentials, query or fragment`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}
