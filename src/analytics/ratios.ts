import { type Drawdown, downsideDeviation, mean, moments } from './risk.ts'

/**
 * THE RISK-RATIO SET on periodic returns r (float64), k periods a year. Conventions, echoed by the API:
 * - CAGR = (1 + cumulative)^(365 / days) − 1, days the period's calendar days (actual/365).
 * - Calmar = CAGR / |max drawdown|; null without a drawdown.
 * - Downside deviation (risk.ts, Sortino's denominator) = √(Σ min(0, r − MAR)² / n) × √k; semi-deviation the same
 *   below the mean instead of MAR: √(Σ min(0, r − mean)² / n) × √k.
 * - Omega(MAR) = Σ max(0, r − MAR) / Σ max(0, MAR − r); null when nothing falls below MAR.
 * - Skewness and excess kurtosis: population moments (÷ n).
 * - Drawdown duration: the longest run of periods below a previous peak (to the recovery, or to the
 *   end when not recovered), in periods, with its dates; recovery time: periods from the max
 *   drawdown's trough to its recovery (null when not recovered).
 * Against a benchmark b (aligned) and a risk-free rate rf per period:
 * - Jensen's alpha and beta: ordinary least squares of (r − rf) on (b − rf):
 *   beta = sample cov / sample var, alpha = mean(r − rf) − beta × mean(b − rf) per period,
 *   annualized × k (arithmetic).
 * - Up capture = mean(r | b > 0) / mean(b | b > 0); down capture the same over b < 0 (arithmetic
 *   means of the periods); null without such periods.
 */
export function cagr(cumulative: number, days: number): number | null {
  return days > 0 && cumulative > -1 ? (1 + cumulative) ** (365 / days) - 1 : null
}

export function calmar(cagrValue: number | null, drawdown: Drawdown): number | null {
  return cagrValue === null || drawdown.maxDrawdown === 0 ? null : cagrValue / Math.abs(drawdown.maxDrawdown)
}

export function semiDeviation(r: readonly number[], k: number): number {
  return downsideDeviation(r, k, mean(r))
}

export function omega(r: readonly number[], marPerPeriod: number): number | null {
  const gains = r.reduce((s, x) => s + Math.max(0, x - marPerPeriod), 0)
  const losses = r.reduce((s, x) => s + Math.max(0, marPerPeriod - x), 0)
  return losses === 0 ? null : gains / losses
}

export function shape(r: readonly number[]): { skewness: number; excessKurtosis: number } {
  const { skew, excessKurtosis } = moments(r)
  return { skewness: skew, excessKurtosis }
}

export type Durations = {
  /** The longest stretch below a previous peak, in periods, and its first and last period. */
  longestDrawdown: { periods: number; from: string | null; to: string | null; recovered: boolean }
  /** Periods from the max drawdown's trough to its recovery; null when not recovered or none. */
  recoveryPeriods: number | null
}

export function drawdownDurations(returns: readonly { date: string; r: number }[], max: Drawdown): Durations {
  let wealth = 1
  let peak = 1
  let longest: Durations['longestDrawdown'] = { periods: 0, from: null, to: null, recovered: true }
  let start = -1
  returns.forEach(({ date, r }, i) => {
    wealth *= 1 + r
    if (wealth >= peak) {
      peak = wealth
      if (start >= 0 && i - start > longest.periods) {
        longest = { periods: i - start, from: returns[start]?.date ?? null, to: date, recovered: true }
      }
      start = -1
    } else if (start < 0) start = i
  })
  if (start >= 0 && returns.length - start > longest.periods) {
    longest = { periods: returns.length - start, from: returns[start]?.date ?? null, to: null, recovered: false }
  }
  const index = (date: string | null) => returns.findIndex((x) => x.date === date)
  const recoveryPeriods = max.trough && max.recovery ? index(max.recovery) - index(max.trough) : null
  return { longestDrawdown: longest, recoveryPeriods }
}

export type Regression = { alpha: number; alphaAnnualized: number; beta: number }

export function jensen(r: readonly number[], b: readonly number[], k: number, rfPerPeriod: number): Regression | null {
  if (r.length !== b.length || r.length < 2) return null
  const x = b.map((v) => v - rfPerPeriod)
  const y = r.map((v) => v - rfPerPeriod)
  const [mx, my] = [mean(x), mean(y)]
  const varX = x.reduce((s, v) => s + (v - mx) ** 2, 0) / (x.length - 1)
  if (varX === 0) return null
  const cov = x.reduce((s, v, i) => s + (v - mx) * ((y[i] as number) - my), 0) / (x.length - 1)
  const beta = cov / varX
  const alpha = my - beta * mx
  return { alpha, alphaAnnualized: alpha * k, beta }
}

export function capture(r: readonly number[], b: readonly number[]): { up: number | null; down: number | null } {
  const ratio = (keep: (v: number) => boolean) => {
    const idx = b.map((v, i) => (keep(v) ? i : -1)).filter((i) => i >= 0)
    if (idx.length === 0) return null
    const mb = mean(idx.map((i) => b[i] as number))
    return mb === 0 ? null : mean(idx.map((i) => r[i] as number)) / mb
  }
  return { up: ratio((v) => v > 0), down: ratio((v) => v < 0) }
}
