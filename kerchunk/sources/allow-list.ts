import { lstat, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LRUCache } from 'lru-cache';
import { formatS3Url, parseS3Url } from './s3-url.js';
import { SourceForbiddenError } from './source-error.js';

/** Where a reference points, once resolved and allowed. */
export type ResolvedUrl =
  | { readonly kind: 'file' /** Absolute path with symlinks resolved. */; readonly path: string }
  | { readonly kind: 'http' /** Normalised absolute http(s) URL, without fragment. */; readonly url: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string };

export interface AllowListOptions {
  /**
   * How long the symlink resolution of an existing local file is reused. Default 1000 ms; 0 =
   * resolve on every check. The lexical checks run on every call regardless.
   */
  readonly realpathCacheMs?: number;
}

/** Unusable `sources` settings: an allow entry that is not a path, file://, http(s):// or s3:// URL, a bad S3 endpoint. */
export class SourcesConfigError extends Error {
  override readonly name = 'SourcesConfigError';
}

type Root =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'http'; readonly origin: string /** no trailing slash; '' = whole origin */; readonly path: string }
  | { readonly kind: 's3'; readonly bucket: string /** no trailing slash; '' = whole bucket */; readonly prefix: string };

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;
const KNOWN_SCHEMES = new Set(['file', 'http', 'https', 's3']);
const CONTROL = /[\u0000-\u001f\u007f]/;
const DEFAULT_REALPATH_CACHE_MS = 1000;

/**
 * The roots references may point into (`sources.allow` of the catalog), and the one check every
 * read goes through.
 *
 * Entries: local directories (or files), relative ones resolved against the catalog's directory
 * and symlinks resolved once at creation; `file://` URLs; `http(s)://host[:port]/prefix/`;
 * `s3://bucket/prefix/`. A prefix matches at a segment boundary (`/data` allows `/data/x`, not
 * `/data2/x`).
 *
 * `resolve(url, relativeTo)` refuses (SourceForbiddenError naming the reference and the roots):
 * control characters (NUL included); percent-encoded dot segments (`%2e%2e`, also double-encoded),
 * dot segments with path parameters (`..;x`) and percent-encoded slashes, anywhere; schemes other than file, http(s) and s3, or those
 * without `//`; `file://` URLs with a host; URLs with userinfo; http(s) URLs whose normalised
 * origin (scheme, host, port) is not a root's, or whose normalised path is outside the root's
 * prefix; s3 keys with `.`/`..` segments; local paths (relative ones resolved against
 * `relativeTo`, then normalised) whose real path — symlinks resolved, for a missing file those of
 * its deepest existing ancestor — is not inside a root's real path. A missing path that passes
 * through a dangling symlink is refused. Local results are the real path, which file sources open
 * with O_NOFOLLOW.
 */
export class SourceAllowList {
  /** Real paths by normalised path, each good until `until` (Date.now()). */
  private readonly realpaths: LRUCache<string, Expiring<string>> | undefined;
  /**
   * Whole decisions by (relativeTo, url): what `resolve` returned, good until the real path it
   * rests on expires (http and s3 decisions are lexical, kept as long). Refusals are never kept.
   */
  private readonly decisions: LRUCache<string, Expiring<ResolvedUrl>> | undefined;
  private readonly ttl: number;

  private constructor(
    private readonly roots: readonly Root[],
    options: AllowListOptions,
  ) {
    this.ttl = options.realpathCacheMs ?? DEFAULT_REALPATH_CACHE_MS;
    this.realpaths = this.ttl > 0 ? new LRUCache<string, Expiring<string>>({ max: 10_000 }) : undefined;
    this.decisions = this.ttl > 0 ? new LRUCache<string, Expiring<ResolvedUrl>>({ max: 10_000 }) : undefined;
  }

  /** The allow list of `entries`; relative local entries resolve against `baseDir`. */
  static async create(entries: readonly string[], baseDir: string, options: AllowListOptions = {}): Promise<SourceAllowList> {
    const roots = await Promise.all(entries.map((entry) => parseRoot(entry, baseDir)));
    return new SourceAllowList(roots, options);
  }

  /** The roots as they are compared (real paths, normalised URLs), for messages. */
  get description(): string {
    if (this.roots.length === 0) return 'none';
    return this.roots.map(describeRoot).join(', ');
  }

  /** Resolves a reference (relative ones against `relativeTo`, the reference file's directory) and checks it. */
  async resolve(url: string, relativeTo: string): Promise<ResolvedUrl> {
    const known = this.resolveKnown(url, relativeTo);
    if (known !== undefined) return known;
    const decided = await this.decide(url, relativeTo);
    if (this.decisions !== undefined && decided.until > Date.now() && !relativeTo.includes('\u0000')) this.decisions.set(decisionKey(url, relativeTo), decided);
    return decided.value;
  }

  /**
   * What `resolve` decided for this reference within the last `realpathCacheMs` (the same window
   * in which it reuses a symlink resolution), or undefined: then call `resolve`. Synchronous.
   * A stale local decision is a real path that was inside a root: the file source opens it
   * without following a symlink at its end and checks every descriptor's kernel name against
   * the roots, so a swapped symlink can make it serve an allowed file for up to that window,
   * never one outside the roots.
   */
  resolveKnown(url: string, relativeTo: string): ResolvedUrl | undefined {
    const decisions = this.decisions;
    // (a key is relativeTo NUL url: unambiguous while no relativeTo has a NUL, as paths cannot)
    if (decisions === undefined || relativeTo.includes('\u0000')) return undefined;
    const key = decisionKey(url, relativeTo);
    const known = decisions.get(key);
    if (known === undefined) return undefined;
    if (Date.now() < known.until) return known.value;
    decisions.delete(key);
    return undefined;
  }

  /** The decision for a reference, and until when it may be reused (a local one: as long as its real path). */
  private async decide(url: string, relativeTo: string): Promise<Expiring<ResolvedUrl>> {
    const problem = lexicalProblem(url);
    if (problem) throw this.forbidden(url, problem);
    // A one-letter "scheme" is a drive letter elsewhere and a file name here; unknown schemes without
    // `//` (`c:x`, `a:b.nc`) are file names too.
    const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
    const isUrl = scheme !== undefined && scheme.length > 1 && url.slice(scheme.length + 1).startsWith('//');
    if (scheme !== undefined && KNOWN_SCHEMES.has(scheme) && !isUrl) throw this.forbidden(url, `a ${scheme}: URL needs ${scheme}://`);
    if (isUrl) {
      switch (scheme) {
        case 'file':
          return this.resolveLocal(
            url,
            fileUrlPath(url, (reason) => this.forbidden(url, reason)),
          );
        case 'http':
        case 'https':
          return this.lexical(this.checkHttp(url, url));
        case 's3':
          return this.lexical(this.checkS3(url, url));
        default:
          throw this.forbidden(url, `the scheme ${scheme}: is not supported`);
      }
    }
    return this.resolveRelative(url, relativeTo);
  }

  /**
   * Whether an absolute local path that is already real (no symlinks: the name of an opened
   * descriptor, from /proc/self/fd) lies inside an allowed local root. Purely lexical.
   */
  allowsRealPath(path: string): boolean {
    if (!isAbsolute(path) || CONTROL.test(path)) return false;
    const normalised = resolve(path);
    if (normalised !== path) return false;
    return this.roots.some((root) => root.kind === 'file' && isInside(path, root.path));
  }

  /** Whether an absolute http(s) URL is inside an allowed root (for following redirects). */
  allowsHttpUrl(url: string): boolean {
    if (lexicalProblem(url) !== undefined) return false;
    try {
      this.checkHttp(url, url);
      return true;
    } catch {
      return false;
    }
  }

  private async resolveRelative(url: string, relativeTo: string): Promise<Expiring<ResolvedUrl>> {
    if (isAbsolute(url)) return this.resolveLocal(url, url);
    const baseScheme = SCHEME.exec(relativeTo)?.[1]?.toLowerCase();
    if (baseScheme === 'http' || baseScheme === 'https') {
      let joined: string;
      try {
        joined = new URL(url, relativeTo.endsWith('/') ? relativeTo : `${relativeTo}/`).href;
      } catch {
        throw this.forbidden(url, `cannot be resolved against ${relativeTo}`);
      }
      return this.lexical(this.checkHttp(url, joined));
    }
    if (baseScheme === 's3') {
      const base = parseS3Url(relativeTo);
      if (!base) throw this.forbidden(url, `cannot be resolved against ${relativeTo}`);
      const key = posix.normalize(posix.join(base.key, url));
      if (key === '..' || key.startsWith('../')) throw this.forbidden(url, `climbs out of the bucket of ${relativeTo}`);
      return this.lexical(this.checkS3(url, formatS3Url({ bucket: base.bucket, key })));
    }
    const base = baseScheme === 'file' ? fileUrlPath(relativeTo, (reason) => this.forbidden(url, `the base ${relativeTo}: ${reason}`)) : relativeTo;
    return this.resolveLocal(url, resolve(base, url));
  }

  private async resolveLocal(url: string, path: string): Promise<Expiring<ResolvedUrl>> {
    const normalised = resolve(path);
    const real = await this.realLocation(url, normalised);
    const inside = this.roots.some((root) => root.kind === 'file' && isInside(real.value, root.path));
    if (!inside) throw this.forbidden(url, `resolves to ${real.value}`);
    return { value: { kind: 'file', path: real.value }, until: real.until };
  }

  /**
   * The real path of `path`, or of its deepest existing ancestor joined with the rest, and until
   * when it may be reused (a missing path's: not at all).
   */
  private async realLocation(url: string, path: string): Promise<Expiring<string>> {
    const realpaths = this.realpaths;
    const cached = realpaths?.get(path);
    if (cached !== undefined) {
      if (Date.now() < cached.until) return cached;
      realpaths?.delete(path);
    }
    const until = Date.now() + this.ttl;
    try {
      const resolved = { value: await realpath(path), until };
      realpaths?.set(path, resolved);
      return resolved;
    } catch (error) {
      if (!isMissing(error)) throw this.forbidden(url, `${path} cannot be resolved (${errorCode(error)})`);
    }
    return { value: await realOfMissing(path, (reason) => this.forbidden(url, reason)), until: 0 };
  }

  /** A decision that rests on the text of the reference and the roots only (http, s3): reusable for the whole window. */
  private lexical(value: ResolvedUrl): Expiring<ResolvedUrl> {
    return { value, until: Date.now() + this.ttl };
  }

  private checkHttp(reference: string, url: string): ResolvedUrl {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw this.forbidden(reference, 'is not a valid URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw this.forbidden(reference, `the scheme ${parsed.protocol} is not supported`);
    if (parsed.username !== '' || parsed.password !== '' || authorityOf(url).includes('@')) {
      throw this.forbidden(reference, 'URLs with credentials (user@host) are not allowed');
    }
    const origin = parsed.origin;
    const path = parsed.pathname;
    const allowed = this.roots.some((root) => root.kind === 'http' && root.origin === origin && (root.path === '' || path === root.path || path.startsWith(`${root.path}/`)));
    if (!allowed) {
      const sameOrigin = this.roots.some((root) => root.kind === 'http' && root.origin === origin);
      throw this.forbidden(reference, sameOrigin ? `the path ${path} is outside the allowed prefixes of ${origin}` : `the origin ${origin} is not allowed`);
    }
    parsed.hash = '';
    return { kind: 'http', url: parsed.href };
  }

  private checkS3(reference: string, url: string): ResolvedUrl {
    const location = parseS3Url(url);
    if (!location || location.key === '') throw this.forbidden(reference, 'is not a valid s3://bucket/key URL');
    if (location.key.split('/').some((segment) => segment === '.' || segment === '..')) {
      throw this.forbidden(reference, 'has a dot segment in its key');
    }
    const { bucket, key } = location;
    const allowed = this.roots.some((root) => root.kind === 's3' && root.bucket === bucket && (root.prefix === '' || key === root.prefix || key.startsWith(`${root.prefix}/`)));
    if (!allowed) throw this.forbidden(reference, `s3://${bucket}/${key} is outside the allowed buckets and prefixes`);
    return { kind: 's3', bucket, key };
  }

  private forbidden(url: string, reason: string): SourceForbiddenError {
    return new SourceForbiddenError(url, `reference ${JSON.stringify(url)} is not allowed: ${reason}; allowed sources: ${this.description}`);
  }
}

/** A value and until when (Date.now()) it may be reused. */
interface Expiring<T> {
  readonly value: T;
  readonly until: number;
}

function decisionKey(url: string, relativeTo: string): string {
  return `${relativeTo}\u0000${url}`;
}

async function parseRoot(entry: string, baseDir: string): Promise<Root> {
  if (typeof entry !== 'string' || entry.length === 0 || CONTROL.test(entry)) {
    throw new SourcesConfigError(`sources.allow entry ${JSON.stringify(entry)} is empty or has control characters`);
  }
  const scheme = SCHEME.exec(entry)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme.length > 1 && entry.slice(scheme.length + 1).startsWith('//')) {
    switch (scheme) {
      case 'file':
        return { kind: 'file', path: await realRoot(fileUrlPath(entry, (reason) => new SourcesConfigError(`sources.allow entry ${entry}: ${reason}`))) };
      case 'http':
      case 'https': {
        let url: URL;
        try {
          url = new URL(entry);
        } catch {
          throw new SourcesConfigError(`sources.allow entry ${entry} is not a valid URL`);
        }
        if (url.username || url.password || url.search || url.hash) {
          throw new SourcesConfigError(`sources.allow entry ${entry} must not have credentials, a query or a fragment`);
        }
        return { kind: 'http', origin: url.origin, path: url.pathname.replace(/\/+$/, '') };
      }
      case 's3': {
        const location = parseS3Url(entry);
        if (!location) throw new SourcesConfigError(`sources.allow entry ${entry} is not a valid s3://bucket/prefix URL`);
        return { kind: 's3', bucket: location.bucket, prefix: location.key.replace(/\/+$/, '') };
      }
      default:
        throw new SourcesConfigError(`sources.allow entry ${entry}: the scheme ${scheme}: is not supported (paths, file://, http(s)://, s3://)`);
    }
  }
  return { kind: 'file', path: await realRoot(resolve(baseDir, entry)) };
}

async function realRoot(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    if (!isMissing(error)) throw new SourcesConfigError(`sources.allow entry ${path} cannot be resolved (${errorCode(error)})`);
    return realOfMissing(path, (reason) => new SourcesConfigError(`sources.allow entry ${path}: ${reason}`));
  }
}

/** Real path of the deepest existing ancestor of a missing (normalised, absolute) path, plus the rest. */
async function realOfMissing(path: string, fail: (reason: string) => Error): Promise<string> {
  const rest: string[] = [];
  let current = path;
  for (;;) {
    const parent = dirname(current);
    if (parent === current) return join(current, ...rest.reverse());
    rest.push(current.slice(parent.length).replace(/^[/\\]+/, ''));
    const stats = await lstat(current).catch((error: unknown) => {
      if (isMissing(error)) return undefined;
      throw fail(`${current} cannot be resolved (${errorCode(error)})`);
    });
    if (stats?.isSymbolicLink()) throw fail(`${current} is a dangling symlink`);
    current = parent;
    try {
      return join(await realpath(current), ...[...rest].reverse());
    } catch (error) {
      if (!isMissing(error)) throw fail(`${current} cannot be resolved (${errorCode(error)})`);
    }
  }
}

/** Problems visible in the text of a reference, whatever it resolves to. */
function lexicalProblem(url: string): string | undefined {
  if (typeof url !== 'string' || url.length === 0) return 'it is empty';
  if (url.includes('\u0000')) return 'it contains a NUL byte';
  if (CONTROL.test(url)) return 'it contains a control character';
  for (const segment of url.split(/[/\\?#]/)) {
    const decoded = segment.includes('%') ? decodeRepeatedly(segment) : segment;
    // `..;x` is `..` to servers that strip path parameters (Tomcat, Jetty); plain `.`/`..` resolve normally
    const bare = decoded.split(';')[0];
    if (bare === '.' || bare === '..') {
      if (decoded !== segment) return `it has a percent-encoded dot segment (${segment})`;
      if (bare !== decoded) return `it has a dot segment with a path parameter (${segment})`;
    }
    if (decoded === segment) continue;
    if (/[/\\]/.test(decoded)) return `it has a percent-encoded slash (${segment})`;
    if (decoded.includes('\u0000')) return 'it contains a percent-encoded NUL byte';
  }
  return undefined;
}

function decodeRepeatedly(segment: string): string {
  let current = segment;
  for (let i = 0; i < 3 && current.includes('%'); i++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return current;
    }
    if (next === current) break;
    current = next;
  }
  return current;
}

function fileUrlPath(url: string, fail: (reason: string) => Error): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw fail('is not a valid file:// URL');
  }
  if (parsed.hostname !== '' && parsed.hostname !== 'localhost') throw fail(`file:// URLs with a host (${parsed.hostname}) are not allowed`);
  if (parsed.username || parsed.password || parsed.port) throw fail('file:// URLs with credentials or a port are not allowed');
  try {
    return fileURLToPath(parsed);
  } catch (error) {
    throw fail(`is not a usable file path (${(error as Error).message})`);
  }
}

/** The raw authority (between `//` and the path) of an absolute URL, for spotting userinfo the parser might hide. */
function authorityOf(url: string): string {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:[/\\]*([^/\\?#]*)/.exec(url)?.[1] ?? '';
}

function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
}

function describeRoot(root: Root): string {
  switch (root.kind) {
    case 'file':
      return root.path.endsWith(sep) ? root.path : `${root.path}${sep}`;
    case 'http':
      return `${root.origin}${root.path}/`;
    case 's3':
      return `s3://${root.bucket}/${root.prefix === '' ? '' : `${root.prefix}/`}`;
  }
}

function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : String(error);
}
