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
  const sourceBytes = new Counter({ name: 'strato_source_read_bytes_total', help: 'Bytes read from sources, by source kind', labelNames: ['kind'] as const, registers });

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
      requests.inc({ route, method, status: String(status) });
      duration.observe({ route, method }, seconds);
      if (bytes !== undefined && bytes > 0) responseBytes.inc({ route }, bytes);
    },
    cache(name) {
      cacheBytes.set({ cache: name }, 0);
      return {
        hit: () => cacheHits.inc({ cache: name }),
        miss: () => cacheMisses.inc({ cache: name }),
        held: (bytes) => cacheBytes.set({ cache: name }, bytes),
      };
    },
    sources: {
      read({ kind, seconds, bytes, failure }) {
        sourceReads.inc({ kind, outcome: failure ?? 'ok' });
        sourceSeconds.observe({ kind }, seconds);
        if (bytes > 0) sourceBytes.inc({ kind }, bytes);
      },
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
