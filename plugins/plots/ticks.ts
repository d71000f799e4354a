/**
 * Tick positions and labels people read at a glance: steps of 1, 2, 2.5 or 5 × 10^n (degrees: also
 * 15, 30, 45, 60, 90), labels with just the decimals the step needs.
 */

const MANTISSAS = [1, 2, 2.5, 5] as const;
const DEGREE_STEPS = [0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 15, 20, 30, 45, 60, 90] as const;

/** The smallest nice step (1, 2, 2.5, 5 × 10^n) that puts at most `maxTicks` ticks in [lo, hi]. */
export function niceStep(lo: number, hi: number, maxTicks: number): number {
  const span = hi - lo;
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const count = Math.max(2, Math.floor(maxTicks));
  let exponent = Math.floor(Math.log10(span / count)) - 1;
  for (;;) {
    for (const mantissa of MANTISSAS) {
      const step = Number((mantissa * 10 ** exponent).toPrecision(12));
      if (tickCount(lo, hi, step) <= count) return step;
    }
    exponent++;
  }
}

/** The smallest degree step (…, 1, 2, 2.5, 5, 10, 15, 20, 30, 45, 60, 90) giving at most `maxTicks` ticks. */
export function degreeStep(lo: number, hi: number, maxTicks: number): number {
  const count = Math.max(2, Math.floor(maxTicks));
  for (const step of DEGREE_STEPS) if (tickCount(lo, hi, step) <= count) return step;
  return niceStep(lo, hi, count);
}

function tickCount(lo: number, hi: number, step: number): number {
  return Math.floor(hi / step + 1e-9) - Math.ceil(lo / step - 1e-9) + 1;
}

/** The multiples of `step` in [lo, hi], snapped so that 0.1 × 3 is 0.3 (and -0 is 0). */
export function ticksOf(lo: number, hi: number, step: number): number[] {
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  const decimals = decimalsOf(step);
  const ticks: number[] = [];
  for (let k = first; k <= last && ticks.length < 1000; k++) ticks.push(Number((k * step).toFixed(Math.min(decimals, 100))) + 0);
  return ticks;
}

/** How many decimals a multiple of `step` needs: 0.25 → 2, 5 → 0, 1e-5 → 5. */
export function decimalsOf(step: number): number {
  for (let d = 0; d <= 20; d++) {
    const scaled = step * 10 ** d;
    if (Math.round(scaled) !== 0 && Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) return d;
  }
  return 20;
}

/**
 * A tick label: as many decimals as the step needs (0, 2.5, 5, 7.5), in exponent form for very
 * small or large magnitudes with just the digits the step needs (2e-5, 2.5e-5, 1.2e+6).
 */
export function tickLabel(value: number, step: number): string {
  if (Math.abs(value) < Math.abs(step) * 1e-9 || value === 0) return '0';
  const magnitude = Math.abs(value);
  const decimals = decimalsOf(step);
  if (magnitude >= 1e5 || magnitude < 1e-3) {
    const digits = Math.max(0, Math.min(20, decimals + Math.floor(Math.log10(magnitude) + 1e-12)));
    return value.toExponential(digits).replace(/\.?0+e/, 'e');
  }
  return value.toFixed(Math.min(decimals, 20));
}

/** A longitude label: 0°, 60°E, 180°, 120°W (values beyond ±180, as on 0–360 grids, wrap). */
export function longitudeLabel(value: number, step: number): string {
  let wrapped = ((((value + 180) % 360) + 360) % 360) - 180;
  if (wrapped === -180 && value > 0) wrapped = 180;
  const text = tickLabel(Math.abs(wrapped), step);
  if (text === '0' || text === '180') return `${text}°`;
  return `${text}°${wrapped > 0 ? 'E' : 'W'}`;
}

/** A latitude label: 0°, 30°N, 90°S. */
export function latitudeLabel(value: number, step: number): string {
  const text = tickLabel(Math.abs(value), step);
  if (text === '0') return '0°';
  return `${text}°${value > 0 ? 'N' : 'S'}`;
}
