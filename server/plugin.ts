import type { Hono } from 'hono';
import type { Dataset } from '../catalog/dataset.js';
import type { DatasetRegistry } from '../catalog/registry.js';
import type { DatasetValues } from '../kerchunk/array-values.js';
import type { ChunkCodecs } from '../kerchunk/codecs/codec-pool.js';
import type { DatasetViews } from '../views/dataset-views.js';
import type { AccessControl } from './access-control.js';
import type { StratoConfig } from './config.js';
import type { StoreView } from './http/store-routes.js';
import type { Logger } from './log.js';
import type { AppMetrics } from './metrics.js';
import type { ProcessingStage } from './stage.js';

/** hono environment of routes under `/datasets/:id/...`: the dataset is resolved before they run. */
export interface DatasetEnv {
  Variables: { dataset: Dataset };
}

/** What every plugin's routes may use. */
export interface PluginContext {
  readonly registry: DatasetRegistry;
  /**
   * Who may read what (issue #18): `access.guard(c, dataset)` on every route that serves a
   * dataset outside `/datasets/{id}` (which the core guards), `access.visible(headers, datasets)`
   * for every listing, `access.authenticator` for the rest. Answers that depend on the caller
   * are `Cache-Control: private` with `Vary: Authorization` (`makePrivate`).
   */
  readonly access: AccessControl;
  readonly logger: Logger;
  /** Version of strato itself. */
  readonly version: string;
  /**
   * The settings read once at start-up (server/config.ts: admin token, rate limit, metrics
   * access, OPeNDAP limit, ...): a plugin reads these, never `process.env`.
   */
  readonly config: StratoConfig;
  /** Decoded values of a dataset's arrays (one byte-bounded cache of decoded chunks for all plugins). */
  readonly values: (dataset: Dataset) => DatasetValues;
  /**
   * The Zarr views of a dataset, made once per opened dataset: `views.raw(dataset)` (chunks as
   * stored) and `views.processed(dataset)` (after the stages; one byte-bounded cache of encoded
   * chunks for all datasets). Serve one with `storeRoutes` (server/http/store-routes.ts).
   */
  readonly views: DatasetViews;
  /** Whole-chunk decode/encode (worker threads in a running server). */
  readonly codecs: ChunkCodecs;
  /** Prometheus metrics of this app (plugins add cache observers; `/metrics` renders them). */
  readonly metrics: AppMetrics;
  /** The processed view's stages, in order. */
  readonly stages: () => ReadonlyArray<ProcessingStage>;
  /** Every loaded plugin (for `/plugins`). */
  readonly plugins: () => readonly StratoPlugin[];
  /**
   * What `make(context)` returns, made once per app (per context) for each `make` function: state
   * a plugin's app routes and dataset routes share, such as a cache, without module-level state.
   */
  readonly shared: <T>(make: (context: PluginContext) => T) => T;
}

/** Routes of one plugin under `/datasets/:id/<prefix>` ('' = directly under the dataset). */
export interface DatasetRoutes {
  readonly prefix: string;
  readonly app: Hono<DatasetEnv>;
  /**
   * The store `app` serves by key (`storeRoutes(store, ...)`), if it is one: the server may then
   * answer GET/HEAD of its keys without routing (server/http/fast-store.ts), with the same answers.
   */
  readonly store?: (dataset: Dataset) => StoreView;
}

/**
 * A plugin (xpublish's idea): a plain object owning routes at the app level, routes per
 * dataset, or both. Route conflicts between plugins fail at start-up.
 */
export interface StratoPlugin {
  readonly name: string;
  readonly version: string;
  appRoutes?(context: PluginContext): Hono;
  datasetRoutes?(context: PluginContext): DatasetRoutes;
  /**
   * Renders an error for a path this plugin answers in a client-specific format (OPeNDAP
   * clients cannot read problem+json), or undefined to leave it to the default.
   */
  renderProblem?(status: number, message: string, path: string): Response | undefined;
  /** A stage of the processed view's pipeline. */
  readonly stage?: ProcessingStage;
  /** OGC conformance classes this plugin implements (listed together at `/conformance`). */
  readonly conformsTo?: readonly string[];
  /** Links this plugin adds to the JSON landing page (`/?f=json`, OGC API – Common). */
  readonly landingLinks?: readonly LandingLink[];
}

/** A link of the JSON landing page; `href` is a path from the server's root ('/processes'). */
export interface LandingLink {
  readonly rel: string;
  readonly href: string;
  readonly type: string;
  readonly title: string;
}
