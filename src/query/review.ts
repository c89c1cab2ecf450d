import type { Static } from '@sinclair/typebox'
import type { Sql } from '../adapters/pg-client.ts'
import { missingDays } from '../analytics/performance.ts'
import { type Preset, resolvePreset } from '../analytics/periods.ts'
import { dailyReturns, twr } from '../analytics/returns.ts'
import { sharpe, volatility } from '../analytics/risk.ts'
import { centsOf, dec, toCents, toScaled } from '../domain/money.ts'
import { contextOf, inPortfolio, snapshot, toPortfolioDay, withoutDates } from './context.ts'
import {
  allocate,
  allocations,
  assetClassOf,
  holdingsOf,
  isCash,
  issuerLabel,
  totalValue,
  withWeight,
} from './holdings.ts'
import { seriesTotals } from './pg-reads.ts'
import type { PortfolioView, PositionView, ReviewView } from './views.ts'

/** The portfolio review (one snapshot: overview, allocation, performance, risk, activity, holdings) and positions. */

/** The parts of a review, all by default; `sections=` asks for some (the others are left out, and not read). */
export const ReviewSections = [
  'overview',
  'allocation',
  'performance',
  'risk',
  'activity',
  'holdings',
  'transactions',
] as const
export type ReviewSection = (typeof ReviewSections)[number]

export async function review(
  sql: Sql,
  portfolioId: string,
  request: { asOf?: string | undefined; sections?: readonly ReviewSection[] | undefined },
): Promise<Static<typeof ReviewView>> {
  const wanted = new Set<ReviewSection>(request.sections ?? ReviewSections)
  const only = <T extends object>(full: T): Partial<T> =>
    Object.fromEntries(Object.entries(full).filter(([k]) => wanted.has(k as ReviewSection))) as Partial<T>
  return snapshot(sql, portfolioId, async (reads, portfolio) => {
    // A portfolio with no transaction yet is reviewed as empty; one whose transactions the
    // pipeline has not reached yet is still 422 (contextOf).
    if (!(await reads.inception(portfolioId))) {
      const any = await reads.transactions(portfolioId, {}, { limit: 1, offset: 0 })
      if (any.total === 0) {
        const {
          portfolioId: id,
          asOf,
          dataSince,
          ...sections
        } = emptyReview(portfolio, request.asOf ?? (await reads.businessDate()) ?? portfolio.openDate)
        return { portfolioId: id, asOf, dataSince, ...only(sections) }
      }
    }
    const ctx = await contextOf(reads, portfolio, request.asOf)
    const { asOf, inception } = ctx
    const ytd = resolvePreset('YTD', asOf, inception)
    const ytdFrom = ytd.ok ? ytd.from : asOf
    const needs = (...sections: ReviewSection[]) => sections.some((s) => wanted.has(s))
    const none = Promise.resolve([])
    // Asked at once, the reads pipeline on the snapshot's connection: PostgreSQL answers the next
    // while this process parses the one before. A section not asked for is not read.
    const [holdings, rows, ytdExternal, ytdTransactions, byAssetClass] = await Promise.all([
      needs('overview', 'allocation', 'holdings') ? holdingsOf(ctx) : none,
      needs('overview', 'performance', 'risk', 'activity')
        ? reads.portfolioSeries(portfolioId, { from: inception, to: asOf })
        : none,
      needs('overview', 'activity') ? reads.externalSums(portfolioId, { from: ytdFrom, to: asOf }) : undefined,
      needs('transactions')
        ? reads.transactions(portfolioId, { from: ytdFrom, to: asOf, sort: '-tradeDate' }, { limit: 20, offset: 0 })
        : { items: [], total: 0, limit: 20, offset: 0 },
      needs('transactions') ? reads.transactionsByAssetClass(portfolioId, { from: ytdFrom, to: asOf }) : none,
    ])
    // The YTD P&L, income and fees from the series since inception read above (its last days).
    const ytdTotals = ytdExternal && { ...seriesTotals(rows, { from: ytdFrom, to: asOf }), ...ytdExternal }
    const total = totalValue(holdings)
    const complete = holdings.every((h) => h.position.marketValueBase !== null)
    const all = rows.map(toPortfolioDay)
    const net = dailyReturns(all, 'recorded', 'net')
    const gross = dailyReturns(all, 'recorded', 'gross')

    // The days without complete data since inception, found once for every preset.
    const calendar = ctx.calendar
    const missingSinceInception = missingDays(all, inception, asOf, calendar)
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
      const k = calendar.daysPerYear
      return { preset, volatility: finite(volatility(r, k)), sharpe: finite(sharpe(r, k)), unavailable: null }
    }

    const withWeights = holdings.map((h) => withWeight(h.position, complete ? total : null))
    const groups = Map.groupBy(
      holdings.map((h, i) => ({ h, view: withWeights[i] as PositionView })),
      (x) => assetClassOf(x.h),
    )
    const sections = {
      overview: {
        portfolio: ctx.portfolio,
        totalWealth: centsOf(total),
        cash: centsOf(totalValue(holdings.filter(isCash))),
        ytdPnl: cents(ytdTotals?.pnl),
        complete,
      },
      allocation: {
        ...allocations(holdings, total, ctx.asOf),
        issuer: allocate(holdings, (h) => issuerLabel(h), total),
      },
      performance: REVIEW_PRESETS.map(figure),
      risk: (['YTD', '3Y'] as const).map(riskFigure),
      activity: {
        ytdIncome: cents(ytdTotals?.income),
        ytdDeposits: cents(ytdTotals?.deposits),
        ytdWithdrawals: cents(ytdTotals?.withdrawals),
        ytdFees: cents(ytdTotals?.fees),
      },
      holdings: [...groups]
        .map(([assetClass, members]) => ({ assetClass, total: totalValue(members.map((m) => m.h)), members }))
        .sort((x, y) => (y.total > x.total ? 1 : y.total < x.total ? -1 : 0))
        .map(({ assetClass, total: value, members }) => ({
          assetClass,
          value: centsOf(value),
          positions: members.map((m) => m.view),
        })),
      transactions: { ytdCount: ytdTransactions.total, recent: ytdTransactions.items, byAssetClass },
    }
    return { portfolioId, asOf, dataSince: inception, ...only(sections) }
  })
}

/** Positions as of a date with their weights (null when any position is unvalued that day). */
export async function positions(
  sql: Sql,
  portfolioId: string,
  asOf: string | undefined,
  includeClosed: boolean,
): Promise<PositionView[]> {
  return inPortfolio(sql, portfolioId, asOf, async (ctx) => {
    const rows = await ctx.reads.positions(portfolioId, ctx.asOf, includeClosed)
    const complete = rows.every((p) => p.quantity === '0' || p.marketValueBase !== null)
    const total = rows.reduce((s, p) => s + (p.marketValueBase === null ? 0n : toScaled(p.marketValueBase)), 0n)
    return rows.map((p) => withWeight(p, complete ? total : null))
  })
}

const REVIEW_PRESETS = ['MTD', 'QTD', 'YTD', '1Y', '3Y', 'SI'] as const
/** An exact sum read from PostgreSQL, to the cent (rule 4); a section not read counts 0. */
const cents = (text: string | undefined) => (text === undefined ? '0.00' : toCents(dec(text)))
const NO_DATA = 'no data yet: the portfolio has no transactions'

/** The review of a portfolio with no transaction yet: zeros, empty lists, and why there is no figure. */
function emptyReview(portfolio: PortfolioView, asOf: string): Static<typeof ReviewView> {
  const none = { assetClass: [], sector: [], country: [], currency: [], issuer: [], rating: [], maturity: [] }
  return {
    portfolioId: portfolio.portfolioId,
    asOf,
    dataSince: null,
    overview: { portfolio, totalWealth: '0.00', cash: '0.00', ytdPnl: '0.00', complete: true },
    allocation: none,
    performance: REVIEW_PRESETS.map((preset) => ({ preset, from: null, net: null, gross: null, unavailable: NO_DATA })),
    risk: (['YTD', '3Y'] as const).map((preset) => ({ preset, volatility: null, sharpe: null, unavailable: NO_DATA })),
    activity: { ytdIncome: '0.00', ytdDeposits: '0.00', ytdWithdrawals: '0.00', ytdFees: '0.00' },
    holdings: [],
    transactions: { ytdCount: 0, recent: [], byAssetClass: [] },
  }
}
