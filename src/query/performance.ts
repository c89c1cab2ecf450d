import type { Static } from '@sinclair/typebox'
import type { Sql } from '../adapters/pg-client.ts'
import { seriesDietz } from '../analytics/dietz.ts'
import { contribution as contributionOf, mwrFlows } from '../analytics/performance.ts'
import type { PeriodName } from '../analytics/periods.ts'
import { dailyReturns, type FeeScope, type FlowTiming, twr } from '../analytics/returns.ts'
import { XIRR_SOLVER, xirr } from '../analytics/xirr.ts'
import { fromEpochDay, toEpochDay } from '../domain/dates.ts'
import { dec, sum, toCents } from '../domain/money.ts'
import {
  type Context,
  inPortfolio,
  namedPeriods,
  type PeriodRequest,
  periodic,
  periodOf,
  seriesOf,
  withoutDates,
} from './context.ts'
import type { ContributionView, MwrView, PerformanceView } from './views.ts'

/** Performance: time-weighted return, money-weighted return, and contribution by position. */

export const twrConventions = (timing: FlowTiming, fees: FeeScope) => ({
  returns: 'daily, linked geometrically: Π(1 + r) − 1',
  flowTiming: timing,
  fees,
  annualization: '(1 + TWR)^(365 / days) − 1 for periods longer than one calendar year; none otherwise',
  negativeValues:
    'denominator |BMV + SOD|; a day losing more than the capital at risk is capped at −100 % and listed in wipeOuts',
})

export type PerformanceRequest = PeriodRequest & {
  timing: FlowTiming
  fees: FeeScope
  frequency: Static<typeof PerformanceView>['frequency']
  /** Further periods, each answered with its own TWR (or why there is none) in `periods`. */
  periods?: readonly PeriodName[] | undefined
  /** With each of `periods`: begin and end value, start- and end-of-day flows and fees. */
  attributes?: boolean | undefined
}

export async function performance(
  sql: Sql,
  portfolioId: string,
  request: PerformanceRequest,
): Promise<Static<typeof PerformanceView>> {
  return inPortfolio(sql, portfolioId, request.to, async (ctx) => {
    const period = periodOf(ctx, request)
    const [days, flows] = await Promise.all([seriesOf(ctx, period), externalFlows(ctx, period)])
    const returns = dailyReturns(days, request.timing, request.fees)
    return {
      portfolioId,
      currency: ctx.portfolio.baseCurrency,
      period,
      preset: request.preset ?? null,
      twr: withoutDates(twr(returns, period.from, period.to)),
      wipeOuts: returns.filter((r) => r.wipeOut).map((r) => r.date),
      frequency: request.frequency,
      series: withCumulative(periodic(returns, request.frequency)),
      ...(request.periods ? { periods: await periodFigures(ctx, request, request.periods) } : {}),
      modifiedDietz: seriesDietz(days, flows, ctx.calendar),
      conventions: twrConventions(request.timing, request.fees),
    }
  })
}

/**
 * The external flows the series counts in the period's days (from after the close before its first
 * calendar day to its last), each with its own date; read alongside the series.
 */
function externalFlows(ctx: Context, period: { from: string; to: string }) {
  const calendar = ctx.calendar
  const first = calendar.onOrAfter(toEpochDay(period.from))
  const after = fromEpochDay(calendar.before(first) + 1)
  const last = fromEpochDay(calendar.onOrBefore(toEpochDay(period.to)))
  return ctx.reads.externalFlows(ctx.portfolio.portfolioId, { from: after, to: last })
}

/** Each named period's TWR (and its attributes when asked), or why there is none. */
async function periodFigures(ctx: Context, request: PerformanceRequest, names: readonly PeriodName[]) {
  const { rows, days, periods } = await namedPeriods(ctx, names)
  const returns = dailyReturns(days, request.timing, request.fees)
  return periods.map((p) => {
    if (p.from === null || p.unavailable !== null) return { ...p, twr: null }
    const inside = rows.filter((r) => r.date >= p.from && r.date <= p.to)
    const total = (pick: (r: (typeof rows)[number]) => string) => toCents(sum(inside.map((r) => dec(pick(r)))))
    const attributes = request.attributes
      ? {
          attributes: {
            beginValue: toCents(dec(inside[0]?.bmvBase ?? '0')),
            endValue: toCents(dec(inside.at(-1)?.emvBase ?? '0')),
            startOfDayFlows: total((r) => r.sodFlowBase),
            endOfDayFlows: total((r) => r.eodFlowBase),
            fees: total((r) => r.feesBase),
          },
        }
      : {}
    return { ...p, twr: withoutDates(twr(returns, p.from, p.to)), ...attributes }
  })
}

export async function mwr(sql: Sql, portfolioId: string, request: PeriodRequest): Promise<Static<typeof MwrView>> {
  return inPortfolio(sql, portfolioId, request.to, async (ctx) => {
    const period = periodOf(ctx, request)
    const [days, external] = await Promise.all([seriesOf(ctx, period), externalFlows(ctx, period)])
    const flows = mwrFlows(days, external, ctx.calendar)
    const result = xirr(flows)
    return {
      portfolioId,
      period,
      preset: request.preset ?? null,
      solved: result.ok,
      rate: result.ok ? result.rate : null,
      periodReturn: result.ok ? result.periodReturn : null,
      annualized: result.ok ? result.annualized : null,
      reason: result.ok ? null : result.reason,
      flows,
      conventions: {
        dayCount: 'actual/365',
        signs:
          'investor view: beginning value and deposits negative, withdrawals and ending value positive; each external flow on the date it happened, the beginning value at the close before the first day',
        solver: XIRR_SOLVER,
      },
    }
  })
}

export async function contribution(
  sql: Sql,
  portfolioId: string,
  request: PeriodRequest,
): Promise<Static<typeof ContributionView>> {
  return inPortfolio(sql, portfolioId, request.to, async (ctx) => {
    const period = periodOf(ctx, request)
    // Asked at once, the reads pipeline on the snapshot's connection.
    const [days, positions] = await Promise.all([
      seriesOf(ctx, period),
      ctx.reads.positionSeriesFloats(portfolioId, period),
    ])
    const c = contributionOf(days, positions)
    return {
      portfolioId,
      period,
      preset: request.preset ?? null,
      ...c,
      method:
        'c(i, t) = position gain (income included) / |BMV + SOD| of the portfolio; C(i) = Σ c(i, t) × portfolio growth before t, so contributions + other = total',
    }
  })
}

function withCumulative(series: readonly { period: string; r: number }[]) {
  let growth = 1
  return series.map((s) => {
    growth *= 1 + s.r
    return { ...s, cumulative: growth - 1 }
  })
}
