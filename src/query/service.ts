import type { Static } from '@sinclair/typebox'
import type { Sql } from '../adapters/pg-client.ts'
import { concentration } from '../analytics/concentration.ts'
import { contribution, missingDays, mwrFlows, type PortfolioDay } from '../analytics/performance.ts'
import { type Preset, resolvePreset } from '../analytics/periods.ts'
import { relativeRisk } from '../analytics/relative.ts'
import {
  type DailyReturn,
  dailyReturns,
  type FeeScope,
  type FlowTiming,
  link,
  monthlyReturns,
  twr,
  weeklyReturns,
  yearlyReturns,
} from '../analytics/returns.ts'
import { maxDrawdown, sharpe, sortino, valueAtRisk, volatility } from '../analytics/risk.ts'
import { xirr } from '../analytics/xirr.ts'
import { fromEpochDay, toEpochDay } from '../domain/dates.ts'
import { type Decimal, dec, sum, toCents, ZERO } from '../domain/money.ts'
import { PgReads } from './pg-reads.ts'
import type {
  ConcentrationView,
  ContributionView,
  InstrumentView,
  LineageView,
  MwrView,
  PerformanceView,
  PortfolioSeriesView,
  PortfolioView,
  PositionView,
  Problem,
  ReviewView,
  RiskView,
  SupportView,
} from './views.ts'

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
export type Frequency = 'daily' | 'weekly' | 'monthly'
export type RiskRequest = PeriodRequest & {
  frequency: Frequency
  annualizationFactor?: number | undefined
  riskFreeRate: number
  minimumAcceptableReturn: number
  confidence: number
  horizon: number
  benchmarkId?: string | undefined
}

const PERIODS_PER_YEAR: Record<Frequency, number> = { daily: 252, weekly: 52, monthly: 12 }
const SNAPSHOT = 'isolation level repeatable read read only'

export const twrConventions = (timing: FlowTiming, fees: FeeScope) => ({
  returns: 'daily, linked geometrically: Π(1 + r) − 1',
  flowTiming: timing,
  fees,
  annualization: '(1 + TWR)^(365 / days) − 1 for periods longer than one calendar year; none otherwise',
  negativeValues:
    'denominator |BMV + SOD|; a day losing more than the capital at risk is capped at −100 % and listed in wipeOuts',
})

type Context = { reads: PgReads; portfolio: PortfolioView; asOf: string; inception: string }

/**
 * The analytics of the query API. Each request reads inside one REPEATABLE READ, READ ONLY
 * transaction, so every figure of an answer (the review's most of all) comes from one consistent
 * snapshot, and computes in memory with the pure functions of src/analytics/.
 */
export class QueryService {
  constructor(private readonly sql: Sql) {}

  /** Runs `fn` on one snapshot of a known portfolio; an unknown one is 404. */
  async #snapshot<T>(portfolioId: string, fn: (reads: PgReads, portfolio: PortfolioView) => Promise<T>): Promise<T> {
    return (await this.sql.begin(SNAPSHOT, async (tx) => {
      const reads = new PgReads(tx as unknown as Sql, true)
      const portfolio = await reads.portfolio(portfolioId)
      if (!portfolio) throw unknownPortfolio(portfolioId)
      return fn(reads, portfolio)
    })) as T
  }

  /** As #snapshot, with the portfolio's inception and the as-of date (default: the business date). */
  async #inPortfolio<T>(portfolioId: string, asOf: string | undefined, fn: (ctx: Context) => Promise<T>): Promise<T> {
    return this.#snapshot(portfolioId, async (reads, portfolio) => {
      const [inception, businessDate] = await Promise.all([reads.inception(portfolioId), reads.businessDate()])
      const resolvedAsOf = asOf ?? businessDate
      if (!inception || !resolvedAsOf) {
        throw new QueryError(422, { error: `portfolio ${portfolioId} has no daily series yet`, field: 'portfolioId' })
      }
      return fn({ reads, portfolio, asOf: resolvedAsOf, inception })
    })
  }

  /** The period asked for, checked against the data: a preset, or from/to (to defaults to asOf). */
  #period(ctx: Context, request: PeriodRequest): { from: string; to: string } {
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

  /** The portfolio's series over the period, or 422 listing the days without complete data. */
  async #series(ctx: Context, period: { from: string; to: string }): Promise<PortfolioDay[]> {
    const rows = await ctx.reads.portfolioSeries(ctx.portfolio.portfolioId, period)
    const days = rows.map(toPortfolioDay)
    const missing = missingDays(days, period.from, period.to)
    if (missing.length > 0) {
      const unvalued = await ctx.reads.unvalued(ctx.portfolio.portfolioId, period)
      const byDate = new Map(unvalued.map((u) => [u.date, u]))
      const list = missing.map((date) => byDate.get(date) ?? { date, reason: 'NO_SERIES', positionIds: [] as string[] })
      throw new QueryError(422, {
        error: `${missing.length} business day(s) in ${period.from}..${period.to} have no complete valuation: figures would be wrong`,
        field: 'period',
        missingDays: list.slice(0, 100),
        missingDaysTotal: missing.length,
      })
    }
    return days
  }

  async performance(
    portfolioId: string,
    request: PeriodRequest & {
      timing: FlowTiming
      fees: FeeScope
      frequency: Static<typeof PerformanceView>['frequency']
    },
  ): Promise<Static<typeof PerformanceView>> {
    return this.#inPortfolio(portfolioId, request.to, async (ctx) => {
      const period = this.#period(ctx, request)
      const returns = dailyReturns(await this.#series(ctx, period), request.timing, request.fees)
      return {
        portfolioId,
        currency: ctx.portfolio.baseCurrency,
        period,
        preset: request.preset ?? null,
        twr: withoutDates(twr(returns, period.from, period.to)),
        wipeOuts: returns.filter((r) => r.wipeOut).map((r) => r.date),
        frequency: request.frequency,
        series: withCumulative(periodic(returns, request.frequency)),
        conventions: twrConventions(request.timing, request.fees),
      }
    })
  }

  async mwr(portfolioId: string, request: PeriodRequest): Promise<Static<typeof MwrView>> {
    return this.#inPortfolio(portfolioId, request.to, async (ctx) => {
      const period = this.#period(ctx, request)
      const flows = mwrFlows(await this.#series(ctx, period))
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
            'investor view: beginning value and deposits negative, withdrawals and ending value positive; start-of-day flows dated the day before',
          solver: 'Newton from 10 %, bisection on (−99.99 %, 10⁶ %) if Newton fails',
        },
      }
    })
  }

  async contribution(portfolioId: string, request: PeriodRequest): Promise<Static<typeof ContributionView>> {
    return this.#inPortfolio(portfolioId, request.to, async (ctx) => {
      const period = this.#period(ctx, request)
      const days = await this.#series(ctx, period)
      const positions = await ctx.reads.positionSeriesFloats(portfolioId, period)
      // A cash position's income is a flow of that cash, not a return of its own.
      for (const p of positions) if (p.positionId.startsWith('CASH:')) p.income = 0
      const c = contribution(days, positions)
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

  async risk(portfolioId: string, request: RiskRequest): Promise<Static<typeof RiskView>> {
    return this.#inPortfolio(portfolioId, request.to, async (ctx) => {
      const period = this.#period(ctx, request)
      const daily = dailyReturns(await this.#series(ctx, period))
      const k = request.annualizationFactor ?? PERIODS_PER_YEAR[request.frequency]
      const returns = periodic(daily, request.frequency)
      const r = returns.map((x) => x.r)
      if (r.length < 2) {
        throw new QueryError(422, {
          error: `${r.length} ${request.frequency} return(s): risk needs at least 2`,
          field: 'period',
        })
      }
      const marPerPeriod = (1 + request.minimumAcceptableReturn) ** (1 / k) - 1
      const finite = (x: number) => (Number.isFinite(x) ? x : null)
      const at = (method: 'historical' | 'gaussian' | 'cornish-fisher') =>
        valueAtRisk(r, request.confidence, request.horizon, method)
      let benchmark: Static<typeof RiskView>['benchmark'] = null
      if (request.benchmarkId) {
        const b = await this.#benchmarkReturns(ctx, request.benchmarkId, period, daily)
        const bp = periodic(b, request.frequency)
        benchmark = {
          benchmarkId: request.benchmarkId,
          ...relativeRisk(
            r,
            bp.map((x) => x.r),
            k,
          ),
          benchmarkReturn: link(b),
        }
      }
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
        maxDrawdown: maxDrawdown(returns.map((x) => ({ date: x.period, r: x.r }))),
        valueAtRisk: {
          confidence: request.confidence,
          horizon: request.horizon,
          historical: at('historical'),
          gaussian: at('gaussian'),
          cornishFisher: at('cornish-fisher'),
        },
        benchmark,
        conventions: {
          returns: `${request.frequency} TWR (flows as recorded, net of fees), days linked within each period`,
          standardDeviation: 'sample (n − 1)',
          varSign: 'VaR and expected shortfall are losses, reported as positive fractions',
          drawdown: 'on the wealth index Π(1 + r) of the periodic returns',
        },
      }
    })
  }

  /**
   * Benchmark daily returns on the portfolio's days. A day's return is given, or derived from the
   * level and the previous level stored. A portfolio day the benchmark lacks → 422 with the days.
   */
  async #benchmarkReturns(
    ctx: Context,
    benchmarkId: string,
    period: { from: string; to: string },
    days: readonly DailyReturn[],
  ): Promise<DailyReturn[]> {
    const lookback = fromEpochDay(toEpochDay(period.from) - 31)
    const points = await ctx.reads.benchmark(benchmarkId, { from: lookback, to: period.to })
    if (points.length === 0) throw new QueryError(404, { error: `no benchmark ${benchmarkId}`, field: 'benchmarkId' })
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
        field: 'benchmarkId',
        missingDays: missing.slice(0, 100).map((date) => ({ date, reason: 'NO_BENCHMARK', positionIds: [] })),
        missingDaysTotal: missing.length,
      })
    }
    return days.map((d) => ({ date: d.date, r: byDate.get(d.date) as number }))
  }

  async concentration(
    portfolioId: string,
    request: { asOf?: string | undefined; top: number },
  ): Promise<Static<typeof ConcentrationView>> {
    return this.#inPortfolio(portfolioId, request.asOf, async (ctx) => {
      const holdings = await this.#holdings(ctx)
      const missing = holdings.filter((h) => h.position.marketValueBase === null)
      if (missing.length > 0) {
        throw new QueryError(422, {
          error: `${missing.length} position(s) have no market value on ${ctx.asOf}`,
          field: 'asOf',
          missingDays: [{ date: ctx.asOf, reason: 'UNVALUED', positionIds: missing.map((h) => h.position.positionId) }],
          missingDaysTotal: 1,
        })
      }
      const c = concentration(
        holdings.map((h) => ({ positionId: h.position.positionId, value: Number(h.value), ...issuerOf(h) })),
      )
      const total = sum(holdings.map((h) => h.value))
      return {
        portfolioId,
        asOf: ctx.asOf,
        total: toCents(total),
        hhi: c.hhi,
        largest: c.largest,
        top5: c.top5,
        top10: c.top10,
        topN: { n: request.top, share: c.weights.slice(0, request.top).reduce((s, w) => s + w.weight, 0) },
        positions: allocate(holdings, (h) => h.position.positionId, total),
        issuers: c.issuers,
        allocation: allocations(holdings, total),
        conventions:
          'weights = market value / total (net: a short weighs negative); HHI = Σ w² over positions; issuer = ultimate parent issuer, else issuer, Cash for cash, Unclassified (flagged) when unknown',
      }
    })
  }

  /** Open positions on asOf with their instrument's classification. */
  async #holdings(ctx: Context): Promise<Holding[]> {
    const [positions, held] = await Promise.all([
      ctx.reads.positions(ctx.portfolio.portfolioId, ctx.asOf, false),
      ctx.reads.instrumentsHeld(ctx.portfolio.portfolioId),
    ])
    const instruments = new Map(held.map((i) => [i.securityId, i]))
    return positions.map((position) => ({
      position,
      instrument: instruments.get(position.positionId),
      value: position.marketValueBase === null ? ZERO : dec(position.marketValueBase),
    }))
  }

  async review(portfolioId: string, request: { asOf?: string | undefined }): Promise<Static<typeof ReviewView>> {
    return this.#inPortfolio(portfolioId, request.asOf, async (ctx) => {
      const { reads, asOf, inception } = ctx
      const ytd = resolvePreset('YTD', asOf, inception)
      const ytdFrom = ytd.ok ? ytd.from : asOf
      // Asked at once, the reads pipeline on the snapshot's connection: PostgreSQL answers the next
      // while this process parses the one before.
      const [holdings, rows, cashflows, ytdTransactions] = await Promise.all([
        this.#holdings(ctx),
        reads.portfolioSeries(portfolioId, { from: inception, to: asOf }),
        reads.cashflows(portfolioId, { from: ytdFrom, to: asOf }),
        reads.transactions(portfolioId, { from: ytdFrom, to: asOf, sort: '-tradeDate' }, { limit: 20, offset: 0 }),
      ])
      const total = sum(holdings.map((h) => h.value))
      const complete = holdings.every((h) => h.position.marketValueBase !== null)
      const all = rows.map(toPortfolioDay)
      const ytdRows = rows.filter((r) => r.date >= ytdFrom)
      const ytdSum = (pick: (r: (typeof rows)[number]) => Decimal) => sum(ytdRows.map(pick))
      const net = dailyReturns(all, 'recorded', 'net')
      const gross = dailyReturns(all, 'recorded', 'gross')

      // The days without complete data since inception, found once for every preset.
      const missingSinceInception = missingDays(all, inception, asOf)
      const missingIn = (p: { from: string; to: string }) =>
        missingSinceInception.filter((date) => date >= p.from && date <= p.to)
      const figure = (preset: Preset) => {
        const p = resolvePreset(preset, asOf, inception)
        if (!p.ok) return { preset, from: null, net: null, gross: null, unavailable: p.reason }
        const missing = missingIn(p)
        if (missing.length > 0) {
          return {
            preset,
            from: p.from,
            net: null,
            gross: null,
            unavailable: `${missing.length} day(s) without complete data, first ${missing[0]}`,
          }
        }
        return {
          preset,
          from: p.from,
          net: withoutDates(twr(net, p.from, p.to)),
          gross: withoutDates(twr(gross, p.from, p.to)),
          unavailable: null,
        }
      }
      const riskFigure = (preset: Preset) => {
        const p = resolvePreset(preset, asOf, inception)
        if (!p.ok) return { preset, volatility: null, sharpe: null, unavailable: p.reason }
        if (missingIn(p).length > 0) {
          return { preset, volatility: null, sharpe: null, unavailable: 'days without complete data' }
        }
        const r = net.filter((d) => d.date >= p.from && d.date <= p.to).map((d) => d.r)
        if (r.length < 2) return { preset, volatility: null, sharpe: null, unavailable: 'fewer than 2 daily returns' }
        const finite = (x: number) => (Number.isFinite(x) ? x : null)
        return { preset, volatility: finite(volatility(r, 252)), sharpe: finite(sharpe(r, 252)), unavailable: null }
      }

      const external = cashflows
        .filter((c) => c.class === 'EXTERNAL' || c.class === 'TRANSFER')
        .map((c) => dec(c.amountBase))
      const withWeights = holdings.map((h) => withWeight(h.position, complete ? total : null))
      const groups = Map.groupBy(
        holdings.map((h, i) => ({ h, view: withWeights[i] as PositionView })),
        (x) => assetClassOf(x.h),
      )
      return {
        portfolioId,
        asOf,
        overview: {
          portfolio: ctx.portfolio,
          totalWealth: toCents(total),
          cash: toCents(sum(holdings.filter((h) => h.position.positionId.startsWith('CASH:')).map((h) => h.value))),
          ytdPnl: toCents(ytdSum((r) => dec(r.emvBase).minus(r.bmvBase).minus(r.sodFlowBase).minus(r.eodFlowBase))),
          complete,
        },
        allocation: { ...allocations(holdings, total), issuer: allocate(holdings, (h) => issuerLabel(h), total) },
        performance: (['MTD', 'QTD', 'YTD', '1Y', '3Y', 'SI'] as const).map(figure),
        risk: (['YTD', '3Y'] as const).map(riskFigure),
        activity: {
          ytdIncome: toCents(ytdSum((r) => dec(r.incomeBase))),
          ytdDeposits: toCents(sum(external.filter((a) => a.gt(0)))),
          ytdWithdrawals: toCents(sum(external.filter((a) => a.lt(0)))),
          ytdFees: toCents(ytdSum((r) => dec(r.feesBase))),
        },
        holdings: [...groups]
          .map(([assetClass, members]) => ({ assetClass, total: sum(members.map((m) => m.h.value)), members }))
          .sort((x, y) => y.total.cmp(x.total))
          .map(({ assetClass, total: value, members }) => ({
            assetClass,
            value: toCents(value),
            positions: members.map((m) => m.view),
          })),
        transactions: { ytdCount: ytdTransactions.total, recent: ytdTransactions.items },
      }
    })
  }

  /** Positions as of a date with their weights (null when any position is unvalued that day). */
  async positions(portfolioId: string, asOf: string | undefined, includeClosed: boolean): Promise<PositionView[]> {
    return this.#inPortfolio(portfolioId, asOf, async (ctx) => {
      const rows = await ctx.reads.positions(portfolioId, ctx.asOf, includeClosed)
      const complete = rows.every((p) => p.quantity === '0' || p.marketValueBase !== null)
      const total = sum(rows.map((p) => (p.marketValueBase === null ? ZERO : dec(p.marketValueBase))))
      return rows.map((p) => withWeight(p, complete ? total : null))
    })
  }

  async lineage(portfolioId: string, positionId: string): Promise<Static<typeof LineageView>> {
    return this.#snapshot(portfolioId, async (reads) => {
      const l = await reads.positionLineage(portfolioId, positionId)
      if (!l.transaction && l.stages.length === 0) {
        throw new QueryError(404, {
          error: `portfolio ${portfolioId} has no position ${positionId}`,
          field: 'positionId',
        })
      }
      return {
        portfolioId,
        positionId,
        latestTransaction: l.transaction ?? null,
        latestPrice: l.price ?? null,
        stages: l.stages,
        latestValuation: l.valuation ?? null,
        latestSeriesDate: l.latestSeriesDate,
      }
    })
  }

  async support(portfolioId: string): Promise<Static<typeof SupportView>> {
    return this.#snapshot(portfolioId, async (reads) => {
      const businessDate = await reads.businessDate()
      const stages = (await reads.stageLineage(portfolioId)).map(({ reflects, ...s }) => ({
        ...s,
        state:
          reflects === null
            ? ('never-run' as const)
            : !reflects
              ? ('pending' as const)
              : s.stage !== 'positions' && businessDate !== null && (s.throughDate ?? '') < businessDate
                ? ('lagging' as const)
                : ('current' as const),
      }))
      return {
        portfolioId,
        businessDate,
        stages,
        rejectedTransactions: await reads.rejections(portfolioId),
        unvaluedDays: await reads.unvaluedCount(portfolioId),
        deadLetters: await reads.deadLetters(portfolioId),
      }
    })
  }
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
const toPortfolioDay = (r: Static<typeof PortfolioSeriesView>): PortfolioDay => ({
  ...seriesDay(r),
  complete: r.complete,
})

type Holding = { position: Omit<PositionView, 'weight'>; instrument: InstrumentView | undefined; value: Decimal }

const withoutDates = ({
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

function periodic(returns: readonly DailyReturn[], frequency: Static<typeof PerformanceView>['frequency']) {
  switch (frequency) {
    case 'daily':
      return returns.map((d) => ({ period: d.date, r: d.r }))
    case 'weekly':
      return weeklyReturns(returns)
    case 'monthly':
      return monthlyReturns(returns)
    case 'yearly':
      return yearlyReturns(returns)
    case 'none':
      return []
  }
}

function withCumulative(series: readonly { period: string; r: number }[]) {
  let growth = 1
  return series.map((s) => {
    growth *= 1 + s.r
    return { ...s, cumulative: growth - 1 }
  })
}

function withWeight(p: Omit<PositionView, 'weight'>, total: Decimal | null): PositionView {
  const weight =
    total === null || total.isZero() || p.marketValueBase === null ? null : dec(p.marketValueBase).div(total).toNumber()
  return { ...p, weight }
}

const isCash = (h: Holding) => h.position.positionId.startsWith('CASH:')
const assetClassOf = (h: Holding) => (isCash(h) ? 'Cash' : (h.instrument?.assetClass ?? 'Unclassified'))
const issuerLabel = (h: Holding) =>
  isCash(h) ? 'Cash' : (h.instrument?.ultimateParentIssuerId ?? h.instrument?.issuerId ?? 'Unclassified')
const issuerOf = (h: Holding) =>
  isCash(h)
    ? { ultimateParentIssuerId: 'Cash' }
    : {
        ...(h.instrument?.issuerId ? { issuerId: h.instrument.issuerId } : {}),
        ...(h.instrument?.ultimateParentIssuerId
          ? { ultimateParentIssuerId: h.instrument.ultimateParentIssuerId }
          : {}),
      }

/** Market values summed exactly per group, weights as fractions of the total, largest first. */
function allocate(holdings: readonly Holding[], key: (h: Holding) => string, total: Decimal) {
  const groups = new Map<string, Decimal>()
  for (const h of holdings) groups.set(key(h), (groups.get(key(h)) ?? ZERO).plus(h.value))
  return [...groups]
    .map(([k, value]) => ({ key: k, value: toCents(value), weight: total.isZero() ? 0 : value.div(total).toNumber() }))
    .sort((a, b) => b.weight - a.weight || a.key.localeCompare(b.key))
}

function allocations(holdings: readonly Holding[], total: Decimal) {
  return {
    assetClass: allocate(holdings, assetClassOf, total),
    sector: allocate(holdings, (h) => (isCash(h) ? 'Cash' : (h.instrument?.sector ?? 'Unclassified')), total),
    country: allocate(holdings, (h) => (isCash(h) ? 'Cash' : (h.instrument?.countryOfRisk ?? 'Unclassified')), total),
    currency: allocate(holdings, (h) => h.position.currency, total),
  }
}
