import { dailyReturn, type SeriesDay } from './returns.ts'

/**
 * A POSITION'S RETURN IN ITS OWN CURRENCY, and the FX part of its base-currency return.
 *
 * A position's daily series is in base currency; each valued day also carries the rate its value
 * was converted at (base per unit of the position's currency). A day's base return splits
 * multiplicatively into the local return and the currency's move over the day:
 *   1 + r_base = (1 + r_local) × (1 + r_fx),   r_fx = fx(t) / fx(t − 1) − 1,
 * so r_local = (1 + r_base) / (1 + r_fx) − 1. fx(t − 1) is the rate of the position's previous
 * point (`fxBefore`); a point without one, or without a value before it (the day it was opened),
 * has r_fx = 0: its money came in at that day's rate. Exact when the day's flows convert at the day's rate (no flow,
 * or flows valued like the position); otherwise the difference between the rates of a flow and of
 * the close is counted as local return. Days are linked geometrically, as TWR.
 *
 * `fx` is base per local (1 for a position in the base currency, whose local return is its base return).
 */
export type CurrencyDay = SeriesDay & { fx: number; fxBefore: number }

export type CurrencyReturns = {
  /** TWR in base currency, Π(1 + r_base) − 1 */
  base: number
  /** TWR in the position's own currency, Π(1 + r_local) − 1 */
  local: number
  /** The currency's compound move over the days held, Π(1 + r_fx) − 1 */
  currency: number
}

export function currencyReturns(days: readonly CurrencyDay[]): CurrencyReturns {
  let base = 1
  let local = 1
  let currency = 1
  for (const d of days) {
    const r = dailyReturn(d).r
    const rFx = d.bmv === 0 || !(d.fxBefore > 0) || !(d.fx > 0) ? 0 : d.fx / d.fxBefore - 1
    base *= 1 + r
    currency *= 1 + rFx
    local *= (1 + r) / (1 + rFx)
  }
  return { base: base - 1, local: local - 1, currency: currency - 1 }
}
