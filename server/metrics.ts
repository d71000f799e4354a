import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { CacheObserver } from '../kerchunk/cache-observer.js';
import type { SourceReadObserver } from '../kerchunk/sources/source-observer.js';
import { type Observer, PlainMetrics, type Sample } from './plain-metrics.js';

/** One answered HTTP request, as the metrics see it. */
export interface RequestSample {
  /** The matched route pattern (`/datasets/:id/zarr/*`), never the raw path; `unmatched` for 404s of no route. */
  readonly route: string;
  readonly method: string;
  readonly status: number;
  readonly seconds: number;
  /** Response body bytes when known (Content-Length). */
  readonly bytes?: number;
}

/** What the catalog looks like right now (read at scrape time). */
export interface CatalogState {
  readonly datasets: number;
  readonly problems: number;
  /** Decoded parquet reference records held, summed over the open parquet datasets. */
  readonly parquet: { readonly bytes: number; readonly records: number; readonly loads: number };
}

/** The codec worker pool right now. */
export interface CodecPoolState {
  readonly threads: number;
  /** Jobs sent to the threads and not answered yet. */
  readonly pending: number;
}

/**
 * The Prometheus metrics of one app: its own prom-client Registry (never the global default, so
 * several apps in one process keep separate counts). Code outside server/ and plugins/metrics
 * sees only the small observer interfaces (CacheObserver, SourceReadObserver).
 */
export interface AppMetrics {
  readonly registry: Registry;
  /** Marks a request as in flight; call the returned function once it is answered. */
  requestStarted(): () => void;
  requestDone(sample: RequestSample): void;
  /** Observer for the byte-bounded cache `name` (hits, misses, bytes held). */
  cache(name: string): CacheObserver;
  /** Observer of source reads (latency, bytes, failures by source kind). */
  readonly sources: SourceReadObserver;
  /** A request refused by a dataset's `access` rule (`unauthenticated`, `forbidden` or `unavailable`). */
  accessDenied(decision: string): void;
  /** Reports the catalog's state at every scrape. */
  watchCatalog(state: () => CatalogState): void;
  /** Reports the codec worker pool (threads, jobs pending) at every scrape. */
  watchCodecs(state: () => CodecPoolState): void;
  /** The exposition text and its content type (`text/plain; version=0.0.4`). */
  render(): Promise<{ readonly text: string; readonly contentType: string }>;
}

export interface MetricsOptions {
  /** prom-client's default process and Node.js metrics (CPU, memory, event loop lag, GC). Default false. */
  readonly processMetrics?: boolean;
}

const STANDARD_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

interface RequestSeries {
  readonly route: string;
  readonly count: Sample;
  readonly duration: Observer;
  bytes?: Sample;
}

function entry<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let found = map.get(key);
  if (found === undefined) {
    found = make();
    map.set(key, found);
  }
  return found;
}

const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const SOURCE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics(options: MetricsOptions = {}): AppMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics) collectDefaultMetrics({ register: registry });

  // Counted on every request and chunk read: plain numbers (plain-metrics.ts), written before the registry's at scrape time.
  const plain = new PlainMetrics();
  const requests = plain.counter('strato_http_requests_total', 'HTTP requests answered, by matched route pattern, method and status', ['route', 'method', 'status']);
  const duration = plain.histogram(
    'strato_http_request_duration_seconds',
    'Time from request to response headers, by matched route pattern and method',
    ['route', 'method'],
    HTTP_BUCKETS,
  );
  const responseBytes = plain.counter('strato_http_response_bytes_total', 'Response body bytes (as declared by Content-Length), by matched route pattern', ['route']);
  const inFlight = plain.gauge('strato_http_requests_in_flight', 'HTTP requests being answered', []).series();

  const cacheHits = plain.counter('strato_cache_hits_total', 'Cache lookups that hit', ['cache']);
  const cacheMisses = plain.counter('strato_cache_misses_total', 'Cache lookups that missed', ['cache']);
  const cacheBytes = plain.gauge('strato_cache_bytes', 'Bytes held by the cache', ['cache']);

  const sourceReads = plain.counter('strato_source_reads_total', 'Reads of source bytes (one per chunk or range read), by source kind and outcome (ok or the failure)', [
    'kind',
    'outcome',
  ]);
  const sourceSeconds = plain.histogram('strato_source_read_duration_seconds', 'Latency of reads of source bytes, by source kind', ['kind'], SOURCE_BUCKETS);
  const denials = plain.counter('strato_access_denied_total', 'Requests refused by a protected dataset, by decision (unauthenticated, forbidden, unavailable)', ['decision']);
  const sourceBytes = plain.counter('strato_source_read_bytes_total', 'Bytes read from sources, by source kind', ['kind']);

  // The series of each route, method and status, looked up once. Methods outside the standard
  // ones count as OTHER, so a client inventing methods cannot grow the series without bound.
  const series = new Map<string, RequestSeries>();
  const requestSeries = (route: string, rawMethod: string, status: number): RequestSeries => {
    const method = STANDARD_METHODS.has(rawMethod) ? rawMethod : 'OTHER';
    const key = `${status} ${method} ${route}`;
    let found = series.get(key);
    if (!found) {
      found = { count: requests.series(route, method, String(status)), duration: duration.series(route, method), route };
      series.set(key, found);
    }
    return found;
  };
  // a route's bytes show once it has counted some (a series is shown from its first look-up)
  const bytesOf = new Map<string, Sample>();
  const sourceSeries = new Map<string, { readonly seconds: Observer; ok: Sample | undefined; bytes: Sample | undefined }>();

  // with `--workers N` a scrape reaches any one worker: its pid tells them apart
  new Gauge({ name: 'strato_process_info', help: 'This server process (pid)', labelNames: ['pid'] as const, registers }).set({ pid: String(process.pid) }, 1);

  let catalogState: (() => CatalogState) | undefined;
  new Gauge({
    name: 'strato_catalog_datasets',
    help: 'Datasets being served',
    registers,
    collect() {
      if (catalogState) this.set(catalogState().datasets);
    },
  });
  new Gauge({
    name: 'strato_catalog_problems',
    help: 'Catalog entries left out because they cannot be served (see /health)',
    registers,
    collect() {
      if (catalogState) this.set(catalogState().problems);
    },
  });

  const parquetGauge = (name: string, help: string, pick: (state: CatalogState['parquet']) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        if (catalogState) this.set(pick(catalogState().parquet));
      },
    });
  parquetGauge('strato_parquet_cache_bytes', 'Bytes of decoded parquet reference records held (all parquet datasets)', (p) => p.bytes);
  parquetGauge('strato_parquet_cache_records', 'Parquet reference records held (all parquet datasets)', (p) => p.records);
  parquetGauge('strato_parquet_record_loads', 'Parquet record files read and decoded since the open datasets were opened (cache misses)', (p) => p.loads);

  let codecState: (() => CodecPoolState) | undefined;
  new Gauge({
    name: 'strato_codec_threads',
    help: 'Codec worker threads (0: chunks are decoded and encoded on the event loop)',
    registers,
    collect() {
      this.set(codecState?.().threads ?? 0);
    },
  });
  new Gauge({
    name: 'strato_codec_jobs_pending',
    help: 'Decode/encode jobs sent to the codec threads and not answered yet (running or queued)',
    registers,
    collect() {
      this.set(codecState?.().pending ?? 0);
    },
  });

  return {
    registry,
    requestStarted() {
      inFlight.value++;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        inFlight.value--;
      };
    },
    requestDone({ route, method, status, seconds, bytes }) {
      const found = requestSeries(route, method, status);
      found.count.value++;
      found.duration.observe(seconds);
      if (bytes !== undefined && bytes > 0) {
        found.bytes ??= entry(bytesOf, route, () => responseBytes.series(route));
        found.bytes.value += bytes;
      }
    },
    cache(name) {
      let hits: Sample | undefined;
      let misses: Sample | undefined;
      const held = cacheBytes.series(name);
      return {
        hit: () => {
          hits ??= cacheHits.series(name);
          hits.value++;
        },
        miss: () => {
          misses ??= cacheMisses.series(name);
          misses.value++;
        },
        held: (bytes) => {
          held.value = bytes;
        },
      };
    },
    sources: {
      read({ kind, seconds, bytes, failure }) {
        const found = entry(sourceSeries, kind, () => ({ seconds: sourceSeconds.series(kind), ok: undefined, bytes: undefined }));
        if (failure === undefined) {
          found.ok ??= sourceReads.series(kind, 'ok');
          found.ok.value++;
        } else sourceReads.series(kind, failure).value++;
        found.seconds.observe(seconds);
        if (bytes > 0) {
          found.bytes ??= sourceBytes.series(kind);
          found.bytes.value += bytes;
        }
      },
    },
    accessDenied(decision) {
      denials.series(decision).value++;
    },
    watchCatalog(state) {
      catalogState = state;
    },
    watchCodecs(state) {
      codecState = state;
    },
    async render() {
      return { text: `${plain.exposition()}\n${await registry.metrics()}`, contentType: registry.contentType };
    },
  };
}
