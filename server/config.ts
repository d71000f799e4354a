import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { type BudgetLimits, DEFAULT_BUDGET_LIMITS } from '../kerchunk/request-budget.js';
import { DEFAULT_READ_BUDGET } from '../kerchunk/sources/read-budget.js';
import { type JobSettings, JobSettingsError, jobSettingsFromEnv } from '../processes/job-settings.js';
import type { RateLimitOptions } from './http/rate-limit.js';

/**
 * strato's settings from the environment, read once at start-up (`readConfig(process.env)`) into
 * one typed object: the CLI reads it and passes it down (`startServer`, `createApp`, and plugins
 * through `PluginContext.config`), so nothing reads `process.env` while serving. Every field's
 * comment names its variable and default; an empty variable counts as unset. A bad value is a
 * ConfigError whose message starts with the variable's name (the CLI prints it in one line and
 * exits 2).
 */
export interface StratoConfig {
  /** `STRATO_CATALOG`: the catalog file of `serve` and `stac` without `--catalog`. Default `catalog.yaml`. */
  readonly catalog: string;
  /** `PORT`: the port of `serve` without `--port` (0..65535, 0 = any free port). Default 8000. */
  readonly port: number;
  /** `STRATO_DRAIN_SECONDS`: how long a stopping server lets in-flight requests finish. Default 10 s. */
  readonly drainMs: number;
  /** `STRATO_SLOW_REQUEST_SECONDS`: requests slower than this are logged at info. Default 1 s. */
  readonly slowRequestMs: number;
  /** `STRATO_ACCESS_LOG=all`: an access line at info for every request. Default off (only 5xx and slow ones). */
  readonly logAllRequests: boolean;
  /**
   * The listening socket, per process:
   * `STRATO_MAX_CONNECTIONS` (`maxConnections`, default 1024),
   * `STRATO_HEADERS_TIMEOUT_SECONDS` (`headersTimeoutMs`, default 10 s, more than 0),
   * `STRATO_REQUEST_TIMEOUT_SECONDS` (`requestTimeoutMs`, default 30 s, 0 = no limit),
   * `STRATO_KEEP_ALIVE_TIMEOUT_SECONDS` (`keepAliveTimeoutMs`, default 5 s);
   * `checkIntervalMs` is no variable (1 s, see `connectionLimits`).
   */
  readonly connections: ConnectionLimits;
  /**
   * What one request may cost: `STRATO_MAX_CHUNKS` (`chunks`, default 100,000),
   * `STRATO_MAX_DECODED_MB` (`decodedBytes`, default 4096 MiB), `STRATO_MAX_REQUEST_SECONDS`
   * (`wallMs`, default 60 s); each a positive number.
   */
  readonly budget: BudgetLimits;
  /** OGC API – Processes jobs: the STRATO_JOB_* variables (processes/job-settings.ts). */
  readonly jobs: JobSettings;
  /**
   * Source bytes being read at once by the process: `STRATO_MAX_READ_MB` (`maxBytes`, default
   * 512 MiB) and `STRATO_READ_WAIT_SECONDS` (`maxWaitMs`, default 30 s) before a 503. A value
   * that is not a positive number is ignored (the default applies), as it always was.
   */
  readonly readBudget: { readonly maxBytes: number; readonly maxWaitMs: number };
  /**
   * `STRATO_DECODED_CACHE_MB`: bytes of decoded source chunks kept in memory by this process.
   * Default 1/8 of the machine's memory (or of the cgroup's limit, when lower), shared among the
   * server processes of `--workers N`; at least 64 MiB.
   */
  readonly decodedCacheBytes: number;
  /**
   * `STRATO_ENCODED_CACHE_MB`: bytes of encoded processed-view chunks kept in memory by this
   * process. Default 1/16 of the memory, shared among the server processes; at least 64 MiB.
   */
  readonly encodedCacheBytes: number;
  /**
   * The encoded-chunk tier on disk that all server processes share (and that outlives them):
   * `STRATO_CACHE_DIR` (`dir`, default `<os tmpdir>/strato-cache-<uid>`) and
   * `STRATO_DISK_CACHE_MB` (`maxBytes`; default undefined: a quarter of the free space there,
   * at most 8 GiB; 0 turns the tier off).
   */
  readonly diskCache: { readonly dir: string; readonly maxBytes: number | undefined };
  /** `STRATO_DAP_MAX_BYTES`: the largest OPeNDAP `.dods` answer (a byte count, `k`/`M`/`G` suffixes in powers of 1024). Default 1 GiB. */
  readonly dapMaxBytes: number;
  /** `STRATO_ADMIN_TOKEN`: the admin API's Bearer token (also unlocks `/health` details). Default none: the admin API is off. */
  readonly adminToken: string | undefined;
  /**
   * The admin rate limit per client address: `STRATO_ADMIN_RATE` (`ratePerSecond`, default 10),
   * `STRATO_ADMIN_BURST` (`burst`, default 20), `STRATO_ADMIN_FAILED_AUTH_COST`
   * (`failedAuthCost`, default 5); each a positive number.
   */
  readonly adminRateLimit: AdminRateLimit;
  /**
   * Who may read `/metrics`: `STRATO_METRICS` (`access`: `loopback` (default), `on`, `token` or
   * `off`) and `STRATO_METRICS_TOKEN` (`token`, required by `token`; default none).
   */
  readonly metrics: { readonly access: MetricsAccess; readonly token?: string };
}

/** A setting from the environment that cannot be used; the message starts with the variable's name. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The admin API's rate limit per client address (see server/http/rate-limit.ts). */
export type AdminRateLimit = Required<Pick<RateLimitOptions, 'ratePerSecond' | 'burst' | 'failedAuthCost'>>;

/** Who may read `/metrics` (see `StratoConfig.metrics` and plugins/metrics). */
export type MetricsAccess = 'off' | 'on' | 'loopback' | 'token';

/**
 * What one server process lets its clients hold. A connection over `maxConnections` is closed
 * as soon as it is accepted; a client that has not sent its request headers within
 * `headersTimeoutMs`, or the whole request (headers and body) within `requestTimeoutMs`, gets a
 * 408 and is disconnected (Node checks every `checkIntervalMs`); an idle keep-alive connection
 * is closed after `keepAliveTimeoutMs`. Sending the response is not timed: a slow reader of a
 * large body gets all of it.
 */
export interface ConnectionLimits {
  readonly maxConnections: number;
  readonly headersTimeoutMs: number;
  /** 0 = no limit; otherwise at least `headersTimeoutMs` (raised to it). */
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly checkIntervalMs: number;
}

export const CONNECTION_DEFAULTS: ConnectionLimits = {
  maxConnections: 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  // above nginx.conf's upstream keepalive_timeout (4 s), so nginx never reuses a socket being closed
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
};

export const DEFAULT_DRAIN_MS = 10_000;

const MIB = 1024 * 1024;
const GIB = 1024 ** 3;

/** The smallest default of a memory cache. */
export const MIN_DEFAULT_CACHE_BYTES = 64 * MIB;

/** Set by `strato serve --workers N` in its workers: how many server processes share the machine. */
export const SERVER_PROCESSES_VARIABLE = 'STRATO_SERVER_PROCESSES';

/** The memory this process may count on: the machine's, or its cgroup's limit when lower. */
export function memoryLimit(): number {
  const total = totalmem();
  const constrained = process.constrainedMemory?.() ?? 0;
  return constrained > 0 && constrained < total ? constrained : total;
}

/** `fraction` of the memory limit, shared among the server processes, at least 64 MiB. */
export function defaultCacheBytes(fraction: number, env: Env, memory = memoryLimit()): number {
  const processes = Number(text(env[SERVER_PROCESSES_VARIABLE]) ?? 1);
  const share = Number.isInteger(processes) && processes >= 1 && processes <= 64 ? processes : 1;
  return Math.max(MIN_DEFAULT_CACHE_BYTES, Math.floor((memory * fraction) / share));
}

function diskCacheBytes(env: Env): number {
  const given = text(env.STRATO_DISK_CACHE_MB) as string;
  const mib = Number(given);
  if (!Number.isFinite(mib) || mib < 0) throw new ConfigError(`STRATO_DISK_CACHE_MB must be a size in MiB (0: no disk cache), got "${given}"`);
  return Math.floor(mib * MIB);
}

function jobsFromEnv(env: Env): JobSettings {
  try {
    return jobSettingsFromEnv(env);
  } catch (error) {
    throw error instanceof JobSettingsError ? new ConfigError(error.message) : error;
  }
}

/** The admin API's rate limit without settings. */
export const DEFAULT_ADMIN_RATE_LIMIT: AdminRateLimit = { ratePerSecond: 10, burst: 20, failedAuthCost: 5 };

type Env = Readonly<Record<string, string | undefined>>;

/** Every setting from `env` (normally `process.env`), checked; throws ConfigError naming the first bad variable. */
export function readConfig(env: Env = process.env): StratoConfig {
  const metrics = metricsAccessFromEnv(env);
  if (metrics.access === 'token' && !metrics.token) throw new ConfigError('STRATO_METRICS=token needs STRATO_METRICS_TOKEN');
  return {
    catalog: text(env.STRATO_CATALOG) ?? 'catalog.yaml',
    port: portFromEnv(env),
    drainMs: secondsFromEnv(env, 'STRATO_DRAIN_SECONDS', DEFAULT_DRAIN_MS / 1000) * 1000,
    slowRequestMs: secondsFromEnv(env, 'STRATO_SLOW_REQUEST_SECONDS', 1) * 1000,
    logAllRequests: env.STRATO_ACCESS_LOG === 'all',
    connections: connectionLimitsFromEnv(env),
    budget: budgetLimitsFromEnv(env),
    jobs: jobsFromEnv(env),
    readBudget: readBudgetFromEnv(env),
    decodedCacheBytes: cacheBytesFromEnv('STRATO_DECODED_CACHE_MB', defaultCacheBytes(1 / 8, env), env),
    encodedCacheBytes: cacheBytesFromEnv('STRATO_ENCODED_CACHE_MB', defaultCacheBytes(1 / 16, env), env),
    diskCache: {
      dir: text(env.STRATO_CACHE_DIR) ?? join(tmpdir(), `strato-cache-${process.getuid?.() ?? 'user'}`),
      maxBytes: text(env.STRATO_DISK_CACHE_MB) === undefined ? undefined : diskCacheBytes(env),
    },
    dapMaxBytes: maxBytesFromEnv(env.STRATO_DAP_MAX_BYTES),
    adminToken: text(env.STRATO_ADMIN_TOKEN),
    adminRateLimit: { ...DEFAULT_ADMIN_RATE_LIMIT, ...rateLimitFromEnv(env) },
    metrics,
  };
}

/** The value, or undefined when unset or empty. */
function text(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function portFromEnv(env: Env): number {
  const given = text(env.PORT);
  if (given === undefined) return 8000;
  const port = Number(given);
  if (!/^\d+$/.test(given.trim()) || !Number.isInteger(port) || port > 65535) throw new ConfigError(`PORT must be 0..65535, got "${given}"`);
  return port;
}

/** A non-negative number of seconds, or the default. */
function secondsFromEnv(env: Env, name: string, fallback: number): number {
  const given = text(env[name]);
  if (given === undefined) return fallback;
  const seconds = Number(given);
  if (!Number.isFinite(seconds) || seconds < 0) throw new ConfigError(`${name} must be a number of seconds, got "${given}"`);
  return seconds;
}

function connectionLimitsFromEnv(env: Env): ConnectionLimits {
  const ms = (name: string, fallbackMs: number) => Math.round(secondsFromEnv(env, name, fallbackMs / 1000) * 1000);
  const capText = text(env.STRATO_MAX_CONNECTIONS);
  const maxConnections = capText === undefined ? CONNECTION_DEFAULTS.maxConnections : Number(capText);
  if (!Number.isInteger(maxConnections) || maxConnections < 1) throw new ConfigError(`STRATO_MAX_CONNECTIONS must be a positive integer, got "${capText}"`);
  const headersTimeoutMs = ms('STRATO_HEADERS_TIMEOUT_SECONDS', CONNECTION_DEFAULTS.headersTimeoutMs);
  if (headersTimeoutMs <= 0) throw new ConfigError('STRATO_HEADERS_TIMEOUT_SECONDS must be more than 0');
  return {
    maxConnections,
    headersTimeoutMs,
    requestTimeoutMs: ms('STRATO_REQUEST_TIMEOUT_SECONDS', CONNECTION_DEFAULTS.requestTimeoutMs),
    keepAliveTimeoutMs: ms('STRATO_KEEP_ALIVE_TIMEOUT_SECONDS', CONNECTION_DEFAULTS.keepAliveTimeoutMs),
    checkIntervalMs: CONNECTION_DEFAULTS.checkIntervalMs,
  };
}

/**
 * The per-request budget: STRATO_MAX_CHUNKS (count), STRATO_MAX_DECODED_MB (MiB) and
 * STRATO_MAX_REQUEST_SECONDS. Anything but a positive number is a ConfigError.
 */
export function budgetLimitsFromEnv(env: Env): BudgetLimits {
  const read = (name: string, fallback: number, scale: number): number => {
    const given = text(env[name]);
    if (given === undefined) return fallback;
    const value = Number(given);
    if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`${name} must be a positive number, got "${given}"`);
    return Math.max(1, Math.floor(value * scale));
  };
  return {
    chunks: read('STRATO_MAX_CHUNKS', DEFAULT_BUDGET_LIMITS.chunks, 1),
    decodedBytes: read('STRATO_MAX_DECODED_MB', DEFAULT_BUDGET_LIMITS.decodedBytes, MIB),
    wallMs: read('STRATO_MAX_REQUEST_SECONDS', DEFAULT_BUDGET_LIMITS.wallMs, 1000),
  };
}

/** STRATO_MAX_READ_MB and STRATO_READ_WAIT_SECONDS; what is not a positive number leaves the default. */
function readBudgetFromEnv(env: Env): StratoConfig['readBudget'] {
  const positive = (value: string | undefined): number | undefined => {
    if (value === undefined || value.trim() === '') return undefined;
    const number = Number(value);
    return Number.isFinite(number) && number > 0 ? number : undefined;
  };
  const mb = positive(env.STRATO_MAX_READ_MB);
  const waitSeconds = positive(env.STRATO_READ_WAIT_SECONDS);
  return {
    maxBytes: mb !== undefined ? Math.max(1, Math.round(mb * MIB)) : DEFAULT_READ_BUDGET.maxBytes,
    maxWaitMs: waitSeconds !== undefined ? waitSeconds * 1000 : DEFAULT_READ_BUDGET.maxWaitMs,
  };
}

/**
 * A cache bound in bytes from a variable given in MiB (`STRATO_DECODED_CACHE_MB=512`), or
 * `fallbackBytes` when unset. Anything but a non-negative number is a ConfigError.
 */
export function cacheBytesFromEnv(name: string, fallbackBytes: number, env: Env): number {
  const given = text(env[name]);
  if (given === undefined) return fallbackBytes;
  const mib = Number(given);
  if (!Number.isFinite(mib) || mib < 0) throw new ConfigError(`${name} must be a size in MiB, got "${given}"`);
  return Math.max(1, Math.floor(mib * MIB));
}

/** `STRATO_DAP_MAX_BYTES` (a byte count, `k`/`M`/`G` suffixes in powers of 1024), or 1 GiB. */
export function maxBytesFromEnv(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return GIB;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)i?[bB]?\s*$/.exec(value);
  if (!match) throw new ConfigError(`STRATO_DAP_MAX_BYTES must be a byte count like 500000000 or 512M, got "${value}"`);
  const factor = { '': 1, k: 1024, m: 1024 ** 2, g: GIB }[(match[2] ?? '').toLowerCase()] ?? 1;
  return Math.floor(Number(match[1]) * factor);
}

/** Rate limit settings that are set: STRATO_ADMIN_RATE (per second), STRATO_ADMIN_BURST, STRATO_ADMIN_FAILED_AUTH_COST. */
export function rateLimitFromEnv(env: Env): RateLimitOptions {
  const number = (name: string): number | undefined => {
    const given = text(env[name]);
    if (given === undefined) return undefined;
    const value = Number(given);
    if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`${name} must be a positive number, got "${given}"`);
    return value;
  };
  const rate = number('STRATO_ADMIN_RATE');
  const burst = number('STRATO_ADMIN_BURST');
  const cost = number('STRATO_ADMIN_FAILED_AUTH_COST');
  return { ...(rate ? { ratePerSecond: rate } : {}), ...(burst ? { burst } : {}), ...(cost ? { failedAuthCost: cost } : {}) };
}

const METRICS_MODES: readonly MetricsAccess[] = ['off', 'on', 'loopback', 'token'];

/** STRATO_METRICS and STRATO_METRICS_TOKEN; a ConfigError for an unknown mode. */
export function metricsAccessFromEnv(env: Env): { access: MetricsAccess; token?: string } {
  const mode = text(env.STRATO_METRICS) ?? 'loopback';
  if (!METRICS_MODES.includes(mode as MetricsAccess)) throw new ConfigError(`STRATO_METRICS must be one of ${METRICS_MODES.join(', ')}, got "${mode}"`);
  const token = text(env.STRATO_METRICS_TOKEN);
  return { access: mode as MetricsAccess, ...(token ? { token } : {}) };
}
