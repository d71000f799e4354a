import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PlainMetrics } from './plain-metrics.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];

/** The same observations counted by prom-client (the reference) and by PlainMetrics. */
function both() {
  const registry = new Registry();
  const registers = [registry];
  const plain = new PlainMetrics();
  return {
    registry,
    plain,
    counter: {
      prom: new Counter({ name: 'c_total', help: 'a counter\nwith "quotes" and \\', labelNames: ['route', 'status'] as const, registers }),
      plain: plain.counter('c_total', 'a counter\nwith "quotes" and \\', ['route', 'status']),
    },
    histogram: {
      prom: new Histogram({ name: 'h_seconds', help: 'a histogram', labelNames: ['route'] as const, buckets: BUCKETS, registers }),
      plain: plain.histogram('h_seconds', 'a histogram', ['route'], BUCKETS),
    },
    gauge: {
      prom: new Gauge({ name: 'g', help: 'a gauge', registers }),
      plain: plain.gauge('g', 'a gauge', []),
    },
  };
}

describe('PlainMetrics', () => {
  it('writes what prom-client writes for the same observations, hostile label values included', async () => {
    const m = both();
    const samples: Array<[string, string, number]> = [
      ['/datasets/:id/kerchunk/*', '200', 0.0004],
      ['/datasets/:id/kerchunk/*', '200', 0.001], // on a bound: that bucket
      ['/datasets/:id/kerchunk/*', '304', 0.05],
      ['/a"b\\c\nd', '404', 3], // past every bound
      ['__proto__', '500', 1e9],
      ['constructor', '200', 0],
    ];
    for (const [route, status, seconds] of samples) {
      m.counter.prom.labels(route, status).inc();
      m.counter.plain.series(route, status).value++;
      m.histogram.prom.labels(route).observe(seconds);
      m.histogram.plain.series(route).observe(seconds);
    }
    m.counter.prom.labels('big', '200').inc(2 ** 53);
    m.counter.plain.series('big', '200').value += 2 ** 53;
    m.gauge.prom.inc(3);
    m.gauge.plain.series().value += 3;
    expect(m.plain.exposition()).toBe(await m.registry.metrics());
  });

  it('ignores what is not a finite number (prom-client throws; counting must never fail a request)', async () => {
    const m = both();
    const series = m.histogram.plain.series('r');
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) series.observe(value);
    m.histogram.prom.labels('r');
    expect(m.plain.exposition()).toContain('h_seconds_count{route="r"} 0');
  });

  it('shows a gauge without labels from the start and a labelled series once looked up', async () => {
    const m = both();
    expect(m.plain.exposition()).toBe(await m.registry.metrics());
    m.histogram.plain.series('r').observe(0.5);
    m.histogram.prom.labels('r').observe(0.5);
    expect(m.plain.exposition()).toBe(await m.registry.metrics());
  });
});
