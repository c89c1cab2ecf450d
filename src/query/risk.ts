import type { Static } from '@sinclair/typebox'
import type { Sql } from '../adapters/pg-client.ts'
import type { PeriodName } from '../analytics/periods.ts'
import { cagr, calmar, capture, drawdownDurations, jensen, omega, semiDeviation, shape } from '../analytics/ratios.ts'
import { relativeRisk } from '../analytics/relative.ts'
import { type DailyReturn, dailyReturns, type FeeScope, link, twr } from '../analytics/returns.ts'
import {
  downsideDeviation,
  maxDrawdown,
  type QuantileRule,
  sharpe,
  sortino,
  valueAtRisk,
  volatility,
} from '../analytics/risk.ts'
import { fromEpochDay, toEpochDay } from '../domain/dates.ts'
import {
  type Context,
  inPortfolio,
  namedPeriods,
  type PeriodRequest,
  periodic,
  periodOf,
  QueryError,
  seriesOf,
} from './context.ts'
import type { RiskView } from './views.ts'

/** Risk: volatility, Sharpe, Sortino, drawdown, VaR, and figures relative to a benchmark. */

export type Frequency = 'daily' | 'weekly' | 'monthly'
export type RiskRequest = PeriodRequest & {
  frequency: Frequency
  annualizationFactor?: number | undefined
  riskFreeRate: number
  minimumAcceptableReturn: number
  confidence: number
  horizon: number
  /** How the historical quantile is taken; default nearest rank. */
  quantile?: QuantileRule | undefined
  benchmarkId?: string | undefined
  /** A security whose prices serve as the benchmark's levels (instead of `benchmarkId`). */
  benchmarkSecurityId?: string | undefined
  /** Fees netted from the returns (default) or added back. */
  fees?: FeeScope | undefined
  /** The statistics on simple periodic returns r (default) or on log returns ln(1 + r). */
  returns?: 'simple' | 'log' | undefined
  /** Further periods, each with its volatility, Sharpe, Sortino and drawdown (or why there is none). */
  periods?: readonly PeriodName[] | undefined
}

/** A statistic as answered: null where it is undefined (no variance, no loss, no drawdown). */
const finite = (x: number | null) => (x !== null && Number.isFinite(x) ? x : null)

/** Periods a year per frequency; daily by the portfolio's calendar (252 weekdays, or 365). */
const periodsPerYear = (frequency: Frequency, ctx: Context): number =>
  frequency === 'daily' ? ctx.calendar.daysPerYear : frequency === 'weekly' ? 52 : 12
export async function risk(sql: Sql, portfolioId: string, request: RiskRequest): Promise<Static<typeof RiskView>> {
  return inPortfolio(sql, portfolioId, request.to, async (ctx) => {
    const period = periodOf(ctx, request)
    const fees = request.fees ?? 'net'
    const log = request.returns === 'log'
    const daily = dailyReturns(await seriesOf(ctx, period), 'recorded', fees)
    const k = request.annualizationFactor ?? periodsPerYear(request.frequency, ctx)
    const returns = periodic(daily, request.frequency)
    // Each period's return linked simply from its days, then taken as ln(1 + r) when asked.
    const asked = (x: number) => (log ? Math.log1p(x) : x)
    const r = returns.map((x) => asked(x.r))
    if (r.length < 2) {
      throw new QueryError(422, {
        error: `${r.length} ${request.frequency} return(s): risk needs at least 2`,
        field: 'period',
      })
    }
    const marPerPeriod = (1 + request.minimumAcceptableReturn) ** (1 / k) - 1
    const at = (method: 'historical' | 'gaussian' | 'cornish-fisher') =>
      valueAtRisk(r, request.confidence, request.horizon, method, request.quantile ?? 'nearest-rank')
    let benchmark: Static<typeof RiskView>['benchmark'] = null
    const source = request.benchmarkSecurityId
      ? { kind: 'security' as const, id: request.benchmarkSecurityId }
      : request.benchmarkId
        ? { kind: 'benchmark' as const, id: request.benchmarkId }
        : undefined
    const rfPerPeriod = (1 + request.riskFreeRate) ** (1 / k) - 1
    if (source) {
      const b = await benchmarkReturns(ctx, source, period, daily)
      const bp = periodic(b, request.frequency).map((x) => asked(x.r))
      const captured = capture(r, bp)
      benchmark = {
        benchmarkId: source.id,
        source: source.kind,
        ...relativeRisk(r, bp, k),
        benchmarkReturn: link(b),
        jensen: jensen(r, bp, k, rfPerPeriod),
        upCapture: finite(captured.up),
        downCapture: finite(captured.down),
      }
    }
    const dated = returns.map((x) => ({ date: x.period, r: x.r }))
    const drawdown = maxDrawdown(dated)
    const whole = twr(daily, period.from, period.to)
    const yearly = cagr(whole.cumulative, whole.days)
    const { skewness, excessKurtosis } = shape(r)
    return {
      portfolioId,
      period,
      preset: request.preset ?? null,
      frequency: request.frequency,
      observations: r.length,
      annualizationFactor: k,
      riskFreeRate: request.riskFreeRate,
      minimumAcceptableReturn: request.minimumAcceptableReturn,
      volatility: finite(volatility(r, k)),
      sharpe: finite(sharpe(r, k, request.riskFreeRate)),
      sortino: finite(sortino(r, k, marPerPeriod)),
      maxDrawdown: drawdown,
      valueAtRisk: {
        confidence: request.confidence,
        horizon: request.horizon,
        quantile: request.quantile ?? 'nearest-rank',
        historical: at('historical'),
        gaussian: at('gaussian'),
        cornishFisher: at('cornish-fisher'),
      },
      benchmark,
      ratios: {
        cagr: yearly,
        calmar: finite(calmar(yearly, drawdown)),
        downsideDeviation: downsideDeviation(r, k, marPerPeriod),
        semiDeviation: semiDeviation(r, k),
        omega: finite(omega(r, marPerPeriod)),
        skewness: finite(skewness),
        excessKurtosis: finite(excessKurtosis),
        ...drawdownDurations(dated, drawdown),
      },
      ...(request.periods ? { periods: await namedRiskPeriods(ctx, request, request.periods) } : {}),
      conventions: {
        returns: `${request.frequency} TWR (flows as recorded, ${fees} of fees), days linked within each period${log ? '; statistics on log returns ln(1 + r)' : '; simple returns'}`,
        standardDeviation: 'sample (n − 1)',
        varSign: 'VaR and expected shortfall are losses, reported as positive fractions',
        drawdown: 'on the wealth index Π(1 + r) of the simple periodic returns (log or not)',
        annualization: `k = ${k} periods a year: volatility, deviations and tracking error × √k, alpha and mean excess × k`,
        dayBasis: 'CAGR over calendar days, actual/365, from the day before the first to the last',
        moments: 'skewness and excess kurtosis: population moments (÷ n)',
        riskFreeRate: `${request.riskFreeRate} a year as given, ${(1 + request.riskFreeRate) ** (1 / k) - 1} a period ((1 + rf)^(1/k) − 1)`,
        regression: 'Jensen: ordinary least squares of (r − rf) on (b − rf), sample covariance over sample variance',
      },
    }
  })
}

/**
 * Benchmark daily returns on the portfolio's days. A day's return is given, or derived from the
 * level and the previous level stored; a security's prices are its levels (in its own quote
 * currency, unconverted). A portfolio day the benchmark lacks → 422 with the days.
 */
export async function benchmarkReturns(
  ctx: Context,
  source: { kind: 'benchmark' | 'security'; id: string },
  period: { from: string; to: string },
  days: readonly DailyReturn[],
): Promise<DailyReturn[]> {
  const lookback = fromEpochDay(toEpochDay(period.from) - 31)
  const range = { from: lookback, to: period.to }
  const field = source.kind === 'security' ? 'benchmarkSecurityId' : 'benchmarkId'
  const points =
    source.kind === 'security'
      ? (await ctx.reads.prices(source.id, range)).map((p) => ({ date: p.date, level: p.price, return: null }))
      : await ctx.reads.benchmark(source.id, range)
  if (points.length === 0) {
    const what = source.kind === 'security' ? 'no prices of security' : 'no benchmark'
    throw new QueryError(404, { error: `${what} ${source.id}`, field })
  }
  const benchmarkId = source.id
  const byDate = new Map<string, number>()
  let previousLevel: number | undefined
  for (const p of points) {
    if (p.return !== null) byDate.set(p.date, Number(p.return))
    else if (previousLevel !== undefined) byDate.set(p.date, Number(p.level) / previousLevel - 1)
    if (p.level !== null) previousLevel = Number(p.level)
  }
  const missing = days.filter((d) => !byDate.has(d.date)).map((d) => d.date)
  if (missing.length > 0) {
    throw new QueryError(422, {
      error: `benchmark ${benchmarkId} has no return for ${missing.length} day(s) of the period`,
      field,
      missingDays: missing.slice(0, 100).map((date) => ({ date, reason: 'NO_BENCHMARK', positionIds: [] })),
      missingDaysTotal: missing.length,
    })
  }
  return days.map((d) => ({ date: d.date, r: byDate.get(d.date) as number }))
}

/**
 * The headline statistics of each named period, with the request's frequency, fees, return form,
 * risk-free rate and MAR, or why there is none (too young, days lacking complete data, fewer than
 * two returns).
 */
async function namedRiskPeriods(ctx: Context, request: RiskRequest, names: readonly PeriodName[]) {
  const { days, periods } = await namedPeriods(ctx, names)
  const daily = dailyReturns(days, 'recorded', request.fees ?? 'net')
  const k = request.annualizationFactor ?? periodsPerYear(request.frequency, ctx)
  const asked = (x: number) => (request.returns === 'log' ? Math.log1p(x) : x)
  const none = { volatility: null, sharpe: null, sortino: null, maxDrawdown: null }
  return periods.map((p) => {
    if (p.from === null || p.unavailable !== null) return { ...p, ...none }
    const returns = periodic(
      daily.filter((d) => d.date >= p.from && d.date <= p.to),
      request.frequency,
    )
    if (returns.length < 2) {
      return { ...p, ...none, unavailable: `${returns.length} ${request.frequency} return(s): risk needs at least 2` }
    }
    const r = returns.map((x) => asked(x.r))
    const mar = (1 + request.minimumAcceptableReturn) ** (1 / k) - 1
    return {
      ...p,
      volatility: finite(volatility(r, k)),
      sharpe: finite(sharpe(r, k, request.riskFreeRate)),
      sortino: finite(sortino(r, k, mar)),
      maxDrawdown: maxDrawdown(returns.map((x) => ({ date: x.period, r: x.r }))).maxDrawdown,
    }
  })
}
