import { toEpochDay, yearsBefore } from '../domain/dates.ts'

/**
 * TIME-WEIGHTED RETURN. Returns are float64 (money never is). One daily return per series point:
 *
 *   r = (EMV − BMV − SOD − EOD + I + fees·[gross]) / (BMV + SOD)   flows as recorded (default)
 *   r = (EMV − BMV − F + I + fees·[gross]) / (BMV + F)              'start': every flow at start of day
 *   r = (EMV − BMV − F + I + fees·[gross]) / BMV                    'end':   every flow at end of day
 *
 * with F = SOD + EOD and I the income a position paid out that day (0 for a portfolio, whose income
 * stays inside its value). Net returns (default) leave fees inside the result; gross adds them back.
 *
 * Values that turn negative (a net short book) are handled deliberately, not by accident:
 * - the denominator is taken as |BMV + SOD|, so a short whose liability shrinks earns a positive
 *   return and one whose liability grows loses;
 * - a day whose denominator is zero (nothing at risk yet) returns 0;
 * - a day losing more than everything at risk (r < −100 %, possible only with a short or a
 *   leveraged book) is capped at −100 % and reported as a wipe-out: the capital at risk is gone.
 *   Linking restarts after it, like a new sleeve: the period's TWR is −100 % and the returns
 *   after the wipe-out are those of the new capital (see `link`).
 * Days are linked geometrically: TWR = Π(1 + r) − 1. A period longer than one calendar year is
 * annualized as (1 + TWR)^(365 / days) − 1; a year or less is not annualized (null).
 */
export const FlowTimings = ['recorded', 'start', 'end'] as const
export type FlowTiming = (typeof FlowTimings)[number]
export const FeeScopes = ['net', 'gross'] as const
export type FeeScope = (typeof FeeScopes)[number]

export type SeriesDay = {
  date: string
  bmv: number
  emv: number
  sod: number
  eod: number
  fees: number
  /** Income paid out by a position (kept out of its value); 0 or absent for a portfolio. */
  income?: number
}
export type DailyReturn = { date: string; r: number; wipeOut?: true }

export function dailyReturn(d: SeriesDay, timing: FlowTiming = 'recorded', scope: FeeScope = 'net'): DailyReturn {
  const gain = d.emv - d.bmv - d.sod - d.eod + (d.income ?? 0) + (scope === 'gross' ? d.fees : 0)
  const base = timing === 'start' ? d.bmv + d.sod + d.eod : timing === 'end' ? d.bmv : d.bmv + d.sod
  const r = base === 0 ? 0 : gain / Math.abs(base)
  return r < -1 ? { date: d.date, r: -1, wipeOut: true } : { date: d.date, r }
}

export const dailyReturns = (
  days: readonly SeriesDay[],
  timing: FlowTiming = 'recorded',
  scope: FeeScope = 'net',
): DailyReturn[] => days.map((d) => dailyReturn(d, timing, scope))

/** Π(1 + r) − 1 over the given daily returns (−1 once a wipe-out is among them). */
export const link = (returns: readonly { r: number }[]): number => returns.reduce((g, d) => g * (1 + d.r), 1) - 1

export type Twr = { cumulative: number; annualized: number | null; days: number; from: string; to: string }

/** Whether [from, to] is longer than one calendar year (2024-03-01..2025-02-28 is not; ..2025-03-01 is). */
export function longerThanAYear(from: string, to: string): boolean {
  return from <= yearsBefore(to, 1)
}

/** The TWR from `from` to `to` inclusive (days counted as calendar days from the day before `from`). */
export function twr(returns: readonly DailyReturn[], from: string, to: string): Twr {
  const within = returns.filter((d) => d.date >= from && d.date <= to)
  const cumulative = link(within)
  const days = toEpochDay(to) - toEpochDay(from) + 1
  return {
    cumulative,
    annualized: longerThanAYear(from, to) ? (1 + cumulative) ** (365 / days) - 1 : null,
    days,
    from,
    to,
  }
}

/** Linked returns per calendar month ('YYYY-MM'). */
export const monthlyReturns = (returns: readonly DailyReturn[]): { period: string; r: number }[] =>
  periodReturns(returns, (date) => date.slice(0, 7))

/** Linked returns per calendar quarter ('YYYY-Q1' … 'YYYY-Q4'). */
export const quarterlyReturns = (returns: readonly DailyReturn[]): { period: string; r: number }[] =>
  periodReturns(returns, (date) => `${date.slice(0, 4)}-Q${Math.ceil(Number(date.slice(5, 7)) / 3)}`)

/** Linked returns per calendar year ('YYYY'). */
export const yearlyReturns = (returns: readonly DailyReturn[]): { period: string; r: number }[] =>
  periodReturns(returns, (date) => date.slice(0, 4))

/** Linked returns per week, labelled by the week's Friday (weeks run Monday to Sunday). */
export const weeklyReturns = (returns: readonly DailyReturn[]): { period: string; r: number }[] =>
  periodReturns(returns, (date) => {
    const day = toEpochDay(date)
    const sinceMonday = (((day + 3) % 7) + 7) % 7 // 1970-01-01 was a Thursday
    return new Date((day - sinceMonday + 4) * 86_400_000).toISOString().slice(0, 10)
  })

function periodReturns(returns: readonly DailyReturn[], label: (date: string) => string) {
  const groups = Map.groupBy(returns, (d) => label(d.date))
  return [...groups].map(([period, days]) => ({ period, r: link(days) }))
}
