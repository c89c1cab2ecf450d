import type { Static } from '@sinclair/typebox'
import type { Sql } from '../adapters/pg-client.ts'
import { CASHFLOW_COLUMNS } from '../adapters/pg-position-store.ts'
import { toEpochDay } from '../domain/dates.ts'
import type { Cashflow } from '../domain/records.ts'
import { positionSeries, type SeriesInput } from '../domain/timeseries.ts'
import { isCashPosition } from '../domain/transactions.ts'
import type {
  BenchmarkView,
  CashflowView,
  FxRateView,
  InstrumentView,
  PortfolioSeriesView,
  PortfolioView,
  PositionHistoryView,
  PositionSeriesView,
  PositionView,
  PriceView,
  TransactionView,
  ValuationView,
} from './views.ts'

export type Paging = { limit: number; offset: number }
export type Paged<T> = { items: T[]; total: number } & Paging
export type Range = { from?: string | undefined; to?: string | undefined }
export const TransactionSorts = ['tradeDate', '-tradeDate', 'transactionId', '-transactionId'] as const
export type TransactionSort = (typeof TransactionSorts)[number]

const orderBy: Record<TransactionSort, string> = {
  tradeDate: 't.trade_date asc, t.transaction_id asc',
  '-tradeDate': 't.trade_date desc, t.transaction_id desc',
  transactionId: 't.transaction_id asc',
  '-transactionId': 't.transaction_id desc',
}

/** Open-ended bounds: a missing `from` or `to` reads from the first or to the last day. */
const lo = (r: Range) => r.from ?? '0001-01-01'
const hi = (r: Range) => r.to ?? '9999-12-31'

/**
 * The read side of the query API: plain SQL over the tables the stages write. Numbers leave
 * PostgreSQL as text (exact), dates as YYYY-MM-DD. Constructed on a pool for single reads, or on a
 * transaction handle for reads that must share one snapshot (the portfolio review).
 */
export class PgReads {
  constructor(private readonly sql: Sql) {}

  async businessDate(): Promise<string | null> {
    const [row] = await this.sql<{ date: string }[]>`select date::text as date from business_date`
    return row?.date ?? null
  }

  async portfolio(portfolioId: string): Promise<PortfolioView | undefined> {
    const [row] = await this.sql<{ v: PortfolioView }[]>`
      select record || jsonb_build_object('costMethod', cost_method, 'updatedAt', updated_at) as v
      from portfolios where portfolio_id = ${portfolioId}`
    return row?.v
  }

  async portfolios(
    filter: {
      clientId?: string | undefined
      bookingCentre?: string | undefined
      /** Only these clients' portfolios (a key limited to them); null: every portfolio. */
      clientIds?: readonly string[] | null
    },
    page: Paging,
  ): Promise<Paged<PortfolioView>> {
    const allowed = filter.clientIds ?? null
    const where = this
      .sql`where (${filter.clientId ?? null}::text is null or record->>'clientId' = ${filter.clientId ?? null})
      and (${filter.bookingCentre ?? null}::text is null or record->>'bookingCentre' = ${filter.bookingCentre ?? null})
      and (${allowed === null}::boolean or record->>'clientId' = any(${(allowed ?? []) as string[]}::text[]))`
    const rows = await this.sql<{ v: PortfolioView; total: bigint }[]>`
      select record || jsonb_build_object('costMethod', cost_method, 'updatedAt', updated_at) as v,
             count(*) over () as total
      from portfolios ${where} order by portfolio_id limit ${page.limit} offset ${page.offset}`
    return paged(rows, page)
  }

  async instrument(securityId: string): Promise<InstrumentView | undefined> {
    const [row] = await this.sql<{ v: InstrumentView }[]>`
      select record || jsonb_build_object('updatedAt', updated_at) as v from instruments where security_id = ${securityId}`
    return row?.v
  }

  async instrumentsById(securityIds: readonly string[]): Promise<InstrumentView[]> {
    if (securityIds.length === 0) return []
    const rows = await this.sql<{ v: InstrumentView }[]>`
      select record || jsonb_build_object('updatedAt', updated_at) as v
      from instruments where security_id = any(${securityIds as string[]}::text[])`
    return rows.map((r) => r.v)
  }

  async instruments(
    filter: { assetClass?: string | undefined; issuerId?: string | undefined; currency?: string | undefined },
    page: Paging,
  ): Promise<Paged<InstrumentView>> {
    const rows = await this.sql<{ v: InstrumentView; total: bigint }[]>`
      select record || jsonb_build_object('updatedAt', updated_at) as v, count(*) over () as total
      from instruments
      where (${filter.assetClass ?? null}::text is null or record->>'assetClass' = ${filter.assetClass ?? null})
        and (${filter.issuerId ?? null}::text is null or ${filter.issuerId ?? null} in (record->>'issuerId', record->>'ultimateParentIssuerId'))
        and (${filter.currency ?? null}::text is null or currency = ${filter.currency ?? null})
      order by security_id limit ${page.limit} offset ${page.offset}`
    return paged(rows, page)
  }

  async transactions(
    portfolioId: string,
    filter: Range & { securityId?: string | undefined; type?: string | undefined; sort?: TransactionSort },
    page: Paging,
  ): Promise<Paged<TransactionView>> {
    const rows = await this.sql<{ v: TransactionView; total: bigint }[]>`
      select t.record || jsonb_build_object('version', t.version, 'rejection',
               case when r.code is null then null else jsonb_build_object('code', r.code, 'reason', r.reason) end) as v,
             count(*) over () as total
      from transactions t
      left join transaction_rejections r on r.portfolio_id = t.portfolio_id and r.transaction_id = t.transaction_id
      where t.portfolio_id = ${portfolioId} and t.trade_date between ${lo(filter)}::date and ${hi(filter)}::date
        and (${filter.securityId ?? null}::text is null or t.security_id = ${filter.securityId ?? null})
        and (${filter.type ?? null}::text is null or t.type = ${filter.type ?? null})
      order by ${this.sql.unsafe(orderBy[filter.sort ?? 'tradeDate'])}
      limit ${page.limit} offset ${page.offset}`
    return paged(rows, page)
  }

  /**
   * Every position as of `asOf`: the last history row on or before it, with the latest valuation on
   * or before it. Closed positions (quantity 0) only when asked.
   */
  async positions(portfolioId: string, asOf: string, includeClosed: boolean): Promise<Omit<PositionView, 'weight'>[]> {
    return this.sql<Omit<PositionView, 'weight'>[]>`
      with latest as (
        select distinct on (position_id) *
        from position_history
        where portfolio_id = ${portfolioId} and date <= ${asOf}::date
        order by position_id, date desc, seq desc
      )
      select h.position_id as "positionId", h.currency, h.date::text as "asOf", h.quantity::text as quantity,
             h.cost_local::text as "costLocal", h.cost_base::text as "costBase", h.realized_base::text as "realizedBase",
             h.realized_price_base::text as "realizedPriceBase", h.realized_fx_base::text as "realizedFxBase",
             h.income_base::text as "incomeBase", v.date::text as "valuationDate", v.status,
             v.market_value_local::text as "marketValueLocal", v.market_value_base::text as "marketValueBase",
             trim_scale(v.market_value_base - v.cost_base)::text as "unrealizedBase"
      from latest h
      left join lateral (
        select * from valuations v
        where v.portfolio_id = h.portfolio_id and v.position_id = h.position_id and v.date <= ${asOf}::date
          and v.date >= h.date
        order by v.date desc limit 1
      ) v on true
      where ${includeClosed} or h.quantity <> 0
      order by h.position_id`
  }

  async positionHistory(portfolioId: string, positionId: string, range: Range) {
    return this.sql<Static<typeof PositionHistoryView>[]>`
      select portfolio_id as "portfolioId", position_id as "positionId", date::text as date, seq,
             transaction_id as "transactionId", currency, quantity::text as quantity, cost_local::text as "costLocal",
             cost_base::text as "costBase", realized_local::text as "realizedLocal", realized_base::text as "realizedBase",
             realized_price_base::text as "realizedPriceBase", realized_fx_base::text as "realizedFxBase",
             income_base::text as "incomeBase", lots
      from position_history
      where portfolio_id = ${portfolioId} and position_id = ${positionId}
        and date between ${lo(range)}::date and ${hi(range)}::date
      order by date, seq`
  }

  async cashflows(portfolioId: string, filter: Range & { class?: string | undefined }) {
    return this.sql<Static<typeof CashflowView>[]>`
      select transaction_id as "transactionId", position_id as "positionId", date::text as date, type, class, timing,
             scope, currency, amount_local::text as "amountLocal", amount_base::text as "amountBase",
             fee_local::text as "feeLocal", fee_base::text as "feeBase"
      from cashflows
      where portfolio_id = ${portfolioId} and date between ${lo(filter)}::date and ${hi(filter)}::date
        and (${filter.class ?? null}::text is null or class = ${filter.class ?? null})
      order by date, transaction_id`
  }

  async prices(securityId: string, range: Range) {
    return this.sql<Static<typeof PriceView>[]>`
      select security_id as "securityId", date::text as date, price::text as price, currency
      from prices where security_id = ${securityId} and date between ${lo(range)}::date and ${hi(range)}::date
      order by date`
  }

  async fxRates(from: string, to: string, range: Range) {
    return this.sql<Static<typeof FxRateView>[]>`
      select from_currency as "from", to_currency as "to", date::text as date, rate::text as rate
      from fx_rates where from_currency = ${from} and to_currency = ${to}
        and date between ${lo(range)}::date and ${hi(range)}::date
      order by date`
  }

  async benchmark(benchmarkId: string, range: Range) {
    return this.sql<Static<typeof BenchmarkView>[]>`
      select benchmark_id as "benchmarkId", date::text as date, level::text as level, return::text as return
      from benchmarks where benchmark_id = ${benchmarkId} and date between ${lo(range)}::date and ${hi(range)}::date
      order by date`
  }

  async valuations(
    portfolioId: string,
    filter: Range & { positionId?: string | undefined },
    page: Paging,
  ): Promise<Paged<Static<typeof ValuationView>>> {
    const rows = await this.sql<{ v: Static<typeof ValuationView>; total: bigint }[]>`
      select json_build_object('positionId', position_id, 'date', date::text, 'status', status,
               'quantity', quantity::text, 'price', price::text, 'priceDate', price_date::text, 'fxRate', fx_rate::text,
               'marketValueLocal', market_value_local::text, 'marketValueBase', market_value_base::text,
               'costLocal', cost_local::text, 'costBase', cost_base::text,
               'unrealizedLocal', trim_scale(market_value_local - cost_local)::text,
               'unrealizedBase', trim_scale(market_value_base - cost_base)::text) as v,
             count(*) over () as total
      from valuations
      where portfolio_id = ${portfolioId} and date between ${lo(filter)}::date and ${hi(filter)}::date
        and (${filter.positionId ?? null}::text is null or position_id = ${filter.positionId ?? null})
      order by date, position_id limit ${page.limit} offset ${page.offset}`
    return paged(rows, page)
  }

  async portfolioSeries(portfolioId: string, range: Range) {
    return this.sql<Static<typeof PortfolioSeriesView>[]>`
      select date::text as date, bmv_base::text as "bmvBase", emv_base::text as "emvBase",
             sod_flow_base::text as "sodFlowBase", eod_flow_base::text as "eodFlowBase", fees_base::text as "feesBase",
             income_base::text as "incomeBase", complete
      from portfolio_series
      where portfolio_id = ${portfolioId} and date between ${lo(range)}::date and ${hi(range)}::date
      order by date`
  }

  /**
   * A position's daily series, derived on read (nothing stores it): the position's valuations and
   * cashflows run through the same positionSeries as the engine's. Each position's series is
   * computed from its last valued day before `from`, so the first point's bmv is what it was.
   */
  async positionSeries(
    portfolioId: string,
    filter: Range & { positionId?: string | undefined },
  ): Promise<Static<typeof PositionSeriesView>[]> {
    const position = filter.positionId ?? null
    const from = lo(filter)
    // Where each position's series resumes: its last valued day before `from`. Two weeks back
    // finds it for every position held then; a position held but unvalued all that time is looked
    // up further back; one not held then resumes from nothing (its last point was worth 0).
    const recent = await this.sql<{ position_id: string; valued: string | null }[]>`
      select position_id, max(date) filter (where status = 'VALUED')::text as valued from valuations
      where portfolio_id = ${portfolioId} and date >= ${from}::date - 14 and date < ${from}::date
        and (${position}::text is null or position_id = ${position})
      group by position_id`
    const starts = new Map(recent.flatMap((r) => (r.valued ? [[r.position_id, r.valued]] : [])))
    const unvalued = recent.filter((r) => r.valued === null).map((r) => r.position_id)
    if (unvalued.length > 0) {
      const older = await this.sql<{ position_id: string; valued: string }[]>`
        select p.position_id, (select max(v.date)::text from valuations v where v.portfolio_id = ${portfolioId}
                                 and v.position_id = p.position_id and v.date < ${from}::date and v.status = 'VALUED') as valued
        from unnest(${unvalued}::text[]) as p(position_id)`
      for (const o of older) if (o.valued) starts.set(o.position_id, o.valued)
    }
    let since = from
    for (const start of starts.values()) if (start < since) since = start
    // Only what positionSeries reads and shows (the portfolio is this one).
    const rows = await this.sql<(SeriesInput & { positionId: string })[]>`
      select position_id as "positionId", date::text as date, status, quantity::text as quantity,
             market_value_base::text as "marketValueBase", cost_base::text as "costBase"
      from valuations
      where portfolio_id = ${portfolioId} and date >= ${since}::date and date <= ${hi(filter)}::date
        and (${position}::text is null or position_id = ${position})
      order by date, position_id` // the primary key's order: no sort; grouping keeps each position's days in order
    const valuations = rows.filter((v) => v.date >= (starts.get(v.positionId) ?? from))
    const inRange = new Set(valuations.filter((v) => v.date >= from).map((v) => v.positionId))
    if (inRange.size === 0) return []
    // Rows come in date order: the first and last are the range read.
    const earliest = (valuations[0] as SeriesInput).date
    const last = (valuations.at(-1) as SeriesInput).date
    const cashflows = await this.sql<Cashflow[]>`
      select ${this.sql.unsafe(CASHFLOW_COLUMNS)}
      from cashflows c where c.portfolio_id = ${portfolioId} and c.date >= ${earliest}::date - 2 and c.date <= ${last}::date`
    const points = [...Map.groupBy(valuations, (v) => v.positionId)]
      .filter(([positionId]) => inRange.has(positionId))
      .flatMap(([positionId, mine]) => {
        const flows = isCashPosition(positionId)
          ? cashflows.filter((c) => c.currency === positionId.slice('CASH:'.length))
          : cashflows.filter((c) => c.positionId === positionId)
        const start = toEpochDay((mine[0] as SeriesInput).date)
        return positionSeries(portfolioId, positionId, mine, flows, start, toEpochDay(last)).filter(
          (p) => p.date >= from,
        )
      })
    return points
      .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.positionId < b.positionId ? -1 : 1))
      .map(({ portfolioId: _, ...p }) => p)
  }

  /** The first day of the portfolio's series: its inception for performance. */
  async inception(portfolioId: string): Promise<string | null> {
    const [row] = await this.sql<{ date: string | null }[]>`
      select min(date)::text as date from portfolio_series where portfolio_id = ${portfolioId}`
    return row?.date ?? null
  }

  /** Position-days in [from, to] stored without a market value, grouped by day and reason. */
  async unvalued(portfolioId: string, range: Range) {
    return this.sql<{ date: string; reason: string; positionIds: string[] }[]>`
      select date::text as date, status as reason, array_agg(position_id order by position_id) as "positionIds"
      from valuations
      where portfolio_id = ${portfolioId} and status <> 'VALUED' and date between ${lo(range)}::date and ${hi(range)}::date
      group by date, status order by date limit 1000`
  }

  /** Per stage, the portfolio's lineage row and the arrival time of the newest input it depends on. */
  async stageLineage(portfolioId: string) {
    return this.sql<
      {
        stage: 'positions' | 'valuation' | 'timeseries'
        completedAt: string | null
        inputsAsOf: string | null
        throughDate: string | null
        newestInputAt: string | null
        /** inputs_as_of at or after the newest input: null when the stage never ran */
        reflects: boolean | null
      }[]
    >`
      with inputs as (
        select greatest(
                 (select max(updated_at) from transactions where portfolio_id = ${portfolioId}),
                 (select updated_at from portfolios where portfolio_id = ${portfolioId})) as positions,
               greatest(
                 (select max(p.updated_at) from prices p
                   where p.security_id in (select distinct position_id from position_history where portfolio_id = ${portfolioId})),
                 (select updated_at from business_date)) as market
      ), stages(stage, newest) as (
        select 'positions', positions from inputs
        union all select 'valuation', greatest(market, (select completed_at from lineage
          where portfolio_id = ${portfolioId} and position_id = '' and stage = 'positions')) from inputs
        union all select 'timeseries', (select completed_at from lineage
          where portfolio_id = ${portfolioId} and position_id = '' and stage = 'valuation')
      )
      select s.stage, to_json(l.completed_at)#>>'{}' as "completedAt", to_json(l.inputs_as_of)#>>'{}' as "inputsAsOf",
             l.through_date::text as "throughDate", to_json(s.newest)#>>'{}' as "newestInputAt",
             case when l.inputs_as_of is null then null else s.newest is null or l.inputs_as_of >= s.newest end as reflects
      from stages s
      left join lineage l on l.portfolio_id = ${portfolioId} and l.position_id = '' and l.stage = s.stage
      order by array_position(array['positions', 'valuation', 'timeseries'], s.stage)`
  }

  async rejections(portfolioId: string) {
    return this.sql<{ transactionId: string; date: string; code: string; reason: string }[]>`
      select transaction_id as "transactionId", date::text as date, code, reason
      from transaction_rejections where portfolio_id = ${portfolioId} order by date, transaction_id`
  }

  async unvaluedCount(portfolioId: string): Promise<number> {
    const [row] = await this.sql<{ n: bigint }[]>`
      select count(*) as n from valuations where portfolio_id = ${portfolioId} and status <> 'VALUED'`
    return Number(row?.n ?? 0)
  }

  /** Dead letters keyed by the portfolio (transactions and portfolios are keyed by portfolio id). */
  async deadLetters(key: string) {
    return this.sql<
      {
        id: string
        stage: string
        topic: string
        code: string
        reason: string
        createdAt: string
        replayedAt: string | null
      }[]
    >`
      select id::text as id, stage, topic, code, reason, to_json(created_at)#>>'{}' as "createdAt", to_json(replayed_at)#>>'{}' as "replayedAt"
      from dead_letters where key = ${key} order by id desc limit 100`
  }

  /** For one (portfolio, security): the newest transaction and price received, and each stage's lineage. */
  async positionLineage(portfolioId: string, positionId: string) {
    const [transaction] = await this.sql<
      { transactionId: string; tradeDate: string; receivedAt: string; writtenBy: string | null; version: number }[]
    >`
      select transaction_id as "transactionId", trade_date::text as "tradeDate", to_json(updated_at)#>>'{}' as "receivedAt",
             written_by as "writtenBy", version
      from transactions where portfolio_id = ${portfolioId}
        and (security_id = ${positionId} or (${positionId} like 'CASH:%' and record->>'currency' = substr(${positionId}, 6)))
      order by updated_at desc, transaction_id desc limit 1`
    const [price] = await this.sql<{ date: string; receivedAt: string; writtenBy: string | null }[]>`
      select date::text as date, to_json(updated_at)#>>'{}' as "receivedAt", written_by as "writtenBy"
      from prices where security_id = ${positionId} order by updated_at desc, date desc limit 1`
    const stages = await this.sql<
      {
        stage: string
        completedAt: string
        fromDate: string
        throughDate: string | null
        inputsAsOf: string
        reflectsLatestTransaction: boolean | null
        reflectsLatestPrice: boolean | null
      }[]
    >`
      select stage, to_json(completed_at)#>>'{}' as "completedAt", from_date::text as "fromDate",
             through_date::text as "throughDate", to_json(inputs_as_of)#>>'{}' as "inputsAsOf",
             inputs_as_of >= ${transaction?.receivedAt ?? null}::timestamptz as "reflectsLatestTransaction",
             case when stage = 'positions' then null
                  else inputs_as_of >= ${price?.receivedAt ?? null}::timestamptz end as "reflectsLatestPrice"
      from lineage where portfolio_id = ${portfolioId} and position_id = ${positionId}
      order by array_position(array['positions', 'valuation', 'timeseries'], stage)`
    const [valuation] = await this.sql<{ date: string; status: string }[]>`
      select date::text as date, status from valuations
      where portfolio_id = ${portfolioId} and position_id = ${positionId} order by date desc limit 1`
    const [series] = await this.sql<{ date: string | null }[]>`
      select max(date)::text as date from valuations
      where portfolio_id = ${portfolioId} and position_id = ${positionId} and status = 'VALUED'`
    return { transaction, price, stages, valuation, latestSeriesDate: series?.date ?? null }
  }
}

function paged<T>(rows: readonly { v: T; total: bigint }[], page: Paging): Paged<T> {
  return { items: rows.map((r) => r.v), total: Number(rows[0]?.total ?? 0), ...page }
}
