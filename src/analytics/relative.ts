import { mean, sampleStd } from './risk.ts'

/**
 * RISK AGAINST A BENCHMARK, on aligned periodic returns (same dates, float64), k periods a year:
 * beta = sample cov(r, b) / sample var(b); tracking error = sample std(r − b) × √k;
 * information ratio = mean(r − b) × k / tracking error, null when the tracking error is zero (below
 * 1e-12: a constant active return is not exactly constant in binary floating point).
 */
export type Relative = { beta: number; trackingError: number; informationRatio: number | null }

export function relativeRisk(r: readonly number[], b: readonly number[], k: number): Relative {
  if (r.length !== b.length || r.length < 2) throw new RangeError('needs two aligned series of at least two returns')
  const [mr, mb] = [mean(r), mean(b)]
  const cov = r.reduce((s, x, i) => s + (x - mr) * ((b[i] as number) - mb), 0) / (r.length - 1)
  const varB = b.reduce((s, x) => s + (x - mb) ** 2, 0) / (b.length - 1)
  const active = r.map((x, i) => x - (b[i] as number))
  const trackingError = sampleStd(active) * Math.sqrt(k)
  return {
    beta: cov / varB,
    trackingError,
    informationRatio: trackingError < 1e-12 ? null : (mean(active) * k) / trackingError,
  }
}
