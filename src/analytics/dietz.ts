import { toEpochDay } from '../domain/dates.ts'

/**
 * MODIFIED DIETZ: a period's money-weighted return without solving for a rate. Each external flow
 * is weighted by the share of the period it was invested:
 *
 *   R = (EMV − BMV − Σ Fᵢ) / (BMV + Σ wᵢ Fᵢ),   wᵢ = (T − tᵢ) / T
 *
 * T is the period's length in calendar days from the close it starts from (`start`, the BMV's
 * date) to the close it ends at (`end`); tᵢ is the days from `start` to the flow: an end-of-day
 * flow on day d is in from the close of d (tᵢ = d − start), a start-of-day flow from the close
 * of the day before (tᵢ = d − 1 − start); a flow before `start` (a weekend's, counted at the start
 * of the Monday a period begins on) is in for the whole period (tᵢ = 0). Flows are signed into the
 * portfolio (deposits positive). The denominator is the average capital; when it is 0 there is no return.
 * Sub-period returns are linked geometrically: Π(1 + Rₖ) − 1.
 */
export type DietzFlow = { date: string; amount: number; timing: 'SOD' | 'EOD' }
export type Dietz = { ok: true; r: number; averageCapital: number } | { ok: false; reason: string }

export function modifiedDietz(period: {
  start: string
  end: string
  bmv: number
  emv: number
  flows: readonly DietzFlow[]
}): Dietz {
  const start = toEpochDay(period.start)
  const days = toEpochDay(period.end) - start
  if (days <= 0) return { ok: false, reason: `the period ${period.start}..${period.end} has no length` }
  let net = 0
  let weighted = 0
  for (const f of period.flows) {
    const t = Math.max(0, toEpochDay(f.date) - (f.timing === 'SOD' ? 1 : 0) - start)
    net += f.amount
    weighted += ((days - t) / days) * f.amount
  }
  const averageCapital = period.bmv + weighted
  if (averageCapital === 0) return { ok: false, reason: 'the average capital is 0' }
  return { ok: true, r: (period.emv - period.bmv - net) / averageCapital, averageCapital }
}

/** Π(1 + R) − 1 over sub-period returns; null when one of them has none. */
export function linkDietz(returns: readonly Dietz[]): number | null {
  let growth = 1
  for (const d of returns) {
    if (!d.ok) return null
    growth *= 1 + d.r
  }
  return growth - 1
}
