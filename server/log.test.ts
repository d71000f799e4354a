import { describe, expect, it } from 'vitest';
import { createLogger, isLogLevel } from './log.js';

function captured(level: Parameters<typeof createLogger>[0]) {
  const lines: string[] = [];
  const logger = createLogger(level, (line) => lines.push(line));
  return { logger, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>), lines };
}

describe('createLogger', () => {
  it('writes one JSON object per line with time, level name, pid, msg and fields', () => {
    const { logger, records, lines } = captured('info');
    logger.info('listening', { url: 'http://127.0.0.1:1', datasets: 3 });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    const [record] = records();
    expect(record).toMatchObject({ level: 'info', msg: 'listening', url: 'http://127.0.0.1:1', datasets: 3, pid: process.pid });
    expect(Number.isNaN(Date.parse(String(record?.time)))).toBe(false);
  });

  it('is quiet below its level and silent when asked', () => {
    const info = captured('info');
    info.logger.debug('hidden');
    info.logger.warn('shown');
    expect(info.records().map((r) => r.level)).toEqual(['warn']);
    const silent = captured('silent');
    silent.logger.error('nothing');
    expect(silent.lines).toEqual([]);
  });

  it('never writes authorization headers or tokens', () => {
    const { logger, lines } = captured('debug');
    logger.info('request', { headers: { authorization: 'Bearer s3cret-value' }, token: 's3cret-value', nested: { token: 's3cret-value' } });
    expect(lines.join('')).not.toContain('s3cret-value');
    expect(lines.join('')).toContain('[redacted]');
  });

  it('knows its level names', () => {
    expect(['debug', 'info', 'warn', 'error', 'silent'].every(isLogLevel)).toBe(true);
    expect(isLogLevel('verbose')).toBe(false);
  });
});
