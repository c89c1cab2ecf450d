import type { Static } from '@sinclair/typebox'
import type { Sql } from '../adapters/pg-client.ts'
import { missingDays, type PortfolioDay } from '../analytics/performance.ts'
import { type PeriodName, type Preset, resolvePeriod, resolvePreset } from '../analytics/periods.ts'
import {
  type DailyReturn,
  monthlyReturns,
  quarterlyReturns,
  weeklyReturns,
  yearlyReturns,
} from '../analytics/returns.ts'
import { type Calendar, fromEpochDay, toEpochDay } from '../domain/dates.ts'
import { PgReads } from './pg-reads.ts'
import type { PerformanceView, PortfolioSeriesView, PortfolioView, Problem } from './views.ts'

/**
 * What every question of the query API shares: one REPEATABLE READ, READ ONLY snapshot per
 * request (so every figure of an answer comes from one consistent state), the portfolio and its
 * dates, the period asked for, and the series over it. The questions themselves are in
 * performance.ts, risk.ts, concentration.ts, review.ts and support.ts; they compute in memory
 * with the pure functions of src/analytics/.
 */

/** A request the data cannot answer: the HTTP layer sends `status` with `body`. */
export class QueryError extends Error {
  override name = 'QueryError'
  constructor(
    readonly status: 400 | 404 | 422,
    readonly body: Problem,
  ) {
    super(body.error)
  }
}

export const unknownPortfolio = (portfolioId: string) =>
  new QueryError(404, { error: `no portfolio ${portfolioId}`, field: 'portfolioId' })

/** Which days a request covers: a preset ending on `asOf`, or an explicit range. */
export type PeriodRequest = { preset?: Preset | undefined; from?: string | undefined; to?: string | undefined }

const SNAPSHOT = 'isolation level repeatable read read only'

export type Context = {
  reads: PgReads
  portfolio: PortfolioView
  /** Its valuation calendar, holidays included (dates.ts). */
  calendar: Calendar
  asOf: string
  inception: string
}

/** Runs `fn` on one snapshot of a known portfolio; an unknown one is 404. */
export async function snapshot<T>(
  sql: Sql,
  portfolioId: string,
  fn: (reads: PgReads, portfolio: PortfolioView) => Promise<T>,
): Promise<T> {
  return (await sql.begin(SNAPSHOT, async (tx) => {
    const reads = new PgReads(tx as unknown as Sql, true)
    // What nearly every question reads first, asked at once: the three pipeline on the snapshot's
    // connection (one wait instead of three), and the snapshot keeps the answers.
    const [portfolio] = await Promise.all([
      reads.portfolio(portfolioId),
      reads.businessDate(),
      reads.inception(portfolioId),
      reads.holidays(portfolioId),
    ])
    if (!portfolio) throw unknownPortfolio(portfolioId)
    return fn(reads, portfolio)
  })) as T
}

/** As #snapshot, with the portfolio's inception and the as-of date (default: the business date). */
export async function inPortfolio<T>(
  sql: Sql,
  portfolioId: string,
  asOf: string | undefined,
  fn: (ctx: Context) => Promise<T>,
): Promise<T> {
  return snapshot(sql, portfolioId, async (reads, portfolio) => fn(await contextOf(reads, portfolio, asOf)))
}

/** The context of a known portfolio on a snapshot; 422 while it has no daily series. */
export async function contextOf(reads: PgReads, portfolio: PortfolioView, asOf: string | undefined): Promise<Context> {
  const portfolioId = portfolio.portfolioId
  const [inception, businessDate, calendar] = await Promise.all([
    reads.inception(portfolioId),
    reads.businessDate(),
    reads.calendar(portfolioId),
  ])
  const resolvedAsOf = asOf ?? businessDate
  if (!inception || !resolvedAsOf) {
    throw new QueryError(422, { error: `portfolio ${portfolioId} has no daily series yet`, field: 'portfolioId' })
  }
  return { reads, portfolio, calendar, asOf: resolvedAsOf, inception }
}

/** The period asked for, checked against the data: a preset, or from/to (to defaults to asOf). */
export function periodOf(ctx: Context, request: PeriodRequest): { from: string; to: string } {
  if (request.preset) {
    const r = resolvePreset(request.preset, request.to ?? ctx.asOf, ctx.inception)
    if (!r.ok) throw new QueryError(422, { error: r.reason, field: 'period' })
    return r
  }
  const from = request.from ?? ctx.inception
  const to = request.to ?? ctx.asOf
  if (from > to) throw new QueryError(400, { error: `from ${from} is after to ${to}`, field: 'from' })
  if (from < ctx.inception) {
    throw new QueryError(422, {
      error: `from ${from} is before the portfolio's first day ${ctx.inception}`,
      field: 'from',
    })
  }
  return { from, to }
}

/**
 * The period of the summaries (summary, position analytics): as periodOf, YTD unless a preset or
 * `from` is given, ending on the portfolio's valuation day on or before `to` (under WEEKDAYS a
 * weekend ends on the Friday).
 */
export function summaryPeriod(ctx: Context, request: PeriodRequest): { from: string; to: string } {
  const asked = periodOf(ctx, request.preset || request.from ? request : { ...request, preset: 'YTD' })
  const to = fromEpochDay(ctx.calendar.onOrBefore(toEpochDay(asked.to)))
  if (to < asked.from) {
    throw new QueryError(422, { error: `no valuation day in ${asked.from}..${asked.to}`, field: 'to' })
  }
  return { from: asked.from, to }
}

/** The portfolio's series over the period, or 422 listing the days without complete data. */
export async function seriesOf(ctx: Context, period: { from: string; to: string }): Promise<PortfolioDay[]> {
  return (await completeSeries(ctx, period)).map(toPortfolioDay)
}

/** As seriesOf, the points as stored (exact decimal strings). */
export async function completeSeries(
  ctx: Context,
  period: { from: string; to: string },
): Promise<Static<typeof PortfolioSeriesView>[]> {
  const rows = await ctx.reads.portfolioSeries(ctx.portfolio.portfolioId, period)
  const missing = missingDays(rows, period.from, period.to, ctx.calendar)
  if (missing.length > 0) {
    const unvalued = await ctx.reads.unvalued(ctx.portfolio.portfolioId, period)
    const byDate = new Map(unvalued.map((u) => [u.date, u]))
    const list = missing.map((date) => byDate.get(date) ?? { date, reason: 'NO_SERIES', positionIds: [] as string[] })
    throw new QueryError(422, {
      error: `${missing.length} valuation day(s) in ${period.from}..${period.to} have no complete valuation: figures would be wrong`,
      field: 'period',
      missingDays: list.slice(0, 100),
      missingDaysTotal: missing.length,
    })
  }
  return rows
}

/** A stored series point (exact strings) as the float64 analytics read it. */
const seriesDay = (r: Omit<Static<typeof PortfolioSeriesView>, 'complete'>) => ({
  date: r.date,
  bmv: Number(r.bmvBase),
  emv: Number(r.emvBase),
  sod: Number(r.sodFlowBase),
  eod: Number(r.eodFlowBase),
  fees: Number(r.feesBase),
})
export const toPortfolioDay = (r: Static<typeof PortfolioSeriesView>): PortfolioDay => ({
  ...seriesDay(r),
  complete: r.complete,
})

export const withoutDates = ({
  cumulative,
  annualized,
  days,
}: {
  cumulative: number
  annualized: number | null
  days: number
}) => ({
  cumulative,
  annualized,
  days,
})

export function periodic(returns: readonly DailyReturn[], frequency: Static<typeof PerformanceView>['frequency']) {
  switch (frequency) {
    case 'daily':
      return returns.map((d) => ({ period: d.date, r: d.r }))
    case 'weekly':
      return weeklyReturns(returns)
    case 'monthly':
      return monthlyReturns(returns)
    case 'quarterly':
      return quarterlyReturns(returns)
    case 'yearly':
      return yearlyReturns(returns)
    case 'none':
      return []
  }
}

/** A named period resolved against a portfolio's series: its days, or why it has no figure. */
export type NamedPeriod =
  | { name: PeriodName; from: null; to: null; unavailable: string }
  | { name: PeriodName; from: string; to: string; unavailable: string | null }

/**
 * The series since inception, read once, and each named period on it (`periods=` of performance
 * and risk): unavailable when the portfolio is too young for it or a day in it lacks complete data.
 */
export async function namedPeriods(ctx: Context, names: readonly PeriodName[]) {
  const rows = await ctx.reads.portfolioSeries(ctx.portfolio.portfolioId, { from: ctx.inception, to: ctx.asOf })
  const days = rows.map(toPortfolioDay)
  const missing = missingDays(days, ctx.inception, ctx.asOf, ctx.calendar)
  const periods = names.map((name): NamedPeriod => {
    const p = resolvePeriod(name, ctx.asOf, ctx.inception)
    if (!p.ok) return { name, from: null, to: null, unavailable: p.reason }
    const gaps = missing.filter((d) => d >= p.from && d <= p.to)
    const unavailable = gaps.length > 0 ? `${gaps.length} day(s) without complete data, first ${gaps[0]}` : null
    return { name, from: p.from, to: p.to, unavailable }
  })
  return { rows, days, periods }
}
