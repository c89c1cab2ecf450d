import { type Calendar, fromEpochDay, toEpochDay, WEEKDAYS } from '../domain/dates.ts'
import { dailyReturn, type SeriesDay } from './returns.ts'
import type { Flow } from './xirr.ts'

/**
 * Performance over a period, assembled from the stored daily series (float64 returns; the money
 * they come from is exact in the store).
 */

export type PortfolioDay = SeriesDay & { complete: boolean }
export type PositionDay = SeriesDay & { positionId: string }

/**
 * The days of `calendar` in [from, to] the series cannot vouch for: no point at all (not computed
 * yet, or the portfolio held nothing it could value) or an incomplete point (a position unvalued).
 * `days` are in date order, as the series is read; one walk along both.
 */
export function missingDays(
  days: readonly { date: string; complete: boolean }[],
  from: string,
  to: string,
  calendar: Calendar = WEEKDAYS,
): string[] {
  const missing: string[] = []
  let i = 0
  for (const day of calendar.days(toEpochDay(from), toEpochDay(to))) {
    const date = fromEpochDay(day)
    while (i < days.length && (days[i] as { date: string }).date < date) i++
    const point = days[i]
    if (point?.date !== date || !point.complete) missing.push(date)
  }
  return missing
}

/**
 * MWR cash flows for XIRR over [from, to], from the investor's side, each external flow on the day
 * it happened (its own date, a weekend's included, whatever timing the TWR gives it):
 *   −BMV(first day) at the calendar day before the first (the close the period starts from);
 *   −amount of each external flow at its date (deposits are positive flows into the portfolio, so
 *   the investor pays them; withdrawals come back positive); +EMV(last day) at the last day.
 * `external` are the flows the series counts in these days, with their dates.
 */
export function mwrFlows(days: readonly SeriesDay[], external: readonly Flow[], calendar: Calendar = WEEKDAYS): Flow[] {
  const first = days[0]
  const last = days.at(-1)
  if (!first || !last) return []
  // The close the period starts from: the calendar day before its first (under WEEKDAYS a Friday
  // for a Monday), so a weekend's flow counts after it.
  const flows: Flow[] = [{ date: fromEpochDay(calendar.before(toEpochDay(first.date))), amount: -first.bmv }]
  for (const f of external) flows.push({ date: f.date, amount: -f.amount })
  flows.push({ date: last.date, amount: last.emv })
  return flows.filter((f) => f.amount !== 0)
}

export type Contribution = {
  positions: { positionId: string; contribution: number; twr: number }[]
  /** What no position's value explains: fees, taxes and other expenses paid from cash. */
  other: number
  total: number
}

/**
 * CONTRIBUTION of each position to the portfolio's TWR (flows as recorded, net). On day t, a
 * position contributes its gain over the portfolio's capital at risk:
 *   c(i, t) = (EMV − BMV − SOD − EOD + income paid out)(i, t) / |BMV + SOD|(portfolio, t)
 * and days are linked by weighting each day with the portfolio's growth before it:
 *   C(i) = Σₜ c(i, t) · Πₛ₍ₛ₎₍<ₜ₎ (1 + r(s)),
 * so the contributions and `other` add up to the period's TWR exactly: Σₜ r(t)·G(t−1) = G(T) − 1.
 * A cash position's gain is its FX effect (its income and expenses are flows of that cash).
 */
export function contribution(portfolio: readonly PortfolioDay[], positions: readonly PositionDay[]): Contribution {
  const byDate = Map.groupBy(positions, (p) => p.date)
  const sums = new Map<string, { contribution: number; growth: number }>()
  let growth = 1
  let explained = 0
  for (const day of portfolio) {
    const base = Math.abs(day.bmv + day.sod)
    const r = dailyReturn(day).r
    for (const p of byDate.get(day.date) ?? []) {
      const acc = sums.get(p.positionId) ?? { contribution: 0, growth: 1 }
      if (base !== 0) {
        const c = ((p.emv - p.bmv - p.sod - p.eod + (p.income ?? 0)) / base) * growth
        acc.contribution += c
        explained += c
      }
      acc.growth *= 1 + dailyReturn(p).r
      sums.set(p.positionId, acc)
    }
    growth *= 1 + r
  }
  const total = growth - 1
  return {
    positions: [...sums]
      .map(([positionId, s]) => ({ positionId, contribution: s.contribution, twr: s.growth - 1 }))
      .sort((a, b) => b.contribution - a.contribution),
    other: total - explained,
    total,
  }
}
