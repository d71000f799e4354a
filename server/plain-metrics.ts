/**
 * Counters, histograms and gauges of plain numbers, written in the Prometheus text format
 * (0.0.4) at scrape time. prom-client's metrics hash and check their label values on every
 * `inc`/`observe`, even through `labels()` children: several µs per request, most of the cost of
 * a cached answer (issue #14). Here a series is looked up once (`series(...)` returns the object
 * to count into) and counting is an addition. The text is what prom-client writes for the same
 * observations (plain-metrics.test.ts holds them side by side).
 */

/** A metric that writes its own lines (`# HELP`, `# TYPE`, samples). */
interface Exposed {
  lines(out: string[]): void;
}

/** Metrics written together, in the order they were made. */
export class PlainMetrics {
  private readonly metrics: Exposed[] = [];

  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): PlainCounter<L> {
    return this.add(new PlainCounter(name, help, labelNames));
  }

  histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: readonly number[]): PlainHistogram<L> {
    return this.add(new PlainHistogram(name, help, labelNames, buckets));
  }

  gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): PlainGauge<L> {
    return this.add(new PlainGauge(name, help, labelNames));
  }

  /** Every metric's block, blocks separated by a blank line, ending with a newline (as prom-client's registry). */
  exposition(): string {
    const blocks = this.metrics.map((metric) => {
      const lines: string[] = [];
      metric.lines(lines);
      return lines.join('\n');
    });
    return `${blocks.join('\n\n')}\n`;
  }

  private add<T extends Exposed>(metric: T): T {
    this.metrics.push(metric);
    return metric;
  }
}

/** One series of a counter or gauge: add to (or set) `value`. */
export interface Sample {
  value: number;
}

/** One series of a histogram. */
export interface Observer {
  observe(value: number): void;
}

abstract class Labelled<L extends string, S> implements Exposed {
  /** Series by their label values (joined), in the order they were first counted into. */
  protected readonly byKey = new Map<string, { readonly labels: string; readonly series: S }>();

  constructor(
    protected readonly name: string,
    private readonly help: string,
    private readonly labelNames: readonly L[],
  ) {}

  /** The series of these label values (one per label name, in order), made on first use. */
  series(...values: string[]): S {
    const key = values.join('\u0000');
    let found = this.byKey.get(key);
    if (found === undefined) {
      found = { labels: this.labelNames.map((name, i) => `${name}="${labelValue(values[i] ?? '')}"`).join(','), series: this.make() };
      this.byKey.set(key, found);
    }
    return found.series;
  }

  lines(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`);
    this.samples(out);
  }

  protected abstract readonly type: string;
  protected abstract make(): S;
  protected abstract samples(out: string[]): void;
}

/** A counter; a series shows once it has been looked up (as prom-client shows one once counted: look up when counting). */
export class PlainCounter<L extends string> extends Labelled<L, Sample> {
  protected readonly type = 'counter';

  protected make(): Sample {
    return { value: 0 };
  }

  protected samples(out: string[]): void {
    for (const { labels, series } of this.byKey.values()) out.push(`${this.name}${braced(labels)} ${number(series.value)}`);
  }
}

/** A gauge; without label names it has its one series from the start (as prom-client's). */
export class PlainGauge<L extends string> extends Labelled<L, Sample> {
  protected readonly type = 'gauge';

  constructor(name: string, help: string, labelNames: readonly L[]) {
    super(name, help, labelNames);
    if (labelNames.length === 0) this.series();
  }

  protected make(): Sample {
    return { value: 0 };
  }

  protected samples(out: string[]): void {
    for (const { labels, series } of this.byKey.values()) out.push(`${this.name}${braced(labels)} ${number(series.value)}`);
  }
}

interface Buckets extends Observer {
  /** Observations per bucket (not cumulative); the last is past every bound (+Inf). */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** A histogram with fixed upper bounds; what is not a finite number is not observed. */
export class PlainHistogram<L extends string> extends Labelled<L, Observer> {
  protected readonly type = 'histogram';

  constructor(
    name: string,
    help: string,
    labelNames: readonly L[],
    private readonly bounds: readonly number[],
  ) {
    super(name, help, labelNames);
  }

  protected make(): Buckets {
    const bounds = this.bounds;
    const buckets: Buckets = {
      counts: new Float64Array(bounds.length + 1),
      sum: 0,
      count: 0,
      observe(value) {
        if (!Number.isFinite(value)) return;
        let bucket = 0;
        while (bucket < bounds.length && value > (bounds[bucket] as number)) bucket++;
        buckets.counts[bucket] = (buckets.counts[bucket] as number) + 1;
        buckets.sum += value;
        buckets.count++;
      },
    };
    return buckets;
  }

  protected samples(out: string[]): void {
    for (const { labels, series } of this.byKey.values()) {
      const { counts, sum, count } = series as Buckets;
      const after = labels === '' ? '' : `,${labels}`;
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += counts[i] as number;
        const le = i < this.bounds.length ? number(this.bounds[i] as number) : '+Inf';
        out.push(`${this.name}_bucket{le="${le}"${after}} ${number(cumulative)}`);
      }
      out.push(`${this.name}_sum${braced(labels)} ${number(sum)}`, `${this.name}_count${braced(labels)} ${number(count)}`);
    }
  }
}

const braced = (labels: string): string => (labels === '' ? '' : `{${labels}}`);

/** A label value escaped as the text format asks (backslash, newline, double quote). */
function labelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** Help text escaped as the text format asks (backslash, newline). */
function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value as prom-client writes it. */
function number(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}
