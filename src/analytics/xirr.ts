import { toEpochDay } from '../domain/dates.ts'

/**
 * MONEY-WEIGHTED RETURN: the rate r solving Σ CFᵢ / (1 + r)^(tᵢ / 365) = 0, tᵢ in days from the
 * first flow (actual/365). From the investor's side: the beginning value and deposits are outflows
 * (negative), withdrawals and the ending value inflows (positive). Newton's method from 10 %, then
 * bisection on (−99.99 %, 10⁶ %) if Newton does not converge. No solution when the flows do not
 * change sign. Not annualized under a year: the period return (1 + r)^(days / 365) − 1 is given.
 */
export type Flow = { date: string; amount: number }
/** How `xirr` solves, as the answers state it. */
export const XIRR_SOLVER = 'Newton from 10 %, bisection on (−99.99 %, 10⁶ %) if Newton fails'
export type Xirr =
  | { ok: true; rate: number; periodReturn: number; annualized: boolean; days: number }
  | { ok: false; reason: string }

export function xirr(flows: readonly Flow[]): Xirr {
  if (flows.length < 2) return { ok: false, reason: 'needs at least two cash flows' }
  if (!flows.some((f) => f.amount > 0) || !flows.some((f) => f.amount < 0)) {
    return { ok: false, reason: 'the cash flows never change sign, so no rate makes them worth zero' }
  }
  const t0 = Math.min(...flows.map((f) => toEpochDay(f.date)))
  const years = flows.map((f) => (toEpochDay(f.date) - t0) / 365)
  const npv = (r: number) => flows.reduce((s, f, i) => s + f.amount / (1 + r) ** (years[i] as number), 0)
  const slope = (r: number) =>
    flows.reduce((s, f, i) => s - ((years[i] as number) * f.amount) / (1 + r) ** ((years[i] as number) + 1), 0)

  let rate: number | undefined
  let r = 0.1
  for (let i = 0; i < 100; i++) {
    const d = slope(r)
    if (d === 0 || !Number.isFinite(d)) break
    const next = r - npv(r) / d
    if (!Number.isFinite(next) || next <= -1) break
    if (Math.abs(next - r) < 1e-12) {
      rate = next
      break
    }
    r = next
  }
  if (rate === undefined) {
    let [lo, hi] = [-0.9999, 1e4]
    if (Math.sign(npv(lo)) === Math.sign(npv(hi)))
      return { ok: false, reason: 'no rate in (−99.99 %, 10⁶ %) solves the cash flows' }
    for (let i = 0; i < 300; i++) {
      const mid = (lo + hi) / 2
      if (Math.sign(npv(mid)) === Math.sign(npv(lo))) lo = mid
      else hi = mid
    }
    rate = (lo + hi) / 2
  }
  const days = Math.max(...flows.map((f) => toEpochDay(f.date))) - t0
  const annualized = days >= 365
  return { ok: true, rate, periodReturn: annualized ? rate : (1 + rate) ** (days / 365) - 1, annualized, days }
}
