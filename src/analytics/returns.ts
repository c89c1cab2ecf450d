import { toEpochDay } from '../domain/dates.ts'

/**
 * TIME-WEIGHTED RETURN. Returns are float64 (money never is). One daily return per series point:
 *
 *   r = (EMV − BMV − SOD − EOD + fees·[gross]) / (BMV + SOD)   flows as recorded (default)
 *   r = (EMV − BMV − F + fees·[gross]) / (BMV + F)              'start': every flow at start of day
 *   r = (EMV − BMV − F + fees·[gross]) / BMV                    'end':   every flow at end of day
 *
 * with F = SOD + EOD. Net returns (default) leave fees inside the result; gross adds them back.
 * A day whose denominator is not positive (nothing invested yet) has return 0: nothing was at risk.
 * Days are linked geometrically: TWR = Π(1 + r) − 1. A period longer than 365 days is annualized
 * as (1 + TWR)^(365 / days) − 1; a shorter one is not annualized (null).
 */
export const FlowTimings = ['recorded', 'start', 'end'] as const
export type FlowTiming = (typeof FlowTimings)[number]
export type FeeScope = 'net' | 'gross'

export type SeriesDay = { date: string; bmv: number; emv: number; sod: number; eod: number; fees: number }
export type DailyReturn = { date: string; r: number }

export function dailyReturns(
  days: readonly SeriesDay[],
  timing: FlowTiming = 'recorded',
  scope: FeeScope = 'net',
): DailyReturn[] {
  return days.map((d) => {
    const addBack = scope === 'gross' ? d.fees : 0
    const flows = d.sod + d.eod
    const [numerator, denominator] =
      timing === 'start'
        ? [d.emv - d.bmv - flows + addBack, d.bmv + flows]
        : timing === 'end'
          ? [d.emv - d.bmv - flows + addBack, d.bmv]
          : [d.emv - d.bmv - d.sod - d.eod + addBack, d.bmv + d.sod]
    return { date: d.date, r: denominator > 0 ? numerator / denominator : 0 }
  })
}

/** Π(1 + r) − 1 over the given daily returns. */
export const link = (returns: readonly DailyReturn[]): number => returns.reduce((g, d) => g * (1 + d.r), 1) - 1

export type Twr = { cumulative: number; annualized: number | null; days: number; from: string; to: string }

/** The TWR from `from` to `to` inclusive (days counted as calendar days from the day before `from`). */
export function twr(returns: readonly DailyReturn[], from: string, to: string): Twr {
  const within = returns.filter((d) => d.date >= from && d.date <= to)
  const cumulative = link(within)
  const days = toEpochDay(to) - toEpochDay(from) + 1
  return { cumulative, annualized: days > 365 ? (1 + cumulative) ** (365 / days) - 1 : null, days, from, to }
}

/** Linked returns per calendar month ('YYYY-MM'). */
export function monthlyReturns(returns: readonly DailyReturn[]): { month: string; r: number }[] {
  const months = Map.groupBy(returns, (d) => d.date.slice(0, 7))
  return [...months].map(([month, days]) => ({ month, r: link(days) }))
}
