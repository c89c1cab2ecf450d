import { type Calendar, fromEpochDay, toEpochDay, WEEKDAYS } from '../domain/dates.ts'
import type { SeriesDay } from './returns.ts'

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

/**
 * Modified Dietz of a daily series (in date order) over its whole span, and over each calendar
 * month linked: each part from the day before its first day (its BMV, the close before it) to its
 * last day's close, with the flows (in date order, at their own dates) after the calendar day
 * before its first day, up to its last.
 */
export function seriesDietz(days: readonly SeriesDay[], flows: readonly DietzFlow[], calendar: Calendar = WEEKDAYS) {
  // `flows` come in date order, and so do the parts: the flows of each lie between two cursors.
  let [after, upTo] = [0, 0]
  const over = (first: SeriesDay, last: SeriesDay) => {
    const close = fromEpochDay(calendar.before(toEpochDay(first.date)))
    while (after < flows.length && (flows[after] as DietzFlow).date <= close) after++
    upTo = Math.max(upTo, after)
    while (upTo < flows.length && (flows[upTo] as DietzFlow).date <= last.date) upTo++
    return modifiedDietz({
      start: fromEpochDay(toEpochDay(first.date) - 1),
      end: last.date,
      bmv: first.bmv,
      emv: last.emv,
      flows: flows.slice(after, upTo),
    })
  }
  const [head, tail] = [days[0], days.at(-1)]
  if (!head || !tail) return { period: null, linkedMonthly: null, unavailable: 'no days in the period' }
  const whole = over(head, tail)
  ;[after, upTo] = [0, 0]
  // Calendar months, one walk: a month ends where the next day's date does not start with it.
  const months: Dietz[] = []
  let start = 0
  let month = head.date.slice(0, 7)
  for (let i = 1; i <= days.length; i++) {
    const day = days[i]
    if (day?.date.startsWith(month)) continue
    months.push(over(days[start] as SeriesDay, days[i - 1] as SeriesDay))
    start = i
    if (day) month = day.date.slice(0, 7)
  }
  return {
    period: whole.ok ? whole.r : null,
    linkedMonthly: linkDietz(months),
    unavailable: whole.ok ? null : whole.reason,
  }
}
