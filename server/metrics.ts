import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { CacheObserver } from '../kerchunk/cache-observer.js';
import type { SourceReadObserver } from '../kerchunk/sources/source-observer.js';

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
  readonly count: { inc(): void };
  readonly duration: { observe(value: number): void };
  readonly bytes: { inc(value: number): void };
}

const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const SOURCE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics(options: MetricsOptions = {}): AppMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics) collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'strato_http_requests_total',
    help: 'HTTP requests answered, by matched route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'strato_http_request_duration_seconds',
    help: 'Time from request to response headers, by matched route pattern and method',
    labelNames: ['route', 'method'] as const,
    buckets: HTTP_BUCKETS,
    registers,
  });
  const responseBytes = new Counter({
    name: 'strato_http_response_bytes_total',
    help: 'Response body bytes (as declared by Content-Length), by matched route pattern',
    labelNames: ['route'] as const,
    registers,
  });
  const inFlight = new Gauge({ name: 'strato_http_requests_in_flight', help: 'HTTP requests being answered', registers });

  const cacheHits = new Counter({ name: 'strato_cache_hits_total', help: 'Cache lookups that hit', labelNames: ['cache'] as const, registers });
  const cacheMisses = new Counter({ name: 'strato_cache_misses_total', help: 'Cache lookups that missed', labelNames: ['cache'] as const, registers });
  const cacheBytes = new Gauge({ name: 'strato_cache_bytes', help: 'Bytes held by the cache', labelNames: ['cache'] as const, registers });

  const sourceReads = new Counter({
    name: 'strato_source_reads_total',
    help: 'Reads of source bytes (one per chunk or range read), by source kind and outcome (ok or the failure)',
    labelNames: ['kind', 'outcome'] as const,
    registers,
  });
  const sourceSeconds = new Histogram({
    name: 'strato_source_read_duration_seconds',
    help: 'Latency of reads of source bytes, by source kind',
    labelNames: ['kind'] as const,
    buckets: SOURCE_BUCKETS,
    registers,
  });
  const denials = new Counter({
    name: 'strato_access_denied_total',
    help: 'Requests refused by a protected dataset, by decision (unauthenticated, forbidden, unavailable)',
    labelNames: ['decision'] as const,
    registers,
  });
  const sourceBytes = new Counter({ name: 'strato_source_read_bytes_total', help: 'Bytes read from sources, by source kind', labelNames: ['kind'] as const, registers });

  // The series of each route, method and status, looked up once (prom-client hashes the label
  // values of every `inc`/`observe` otherwise). Methods outside the standard ones count as OTHER,
  // so a client inventing methods cannot grow the series without bound.
  const series = new Map<string, RequestSeries>();
  const requestSeries = (route: string, rawMethod: string, status: number): RequestSeries => {
    const method = STANDARD_METHODS.has(rawMethod) ? rawMethod : 'OTHER';
    const key = `${route} ${method} ${status}`;
    let found = series.get(key);
    if (!found) {
      found = { count: requests.labels(route, method, String(status)), duration: duration.labels(route, method), bytes: responseBytes.labels(route) };
      series.set(key, found);
    }
    return found;
  };

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
      inFlight.inc();
      let done = false;
      return () => {
        if (done) return;
        done = true;
        inFlight.dec();
      };
    },
    requestDone({ route, method, status, seconds, bytes }) {
      const series = requestSeries(route, method, status);
      series.count.inc();
      series.duration.observe(seconds);
      if (bytes !== undefined && bytes > 0) series.bytes.inc(bytes);
    },
    cache(name) {
      const hits = cacheHits.labels(name);
      const misses = cacheMisses.labels(name);
      const held = cacheBytes.labels(name);
      held.set(0);
      return {
        hit: () => hits.inc(),
        miss: () => misses.inc(),
        held: (bytes) => held.set(bytes),
      };
    },
    sources: {
      read({ kind, seconds, bytes, failure }) {
        sourceReads.labels(kind, failure ?? 'ok').inc();
        sourceSeconds.labels(kind).observe(seconds);
        if (bytes > 0) sourceBytes.labels(kind).inc(bytes);
      },
    },
    accessDenied(decision) {
      denials.labels(decision).inc();
    },
    watchCatalog(state) {
      catalogState = state;
    },
    watchCodecs(state) {
      codecState = state;
    },
    async render() {
      return { text: await registry.metrics(), contentType: registry.contentType };
    },
  };
}
