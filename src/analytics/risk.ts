/**
 * RISK on a periodic return series (float64). Conventions, echoed by the API:
 * - k = periods per year (252 daily, 52 weekly, 12 monthly); volatility = sample std × √k.
 * - Sharpe = mean(r − rf) / sample std(r − rf) × √k, with rf per period = (1 + rf_annual)^(1/k) − 1.
 * - Sortino = mean(r − MAR) / downside deviation × √k; downside deviation = √(Σ min(0, r − MAR)² / n).
 * - Max drawdown on the wealth index Π(1 + r): the largest fall from a peak, with the peak, trough
 *   and recovery (first day back at the peak) dates; null recovery when not yet recovered.
 * - VaR and expected shortfall are losses, reported positive, at confidence c over h periods:
 *   historical: the (1 − c) quantile of the returns, by nearest rank (default: the ⌈n(1 − c)⌉-th
 *   smallest, at least the first) or by linear interpolation between order statistics (numpy's
 *   default, Hyndman–Fan type 7: position h = (n − 1)(1 − c) from 0), ES the mean of the returns at
 *   or below it, both × √h. Any c in (0, 1): a c so low that the quantile is above every return
 *   gives a negative VaR (a gain) and the mean of all returns as ES; Gaussian: −(μ + zσ)·√h with z = Φ⁻¹(1 − c); Cornish-Fisher: z adjusted
 *   for skew S and excess kurtosis K (population moments):
 *   z_cf = z + (z² − 1)S/6 + (z³ − 3z)K/24 − (2z³ − 5z)S²/36.
 *   Gaussian ES = −(μ − σ·φ(z)/(1 − c))·√h; Cornish-Fisher has no ES here (null): its expansion
 *   gives a quantile, not a tail mean.
 */
export const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
export function sampleStd(xs: readonly number[]): number {
  const m = mean(xs)
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1))
}

export const volatility = (r: readonly number[], k: number) => sampleStd(r) * Math.sqrt(k)

export function sharpe(r: readonly number[], k: number, rfAnnual = 0): number {
  const rf = (1 + rfAnnual) ** (1 / k) - 1
  const excess = r.map((x) => x - rf)
  return (mean(excess) / sampleStd(excess)) * Math.sqrt(k)
}

/** √(Σ min(0, r − MAR)² / n) × √k: Sortino's denominator, annualized. */
export function downsideDeviation(r: readonly number[], k: number, marPerPeriod: number): number {
  return Math.sqrt(r.reduce((s, x) => s + Math.min(0, x - marPerPeriod) ** 2, 0) / r.length) * Math.sqrt(k)
}

export function sortino(r: readonly number[], k: number, marPerPeriod = 0): number {
  return (mean(r.map((x) => x - marPerPeriod)) / downsideDeviation(r, 1, marPerPeriod)) * Math.sqrt(k)
}

export type Drawdown = { maxDrawdown: number; peak: string | null; trough: string | null; recovery: string | null }

export function maxDrawdown(returns: readonly { date: string; r: number }[]): Drawdown {
  let wealth = 1
  let peakWealth = 1
  let peakDate: string | null = null
  let worst: Drawdown = { maxDrawdown: 0, peak: null, trough: null, recovery: null }
  let open: Drawdown | undefined
  for (const { date, r } of returns) {
    wealth *= 1 + r
    if (wealth >= peakWealth) {
      if (open && worst === open) worst = { ...open, recovery: date }
      open = undefined
      peakWealth = wealth
      peakDate = date
      continue
    }
    const dd = wealth / peakWealth - 1
    if (dd < worst.maxDrawdown) {
      open = { maxDrawdown: dd, peak: peakDate, trough: date, recovery: null }
      worst = open
    }
  }
  return worst
}

export type VarMethod = 'historical' | 'gaussian' | 'cornish-fisher'
export const QuantileRules = ['nearest-rank', 'linear'] as const
export type QuantileRule = (typeof QuantileRules)[number]
export type RiskAtConfidence = { var: number; expectedShortfall: number | null }

/** The p quantile of ascending `sorted` (p in [0, 1]) by the rule named. */
export function quantileOf(sorted: readonly number[], p: number, rule: QuantileRule): number {
  const n = sorted.length
  if (rule === 'nearest-rank') return sorted[Math.min(n, Math.max(1, Math.ceil(n * p))) - 1] as number
  const h = (n - 1) * p
  const lo = Math.floor(h)
  const below = sorted[lo] as number
  return lo + 1 >= n ? below : below + (h - lo) * ((sorted[lo + 1] as number) - below)
}

export function valueAtRisk(
  r: readonly number[],
  confidence: number,
  horizon: number,
  method: VarMethod,
  rule: QuantileRule = 'nearest-rank',
): RiskAtConfidence {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`)
  const scale = Math.sqrt(horizon)
  if (method === 'historical') {
    const sorted = [...r].sort((a, b) => a - b)
    const cutoff = quantileOf(sorted, 1 - confidence, rule)
    const tail = sorted.filter((x) => x <= cutoff)
    return { var: -cutoff * scale, expectedShortfall: -mean(tail) * scale }
  }
  const mu = mean(r)
  const sigma = sampleStd(r)
  const z = inverseNormal(1 - confidence)
  if (method === 'cornish-fisher') {
    const { skew, excessKurtosis } = moments(r)
    return { var: -(mu + cornishFisherZ(z, skew, excessKurtosis) * sigma) * scale, expectedShortfall: null }
  }
  // Normal tail mean: E[r | r ≤ μ + zσ] = μ − σ·φ(z) / (1 − c).
  const density = Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI)
  return { var: -(mu + z * sigma) * scale, expectedShortfall: -(mu - (sigma * density) / (1 - confidence)) * scale }
}

/** The normal quantile z adjusted for skewness S and excess kurtosis K (Cornish–Fisher, to S²). */
export function cornishFisherZ(z: number, skew: number, excessKurtosis: number): number {
  return (
    z + ((z * z - 1) * skew) / 6 + ((z ** 3 - 3 * z) * excessKurtosis) / 24 - ((2 * z ** 3 - 5 * z) * skew * skew) / 36
  )
}

export function moments(xs: readonly number[]): { skew: number; excessKurtosis: number } {
  const m = mean(xs)
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length)
  const skew = xs.reduce((s, x) => s + ((x - m) / sd) ** 3, 0) / xs.length
  const kurt = xs.reduce((s, x) => s + ((x - m) / sd) ** 4, 0) / xs.length
  return { skew, excessKurtosis: kurt - 3 }
}

/**
 * Φ(x), the standard normal distribution function, to near double precision: for |x| < 2 the
 * Taylor series Φ(x) = ½ + φ(x)·Σ x^(2n+1) / (1·3·…·(2n+1)); beyond, the upper tail as Laplace's
 * continued fraction Q(x) = φ(x) / (x + 1/(x + 2/(x + 3/(x + …)))), evaluated by Lentz's method,
 * so that a tail probability keeps its relative precision.
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN
  const density = Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI)
  if (Math.abs(x) < 2) {
    let term = x
    let sum = x
    for (let n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (x * x) / (2 * n + 1)
      sum += term
    }
    return 0.5 + density * sum
  }
  const z = Math.abs(x)
  // f = z + 1/(z + 2/(z + 3/(z + …))) by modified Lentz.
  const tiny = 1e-300
  let f = z
  let c = z
  let d = 0
  for (let n = 1; n < 10_000; n++) {
    d = z + n * d
    d = d === 0 ? 1 / tiny : 1 / d
    c = z + n / c
    if (c === 0) c = tiny
    const delta = c * d
    f *= delta
    if (Math.abs(delta - 1) < 1e-16) break
  }
  const tail = density / f
  return x > 0 ? 1 - tail : tail
}

/**
 * Φ⁻¹(p) to double precision: Acklam's rational approximation (relative error < 1.2e-9), then one
 * Halley step on Φ(x) − p with Φ from normalCdf (the step's cubic convergence takes 1e-9 to the
 * last bits). p must be in (0, 1).
 */
export function inverseNormal(p: number): number {
  const x = acklam(p)
  if (x === 0) return 0
  const e = normalCdf(x) - p
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2)
  return x - u / (1 + (x * u) / 2)
}

/** Acklam's rational approximation of Φ⁻¹(p) (relative error < 1.2e-9). */
function acklam(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`probability must be in (0, 1), got ${p}`)
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ]
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572]
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ]
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416]
  const poly = (coef: number[], x: number) => coef.reduce((s, k) => s * x + k, 0)
  const low = 0.02425
  if (p < low || p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(p < low ? p : 1 - p))
    const x = poly(c, q) / (poly(d, q) * q + 1)
    return p < low ? x : -x
  }
  const q = p - 0.5
  const r = q * q
  return (poly(a, r) * q) / (poly(b, r) * r + 1)
}
