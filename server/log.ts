import { type DestinationStream, type Logger as PinoLogger, pino, stdTimeFunctions } from 'pino';

/** Structured JSON log lines on stderr (one object per line), quiet below `level`. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** Whether lines at `level` are written (callers skip assembling lines nobody reads); absent = always. */
  isLevelEnabled?(level: Exclude<LogLevel, 'silent'>): boolean;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

/**
 * Field names whose values never reach the log, at any depth pino's redaction reaches: an
 * Authorization header or a token passed along by mistake is written as "[redacted]".
 */
const REDACTED = ['authorization', 'token', 'password', 'headers.authorization', 'headers.cookie', '*.authorization', '*.token', '*.password'];

/**
 * A pino logger behind the small `Logger` interface the code uses. Lines are JSON objects with
 * `time` (ISO 8601), `level` (name), `pid`, `msg` and the given fields. By default they go to
 * stderr synchronously (no line is lost when the process exits right after logging); `write`
 * receives each line instead (tests capture lines with it).
 */
export function createLogger(level: LogLevel = 'info', write?: (line: string) => void): Logger {
  const destination: DestinationStream = write ? { write } : pino.destination({ fd: 2, sync: true });
  const logger: PinoLogger = pino(
    {
      level: level === 'silent' ? 'silent' : level,
      base: { pid: process.pid },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED, censor: '[redacted]' },
    },
    destination,
  );
  const emit = (name: Exclude<LogLevel, 'silent'>) => (message: string, fields?: Record<string, unknown>) => {
    if (fields) logger[name](fields, message);
    else logger[name](message);
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    isLevelEnabled: (name) => logger.isLevelEnabled(name),
  };
}

export function isLogLevel(value: string): value is LogLevel {
  return value in LEVELS;
}
