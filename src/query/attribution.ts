import type { Static } from '@sinclair/typebox'
import type { Sql } from '../adapters/pg-client.ts'
import { attributeDays, type BenchmarkDay, type Method, type SegmentedDay } from '../analytics/attribution.ts'
import { dailyReturns, twr } from '../analytics/returns.ts'
import type { Classification } from '../domain/records.ts'
import { isCashPosition } from '../domain/transactions.ts'
import { inPortfolio, type PeriodRequest, periodOf, QueryError, seriesOf } from './context.ts'
import { segmentOf } from './holdings.ts'
import type { AttributionView } from './views.ts'

/** Return attribution (Brinson) of a portfolio against a benchmark's segments, day by day, linked. */

export type AttributionRequest = PeriodRequest & {
  benchmarkId: string
  classification: Classification
  method: Method
}

/** How far a day's benchmark weights may be from summing to 1. */
const WEIGHT_TOLERANCE = 1e-6

export async function attribution(
  sql: Sql,
  portfolioId: string,
  request: AttributionRequest,
): Promise<Static<typeof AttributionView>> {
  return inPortfolio(sql, portfolioId, request.to, async (ctx) => {
    const period = periodOf(ctx, request)
    const { benchmarkId, classification, method } = request
    // Asked at once, the reads pipeline on the snapshot's connection.
    const [days, positions, held, segments] = await Promise.all([
      seriesOf(ctx, period),
      ctx.reads.positionSeriesFloats(portfolioId, period),
      ctx.reads.instrumentsHeld(portfolioId),
      ctx.reads.benchmarkSegments(benchmarkId, classification, period),
    ])
    const dates = days.map((d) => d.date)
    const benchmark = Map.groupBy(segments, (s) => s.date) as Map<string, BenchmarkDay[]>
    const missing = dates.filter((date) => !benchmark.has(date))
    if (missing.length > 0) {
      throw new QueryError(422, {
        error: `benchmark ${benchmarkId} has no ${classification} segments on ${missing.length} business day(s) of ${period.from}..${period.to}, first ${missing[0]}`,
        field: 'benchmarkId',
      })
    }
    for (const [date, parts] of benchmark) {
      const total = parts.reduce((s, p) => s + p.weight, 0)
      if (Math.abs(total - 1) > WEIGHT_TOLERANCE) {
        throw new QueryError(422, {
          error: `benchmark ${benchmarkId}'s ${classification} weights on ${date} sum to ${total}, not 1`,
          field: 'benchmarkId',
        })
      }
    }
    const instruments = new Map(held.map((i) => [i.securityId, i]))
    const segmented: SegmentedDay[] = positions.map((p) => {
      const instrument = instruments.get(p.positionId)
      const currency = isCashPosition(p.positionId)
        ? p.positionId.slice('CASH:'.length)
        : (instrument?.currency ?? 'Unclassified')
      return {
        date: p.date,
        segment: segmentOf(classification, { positionId: p.positionId, currency }, instrument),
        bmv: p.bmv,
        emv: p.emv,
        sod: p.sod,
        eod: p.eod,
        income: p.income, // a cash position's is 0 (PgReads.positionSeriesFloats)
      }
    })
    const a = attributeDays(
      dates,
      Map.groupBy(segmented, (d) => d.date),
      benchmark,
      method,
    )
    const portfolioTwr = twr(dailyReturns(days, 'recorded', 'net'), period.from, period.to).cumulative
    return {
      portfolioId,
      benchmarkId,
      classification,
      method,
      linking: a.linking,
      period,
      preset: request.preset ?? null,
      days: dates.length,
      portfolioReturn: a.portfolioReturn,
      benchmarkReturn: a.benchmarkReturn,
      active: a.active,
      total: a.total,
      segments: a.segments
        .map(({ key, ...e }) => ({ segment: key, ...e, total: e.allocation + e.selection + e.interaction }))
        .sort((x, y) => Math.abs(y.total) - Math.abs(x.total) || x.segment.localeCompare(y.segment)),
      twr: portfolioTwr,
      residual: portfolioTwr - a.portfolioReturn,
      conventions: {
        weights:
          'portfolio: a segment’s capital at the start of each day (BMV + start-of-day flows) over the portfolio’s; benchmark: as ingested (POST /v1/ingest/benchmark-segments), summing to 1 each day',
        returns:
          'daily, base currency; a portfolio segment’s gain (EMV − BMV − flows + income) over its capital; a segment on one side only weighs 0 on the other',
        effects:
          method === 'BF'
            ? 'Brinson–Fachler: allocation (w − W)(b − B), selection W(r − b), interaction (w − W)(r − b)'
            : 'Brinson–Hood–Beebower: allocation (w − W)b, selection W(r − b), interaction (w − W)(r − b)',
        linking:
          'Carino: each day’s effects × kₜ / K, kₜ = ln((1 + Rₜ) / (1 + Bₜ)) / (Rₜ − Bₜ); the linked effects add up to the linked active return',
        residual:
          'the portfolio TWR (flows as recorded, net) less the positions’ return: fees and expenses paid from cash',
      },
    }
  })
}
