import type { Static } from '@sinclair/typebox'
import { HOLIDAYS_OF_P } from '../adapters/pg-business-date.ts'
import type { Sql } from '../adapters/pg-client.ts'
import { monthOf } from '../adapters/pg-day-months.ts'
import { CASHFLOW_COLUMNS } from '../adapters/pg-position-store.ts'
import { type Calendar, calendarOf, fromEpochDay, toEpochDay } from '../domain/dates.ts'
import { dec, fromScaled, toScaled } from '../domain/money.ts'
import { type Cashflow, type Classification, ExternalClasses, type Valuation } from '../domain/records.ts'
import { type PositionSeriesFloats, positionSeries, positionSeriesFloats } from '../domain/timeseries.ts'
import { isCashPosition } from '../domain/transactions.ts'
import { type HeldRow, type PositionDay, valuationOf } from '../domain/valuation.ts'
import { heldOn, positionDays, positionValuations } from './position-days.ts'
import type {
  BenchmarkSummaryView,
  BenchmarkView,
  CashflowView,
  FxRateView,
  HolidayView,
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
/** How to page a dated series: `limit` and `offset` are integers the API checked (0 ≤ offset, 1 ≤ limit). */
export type SeriesPage = {
  sort?: 'date' | '-date' | undefined
  limit?: number | undefined
  offset?: number | undefined
}
export const TransactionSorts = [
  'tradeDate',
  '-tradeDate',
  'transactionId',
  '-transactionId',
  'quantity',
  '-quantity',
  'price',
  '-price',
  'grossAmount',
  '-grossAmount',
] as const
export type TransactionSort = (typeof TransactionSorts)[number]

/** A transaction's gross amount: as given, else quantity × price (a trade's). */
const GROSS = `coalesce((t.record->>'grossAmount')::numeric, (t.record->>'quantity')::numeric * (t.record->>'price')::numeric)`
/**
 * A transaction's economics as JSON (alias t: the transaction, h: its security position's change,
 * c: its cashflow); null when the engine produced nothing for it (rejected, cancelled, not yet
 * processed). Exact decimals as text, as stored.
 */
const ECONOMICS = `case when h.position_id is null and c.transaction_id is null then null else jsonb_build_object(
  'grossAmount', (${GROSS})::text,
  'fxRate', c.fx_rate::text,
  'position', case when h.position_id is null then null else jsonb_build_object(
    'positionId', h.position_id, 'quantityChange', h.quantity::text,
    'netCostLocal', h.cost_local::text, 'netCostBase', h.cost_base::text,
    'realizedLocal', h.realized_local::text, 'realizedBase', h.realized_base::text,
    'realizedPriceBase', h.realized_price_base::text, 'realizedFxBase', h.realized_fx_base::text,
    'incomeBase', h.income_base::text) end,
  'cashflow', case when c.transaction_id is null then null else jsonb_build_object(
    'transactionId', c.transaction_id, 'positionId', c.position_id, 'date', c.date::text, 'type', c.type,
    'class', c.class, 'timing', c.timing, 'scope', c.scope, 'currency', c.currency,
    'amountLocal', c.amount_local::text, 'amountBase', c.amount_base::text,
    'feeLocal', c.fee_local::text, 'feeBase', c.fee_base::text) end
) end`

/** By a number of the record: those without it last either way, ties by id. */
const byNumber = (expr: string, direction: 'asc' | 'desc') =>
  `${expr} ${direction} nulls last, t.transaction_id ${direction}`
const orderBy: Record<TransactionSort, string> = {
  tradeDate: 't.trade_date asc, t.transaction_id asc',
  '-tradeDate': 't.trade_date desc, t.transaction_id desc',
  transactionId: 't.transaction_id asc',
  '-transactionId': 't.transaction_id desc',
  quantity: byNumber(`(t.record->>'quantity')::numeric`, 'asc'),
  '-quantity': byNumber(`(t.record->>'quantity')::numeric`, 'desc'),
  price: byNumber(`(t.record->>'price')::numeric`, 'asc'),
  '-price': byNumber(`(t.record->>'price')::numeric`, 'desc'),
  grossAmount: byNumber(GROSS, 'asc'),
  '-grossAmount': byNumber(GROSS, 'desc'),
}

/** Open-ended bounds: a missing `from` or `to` reads from the first or to the last day. */
/** A price more than this many calendar days older than the day it values is stale (`staleAfterDays`). */
export const STALE_AFTER_DAYS = 5

/**
 * Over the days of `series` (a portfolio's points, by date) from `range.from` to `range.to`, summed
 * exactly in scaled integers (money.ts): the P&L (end value − start value − flows), income and fees.
 */
export function seriesTotals(
  series: readonly Static<typeof PortfolioSeriesView>[],
  range: Range,
): { pnl: string; income: string; fees: string } {
  let [pnl, income, fees] = [0n, 0n, 0n]
  for (const p of series) {
    if (p.date < lo(range) || p.date > hi(range)) continue
    pnl += toScaled(p.emvBase) - toScaled(p.bmvBase) - toScaled(p.sodFlowBase) - toScaled(p.eodFlowBase)
    income += toScaled(p.incomeBase)
    fees += toScaled(p.feesBase)
  }
  return { pnl: fromScaled(pnl), income: fromScaled(income), fees: fromScaled(fees) }
}

const lo = (r: Range) => r.from ?? '0001-01-01'
const hi = (r: Range) => r.to ?? '9999-12-31'

/**
 * A day sum's canonical text (money.ts `str`): sums added in SQL before sql/0024 may end in zeros
 * after the point ('3.0'); what the valuation stage writes since is canonical already.
 */
const canonical = (text: string): string =>
  text.includes('.') && text.endsWith('0') ? fromScaled(toScaled(text)) : text

/**
 * The read side of the query API: plain SQL over the tables the stages write. Numbers leave
 * PostgreSQL as text (exact), dates as YYYY-MM-DD. Constructed on a pool for single reads, or on a
 * transaction handle for reads that must share one snapshot (the portfolio review).
 */
/** A portfolio as the API shows it: its record with the defaults it was stored with. */
const PORTFOLIO_VIEW = `record || jsonb_build_object('costMethod', cost_method, 'updatedAt', updated_at,
  'calendar', coalesce(record->>'calendar', 'WEEKDAYS'))`

export class PgReads {
  /**
   * `snapshot`: the reads share one REPEATABLE READ transaction (QueryService), so what cannot
   * change within it (the business date) is read once.
   */
  constructor(
    private readonly sql: Sql,
    private readonly snapshot = false,
  ) {}
  #businessDate: Promise<string | null> | undefined

  businessDate(): Promise<string | null> {
    const read = async () => {
      const [row] = await this.sql<{ date: string }[]>`select date::text as date from business_date`
      return row?.date ?? null
    }
    if (!this.snapshot) return read()
    this.#businessDate ??= read()
    return this.#businessDate
  }

  #portfolios = new Map<string, Promise<PortfolioView | undefined>>()
  #holidays = new Map<string, Promise<string[]>>()

  /** `read()` of a portfolio, on a snapshot once per portfolio (kept in `cache`), else every time. */
  #once<T>(cache: Map<string, Promise<T>>, portfolioId: string, read: () => Promise<T>): Promise<T> {
    if (!this.snapshot) return read()
    let known = cache.get(portfolioId)
    if (known === undefined) {
      known = read()
      cache.set(portfolioId, known)
    }
    return known
  }

  /** The holidays of the portfolio's calendar, if it names a holiday calendar; on a snapshot, read once. */
  holidays(portfolioId: string): Promise<string[]> {
    const read = async () => {
      const [row] = await this.sql<{ days: string[] | null }[]>`
        select ${this.sql.unsafe(HOLIDAYS_OF_P)} as days from portfolios p where p.portfolio_id = ${portfolioId}`
      return row?.days ?? []
    }
    return this.#once(this.#holidays, portfolioId, read)
  }

  /** The portfolio's valuation calendar (dates.ts), with its holidays. */
  async calendar(portfolioId: string): Promise<Calendar> {
    const [portfolio, holidays] = await Promise.all([this.portfolio(portfolioId), this.holidays(portfolioId)])
    return calendarOf(portfolio, holidays)
  }

  /** A portfolio; on a snapshot, read once. */
  portfolio(portfolioId: string): Promise<PortfolioView | undefined> {
    const read = async () => {
      const [row] = await this.sql<{ v: PortfolioView }[]>`
        select ${this.sql.unsafe(PORTFOLIO_VIEW)} as v
        from portfolios where portfolio_id = ${portfolioId}`
      return row?.v
    }
    return this.#once(this.#portfolios, portfolioId, read)
  }

  async portfolios(
    filter: {
      clientId?: string | undefined
      bookingCentre?: string | undefined
      /** Only these portfolios. */
      portfolioIds?: readonly string[] | undefined
      /** Only these clients' portfolios (a key limited to them); null: every portfolio. */
      clientIds?: readonly string[] | null
    },
    page: Paging,
  ): Promise<Paged<PortfolioView>> {
    const allowed = filter.clientIds ?? null
    const where = this
      .sql`where (${filter.clientId ?? null}::text is null or record->>'clientId' = ${filter.clientId ?? null})
      and (${filter.bookingCentre ?? null}::text is null or record->>'bookingCentre' = ${filter.bookingCentre ?? null})
      and (${allowed === null}::boolean or record->>'clientId' = any(${(allowed ?? []) as string[]}::text[]))
      and (${filter.portfolioIds === undefined}::boolean or portfolio_id = any(${(filter.portfolioIds ?? []) as string[]}::text[]))`
    const rows = await this.sql<{ v: PortfolioView; total: bigint }[]>`
      select ${this.sql.unsafe(PORTFOLIO_VIEW)} as v,
             count(*) over () as total
      from portfolios ${where} order by portfolio_id limit ${page.limit} offset ${page.offset}`
    return paged(rows, page)
  }

  async instrument(securityId: string): Promise<InstrumentView | undefined> {
    const [row] = await this.sql<{ v: InstrumentView }[]>`
      select record || jsonb_build_object('updatedAt', updated_at) as v from instruments where security_id = ${securityId}`
    return row?.v
  }

  /** The instruments of every security the portfolio has held (asked alongside its positions, not after). */
  async instrumentsHeld(portfolioId: string): Promise<InstrumentView[]> {
    const rows = await this.sql<{ v: InstrumentView }[]>`
      select record || jsonb_build_object('updatedAt', updated_at) as v from instruments
      where security_id in (select distinct position_id from position_history where portfolio_id = ${portfolioId})`
    return rows.map((r) => r.v)
  }

  async instruments(
    filter: {
      assetClass?: string | undefined
      issuerId?: string | undefined
      currency?: string | undefined
      productType?: string | undefined
    },
    page: Paging,
  ): Promise<Paged<InstrumentView>> {
    const rows = await this.sql<{ v: InstrumentView; total: bigint }[]>`
      select record || jsonb_build_object('updatedAt', updated_at) as v, count(*) over () as total
      from instruments
      where (${filter.assetClass ?? null}::text is null or record->>'assetClass' = ${filter.assetClass ?? null})
        and (${filter.issuerId ?? null}::text is null or ${filter.issuerId ?? null} in (record->>'issuerId', record->>'ultimateParentIssuerId'))
        and (${filter.currency ?? null}::text is null or currency = ${filter.currency ?? null})
        and (${filter.productType ?? null}::text is null or record->>'productType' = ${filter.productType ?? null})
      order by security_id limit ${page.limit} offset ${page.offset}`
    return paged(rows, page)
  }

  async transactions(
    portfolioId: string,
    filter: Range & {
      securityId?: string | undefined
      type?: string | undefined
      sort?: TransactionSort
      transactionId?: string | undefined
    },
    page: Paging,
  ): Promise<Paged<TransactionView>> {
    const order = this.sql.unsafe(orderBy[filter.sort ?? 'tradeDate'])
    // The page first, then each of its transactions' economics: what it did to its security's
    // position (its history row less the row before it) and the cashflow it produced.
    const rows = await this.sql<{ v: TransactionView; total: bigint }[]>`
      with page as (
        select t.portfolio_id, t.transaction_id, t.trade_date, t.security_id, t.record, t.version, t.ingest_id,
               r.code, r.reason, count(*) over () as total
        from transactions t
        left join transaction_rejections r on r.portfolio_id = t.portfolio_id and r.transaction_id = t.transaction_id
        where t.portfolio_id = ${portfolioId} and t.trade_date between ${lo(filter)}::date and ${hi(filter)}::date
          and (${filter.securityId ?? null}::text is null or t.security_id = ${filter.securityId ?? null})
          and (${filter.type ?? null}::text is null or t.type = ${filter.type ?? null})
          and (${filter.transactionId ?? null}::text is null or t.transaction_id = ${filter.transactionId ?? null})
        order by ${order}
        limit ${page.limit} offset ${page.offset}
      )
      select t.record || jsonb_build_object('version', t.version, 'ingestId', t.ingest_id,
               'rejection', case when t.code is null then null else jsonb_build_object('code', t.code, 'reason', t.reason) end,
               'economics', ${this.sql.unsafe(ECONOMICS)}) as v,
             t.total
      from page t
      left join lateral (
        select h.position_id, h.quantity - coalesce(b.quantity, 0) as quantity,
               h.cost_local - coalesce(b.cost_local, 0) as cost_local, h.cost_base - coalesce(b.cost_base, 0) as cost_base,
               h.realized_local - coalesce(b.realized_local, 0) as realized_local,
               h.realized_base - coalesce(b.realized_base, 0) as realized_base,
               h.realized_price_base - coalesce(b.realized_price_base, 0) as realized_price_base,
               h.realized_fx_base - coalesce(b.realized_fx_base, 0) as realized_fx_base,
               h.income_base - coalesce(b.income_base, 0) as income_base
        from position_history h
        left join lateral (
          select * from position_history b
          where b.portfolio_id = h.portfolio_id and b.position_id = h.position_id and (b.date, b.seq) < (h.date, h.seq)
          order by b.date desc, b.seq desc limit 1
        ) b on true
        where h.portfolio_id = t.portfolio_id and h.position_id = t.security_id and h.date = t.trade_date
          and h.transaction_id = t.transaction_id
      ) h on true
      left join cashflows c on c.portfolio_id = t.portfolio_id and c.transaction_id = t.transaction_id
      order by ${order}`
    return paged(rows, page)
  }

  /**
   * Transactions in a range counted by their security's asset class: `Cash` for those with no
   * security (deposits, withdrawals, fees on cash), `Unclassified` for a security without one.
   */
  async transactionsByAssetClass(portfolioId: string, range: Range): Promise<{ assetClass: string; count: number }[]> {
    return this.sql<{ assetClass: string; count: number }[]>`
      select case when t.security_id is null then 'Cash' else coalesce(i.record->>'assetClass', 'Unclassified') end
               as "assetClass", count(*)::int as count
      from transactions t left join instruments i on i.security_id = t.security_id
      where t.portfolio_id = ${portfolioId} and t.trade_date between ${lo(range)}::date and ${hi(range)}::date
      group by 1 order by 2 desc, 1`.execute()
  }

  /**
   * Every position as of `asOf`: the last history row on or before it, with its latest position-day
   * on or before it (valued on read, src/query/position-days.ts). Closed positions (quantity 0)
   * only when asked.
   */
  async positions(portfolioId: string, asOf: string, includeClosed: boolean): Promise<Omit<PositionView, 'weight'>[]> {
    const rows = await this.sql<(Omit<PositionView, 'weight'> & { quantity: string })[]>`
      select position_id as "positionId", currency, date::text as "asOf",
             quantity::text as quantity, cost_local::text as "costLocal", cost_base::text as "costBase",
             realized_base::text as "realizedBase", realized_price_base::text as "realizedPriceBase",
             realized_fx_base::text as "realizedFxBase", income_base::text as "incomeBase"
      -- The latest row per position first, formatted after: numeric to text for every history row
      -- cost twice the read (10 years × 50 positions: 4.3 → 2.3 ms).
      from (select distinct on (position_id) * from position_history
            where portfolio_id = ${portfolioId} and date <= ${asOf}::date
            order by position_id, date desc, seq desc) as h`
    const shown = rows.filter((r) => includeClosed || dec(r.quantity).toString() !== '0')
    const latest = await this.latestPositionDays(
      portfolioId,
      asOf,
      shown.map((r) => ({ ...r, date: r.asOf })),
    )
    return shown
      .sort((a, b) => (a.positionId < b.positionId ? -1 : a.positionId > b.positionId ? 1 : 0))
      .map((r) => {
        const v = latest.get(r.positionId)
        return {
          ...r,
          valuationDate: v?.date ?? null,
          status: v?.status ?? null,
          marketValueLocal: v?.marketValueLocal ?? null,
          marketValueBase: v?.marketValueBase ?? null,
          unrealizedBase: v?.unrealizedBase ?? null,
        }
      })
  }

  /**
   * Each position's latest position-day on or before `asOf`, not before its history row `date`: for
   * a position held then, the portfolio's last valuation day to `asOf` (or the business date); for
   * a closed one, the day it closed, if it was held the day before.
   */
  async latestPositionDays(
    portfolioId: string,
    asOf: string,
    positions: readonly Omit<HeldRow, 'portfolioId'>[],
  ): Promise<Map<string, Valuation>> {
    const latest = new Map<string, Valuation>()
    const held = positions.filter((p) => dec(p.quantity).toString() !== '0')
    const closed = positions.filter((p) => dec(p.quantity).toString() === '0')
    const [bd, portfolio, calendar] = await Promise.all([
      this.businessDate(),
      this.portfolio(portfolioId),
      this.calendar(portfolioId),
    ])
    const end = bd === null || asOf < bd ? asOf : bd
    const lastDay = fromEpochDay(calendar.onOrBefore(toEpochDay(end)))
    // A row dated after the last day (a weekend trade after it) has no position-day yet.
    const rows = held.filter((p) => p.date <= lastDay).map((p) => ({ portfolioId, ...p }))
    for (const v of portfolio ? await heldOn(this.sql, portfolio, rows, lastDay, calendar) : []) {
      const record = valuationOf(v)
      latest.set(record.positionId, record)
    }
    // Closed positions, each its closing day; asked at once, they pipeline on the connection.
    const closings = await Promise.all(
      closed.map((p) => {
        const closing = fromEpochDay(calendar.onOrAfter(toEpochDay(p.date)))
        return closing > lastDay ? [] : positionValuations(this.sql, portfolioId, closing, closing, [p.positionId])
      }),
    )
    for (const v of closings.flat()) latest.set(v.positionId, v)
    // Not before the history row: a trade on a weekend after the last business day has no day yet.
    const since = new Map(positions.map((p) => [p.positionId, p.date]))
    for (const [id, v] of latest) if (v.date < (since.get(id) ?? v.date)) latest.delete(id)
    return latest
  }

  /**
   * The start of each position's current holding period on `asOf`: the last day on or before it
   * its quantity went from zero (or nothing) to non-zero.
   */
  async heldSince(portfolioId: string, asOf: string): Promise<Map<string, string>> {
    const rows = await this.sql<{ positionId: string; since: string }[]>`
      select position_id as "positionId", max(date)::text as since
      from (
        select position_id, date, quantity <> 0
                 and coalesce(lag(quantity) over (partition by position_id order by date, seq), 0) = 0 as opened
        from position_history where portfolio_id = ${portfolioId} and date <= ${asOf}::date
      ) h
      where opened
      group by position_id`
    return new Map(rows.map((r) => [r.positionId, r.since]))
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

  /** The external flows (deposits, withdrawals, transfers) of a range: date, base amount, timing. */
  async externalFlows(portfolioId: string, range: Range) {
    return this.sql<{ date: string; amount: number; timing: 'SOD' | 'EOD' }[]>`
      select date::text as date, amount_base::float8 as amount, timing
      from cashflows
      where portfolio_id = ${portfolioId} and date between ${lo(range)}::date and ${hi(range)}::date
        and class = any(${ExternalClasses as string[]}::text[])
      order by date, transaction_id`
  }

  async prices(securityId: string, range: Range, page: SeriesPage = {}) {
    return this.#series<Static<typeof PriceView>>(
      page,
      (order) => this.sql`
        select security_id as "securityId", date::text as date, price::text as price, currency,
               count(*) over () as total
        from prices where security_id = ${securityId} and date between ${lo(range)}::date and ${hi(range)}::date
        ${order}`,
    )
  }

  /** The holidays of a holiday calendar (sql/0022), as the prices are listed. */
  async holidayList(calendarId: string, range: Range, page: SeriesPage = {}) {
    return this.#series<Static<typeof HolidayView>>(
      page,
      (order) => this.sql`
        select calendar_id as "calendarId", date::text as date, name, count(*) over () as total
        from holidays where calendar_id = ${calendarId} and date between ${lo(range)}::date and ${hi(range)}::date
        ${order}`,
    )
  }

  async fxRates(from: string, to: string, range: Range, page: SeriesPage = {}) {
    return this.#series<Static<typeof FxRateView>>(
      page,
      (order) => this.sql`
        select from_currency as "from", to_currency as "to", date::text as date, rate::text as rate,
               count(*) over () as total
        from fx_rates where from_currency = ${from} and to_currency = ${to}
          and date between ${lo(range)}::date and ${hi(range)}::date
        ${order}`,
    )
  }

  /** Every benchmark with the range of its levels, by id (the dashboard's benchmark picker). */
  async benchmarks() {
    return this.sql<Static<typeof BenchmarkSummaryView>[]>`
      select benchmark_id as "benchmarkId", min(date)::text as "from", max(date)::text as "to", count(*)::int as days
      from benchmarks group by benchmark_id order by benchmark_id`.execute()
  }

  async benchmark(benchmarkId: string, range: Range, page: SeriesPage = {}) {
    return this.#series<Static<typeof BenchmarkView>>(
      page,
      (order) => this.sql`
        select benchmark_id as "benchmarkId", date::text as date, level::text as level, return::text as return,
               count(*) over () as total
        from benchmarks where benchmark_id = ${benchmarkId} and date between ${lo(range)}::date and ${hi(range)}::date
        ${order}`,
    )
  }

  /** A benchmark's segments by one classification over the range, by date then segment (attribution). */
  async benchmarkSegments(benchmarkId: string, classification: Classification, range: Range) {
    return this.sql<{ date: string; segment: string; weight: number; return: number }[]>`
      select date::text as date, segment, weight::float8 as weight, return::float8 as return
      from benchmark_segments
      where benchmark_id = ${benchmarkId} and classification = ${classification}
        and date between ${lo(range)}::date and ${hi(range)}::date
      order by date, segment`.execute()
  }

  /**
   * A dated series (prices, FX rates, a benchmark) in date order, or newest first, a page of it
   * when `limit` is given; `total` counts the whole range (the X-Total-Count header).
   */
  async #series<T>(
    page: SeriesPage,
    query: (order: ReturnType<Sql['unsafe']>) => PromiseLike<(T & { total: bigint })[]>,
  ): Promise<T[] & { total: number }> {
    const direction = page.sort === '-date' ? 'desc' : 'asc'
    const { limit, offset = 0 } = page
    if ((limit !== undefined && !Number.isSafeInteger(limit)) || !Number.isSafeInteger(offset)) {
      throw new Error(`paging takes integers: limit ${limit}, offset ${offset}`)
    }
    const rows = await query(this.sql.unsafe(`order by date ${direction} limit ${limit ?? 'all'} offset ${offset}`))
    const total = rows.length === 0 ? 0 : Number(rows[0]?.total)
    const items = rows.map(({ total: _, ...row }) => row as unknown as T)
    return Object.assign(items, { total })
  }

  async valuations(
    portfolioId: string,
    filter: Range & { positionId?: string | undefined; staleAfterDays?: number | undefined },
    page: Paging,
  ): Promise<Paged<Static<typeof ValuationView>>> {
    const window = filter.staleAfterDays ?? STALE_AFTER_DAYS
    const ids = filter.positionId ? [filter.positionId] : undefined
    const all = await positionDays(this.sql, portfolioId, lo(filter), hi(filter), ids)
    const items = all
      .slice(page.offset, page.offset + page.limit)
      .map(valuationOf)
      .map((v) => ({
        positionId: v.positionId,
        date: v.date,
        status: v.status,
        quantity: v.quantity,
        price: v.price ?? null,
        priceDate: v.priceDate ?? null,
        fxRate: v.fxRate ?? null,
        marketValueLocal: v.marketValueLocal ?? null,
        marketValueBase: v.marketValueBase ?? null,
        costLocal: v.costLocal,
        costBase: v.costBase,
        unrealizedLocal: v.unrealizedLocal ?? null,
        unrealizedBase: v.unrealizedBase ?? null,
        stale: v.priceDate !== undefined && toEpochDay(v.date) - toEpochDay(v.priceDate) > window,
      }))
    return { items, total: all.length, ...page }
  }

  /** externalFlows summed exactly: in (deposits) and out (withdrawals, negative). */
  async externalSums(portfolioId: string, range: Range): Promise<{ deposits: string; withdrawals: string }> {
    const [row] = await this.sql<{ deposits: string; withdrawals: string }[]>`
      select coalesce(sum(amount_base) filter (where amount_base > 0), 0)::text as deposits,
             coalesce(sum(amount_base) filter (where amount_base < 0), 0)::text as withdrawals
      from cashflows
      where portfolio_id = ${portfolioId} and date between ${lo(range)}::date and ${hi(range)}::date
        and class = any(${ExternalClasses as string[]}::text[])`
    return row ?? { deposits: '0', withdrawals: '0' }
  }

  /**
   * The portfolio's series over the range, by date: the stored days' flows, fees and income with
   * the day sums beside them (sql/0026_series_flows.sql). A day's emv is its sum (0 without one),
   * its bmv the emv of the series day before (0 on the series' first day), and it is complete
   * unless its sum says otherwise. Both are read from the month before the range's, for the day
   * before its first (the series has every day of its calendar once started).
   */
  async portfolioSeries(portfolioId: string, range: Range): Promise<Static<typeof PortfolioSeriesView>[]> {
    const from = lo(range)
    const start = from > '0001-02-01' ? monthOf(fromEpochDay(toEpochDay(monthOf(from)) - 1)) : from
    // Each series month with the day sums' month beside it, one row per month, as comma-joined text.
    const months = await this.sql<
      {
        dates: string
        sod: string
        eod: string
        fees: string
        income: string
        value_dates: string | null
        emv: string | null
        complete: string | null
      }[]
    >`
      select array_to_string(s.dates, ',') as dates, array_to_string(s.sod_flow_base, ',') as sod,
             array_to_string(s.eod_flow_base, ',') as eod, array_to_string(s.fees_base, ',') as fees,
             array_to_string(s.income_base, ',') as income, array_to_string(v.dates, ',') as value_dates,
             array_to_string(v.emv_base, ',') as emv, array_to_string(v.complete, ',') as complete
      from portfolio_series_months s
      left join portfolio_value_months v on v.portfolio_id = s.portfolio_id and v.month = s.month
      where s.portfolio_id = ${portfolioId}
        and s.month between date_trunc('month', ${start}::date)::date and ${hi(range)}::date
      order by s.month`
    const last = hi(range)
    const points: Static<typeof PortfolioSeriesView>[] = []
    let bmv = '0'
    for (const m of months) {
      const dates = m.dates.split(',')
      const [sod, eod, fees, income] = [m.sod, m.eod, m.fees, m.income].map((c) => c.split(',')) as string[][]
      const valueDates = m.value_dates?.split(',') ?? []
      const emvs = m.emv?.split(',') ?? []
      const completes = m.complete?.split(',') ?? []
      // Most months have a sum on each of their series days, in the same order: matched by index.
      const aligned = m.value_dates === m.dates
      const at = aligned ? undefined : new Map(valueDates.map((d, i) => [d, i]))
      dates.forEach((date, i) => {
        if (date > last) return
        const k = aligned ? i : at?.get(date)
        const emvBase = k === undefined ? '0' : canonical(emvs[k] as string)
        if (date >= from)
          points.push({
            date,
            bmvBase: bmv,
            emvBase,
            sodFlowBase: sod?.[i] as string,
            eodFlowBase: eod?.[i] as string,
            feesBase: fees?.[i] as string,
            incomeBase: income?.[i] as string,
            complete: k === undefined || completes[k] === 't',
          })
        bmv = emvBase
      })
    }
    return points
  }

  /**
   * A position's daily series, derived on read (nothing stores it): the position-days (valued on
   * read) and cashflows run through the engine's positionSeries. Each position's series is
   * computed from its last valued day before `from`, so the first point's bmv is what it was.
   * Points by date, then position.
   */
  async positionSeries(
    portfolioId: string,
    filter: Range & { positionId?: string | undefined },
  ): Promise<Static<typeof PositionSeriesView>[]> {
    const inputs = await this.#positionSeriesInputs(portfolioId, filter)
    const from = fromEpochDay(inputs.fromDay)
    // Positions come in id order; a stable sort by date puts the points by date, then position.
    return inputs.positions
      .flatMap(({ positionId, days, flows, start }) =>
        positionSeries(portfolioId, positionId, days, flows, start, inputs.last, inputs.calendar).filter(
          (p) => p.date >= from,
        ),
      )
      .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0))
      .map(({ portfolioId: _, ...p }) => p)
  }

  /**
   * positionSeries's points in float64 for the analytics (contribution, attribution, position
   * analytics), in no particular order. A cash position's income is a flow of that cash, not a
   * gain of its own: it is 0 here (the stored series keeps it).
   */
  async positionSeriesFloats(portfolioId: string, range: Range): Promise<PositionSeriesFloats[]> {
    const inputs = await this.#positionSeriesInputs(portfolioId, range)
    const from = fromEpochDay(inputs.fromDay)
    return inputs.positions.flatMap(({ positionId, days, flows, start }) => {
      const points = positionSeriesFloats(positionId, days, flows, start, inputs.last, inputs.calendar).filter(
        (p) => p.date >= from,
      )
      if (isCashPosition(positionId)) for (const p of points) p.income = 0
      return points
    })
  }

  /** Per position shown (in id order): its days from where its series resumes, and its cashflows. */
  async #positionSeriesInputs(portfolioId: string, filter: Range & { positionId?: string | undefined }) {
    const ids = filter.positionId ? [filter.positionId] : undefined
    const from = lo(filter) < '1970-01-05' ? '1970-01-05' : lo(filter)
    // Where each position's series resumes: its last valued day before `from`. Two weeks back
    // finds it for every position held then; one held but unvalued all that time is looked up
    // from its first day; one not held then resumes from nothing (its last point was worth 0).
    const fromDay = toEpochDay(from)
    const lookback = fromEpochDay(fromDay - 14)
    // Cashflows from a week before (a flow on a weekend or holiday counts on the next valuation
    // day), read meanwhile.
    const flowsBetween = (a: string, b: string) =>
      this.sql<Cashflow[]>`
        select ${this.sql.unsafe(CASHFLOW_COLUMNS)}
        from cashflows c where c.portfolio_id = ${portfolioId} and c.date >= ${a}::date - 7 and c.date <= ${b}::date`
    let [days, recentFlows, calendar] = await Promise.all([
      positionDays(this.sql, portfolioId, lookback, hi(filter), ids, false),
      flowsBetween(lookback, hi(filter)),
      this.calendar(portfolioId),
    ])
    const lastValued = (rows: readonly PositionDay[]) => {
      const starts = new Map<string, number>()
      for (const v of rows) if (v.day < fromDay && v.status === 'VALUED') starts.set(v.row.positionId, v.day)
      return starts
    }
    let starts = lastValued(days)
    const unvalued = [...new Set(days.filter((v) => v.day < fromDay).map((v) => v.row.positionId))].filter(
      (id) => !starts.has(id),
    )
    if (unvalued.length > 0) {
      const older = await positionDays(
        this.sql,
        portfolioId,
        '1970-01-05',
        fromEpochDay(toEpochDay(lookback) - 1),
        unvalued,
        false,
      )
      const olderStarts = lastValued(older)
      if (olderStarts.size > 0) {
        days = [...older.filter((v) => olderStarts.has(v.row.positionId)), ...days]
        starts = new Map([...olderStarts, ...starts])
      }
    }
    const valued = days.filter((v) => v.day >= (starts.get(v.row.positionId) ?? fromDay))
    const inRange = new Set(valued.filter((v) => v.day >= fromDay).map((v) => v.row.positionId))
    if (inRange.size === 0) return { fromDay, last: fromDay, positions: [], calendar }
    const byPosition = Map.groupBy(valued, (v) => v.row.positionId)
    let [earliest, last] = [fromDay, fromDay]
    for (const v of valued) {
      if (v.day < earliest) earliest = v.day
      if (v.day > last) last = v.day
    }
    const lookbackDay = toEpochDay(lookback)
    const cashflows: Cashflow[] =
      earliest < lookbackDay
        ? [...(await flowsBetween(fromEpochDay(earliest), fromEpochDay(lookbackDay - 3))), ...recentFlows]
        : recentFlows
    const flowsOf = Map.groupBy(cashflows, (c) => c.positionId)
    const cashOf = Map.groupBy(cashflows, (c) => c.currency)
    const positions = [...byPosition]
      .filter(([positionId]) => inRange.has(positionId))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([positionId, mine]) => ({
        positionId,
        // Each position's days are in date order (an earlier start's older days come first).
        days: mine,
        start: (mine[0] as PositionDay).day,
        flows: isCashPosition(positionId)
          ? (cashOf.get(positionId.slice('CASH:'.length)) ?? [])
          : (flowsOf.get(positionId) ?? []),
      }))
    return { fromDay, last, positions, calendar }
  }

  /** The first day of the portfolio's series: its inception for performance. */
  readonly #inceptions = new Map<string, Promise<string | null>>()

  /** The portfolio's first series day; on a snapshot read once (the review asks before its context does). */
  inception(portfolioId: string): Promise<string | null> {
    const read = async () => {
      const [row] = await this.sql<{ date: string | null }[]>`
        select dates[1]::text as date from portfolio_series_months where portfolio_id = ${portfolioId}
        order by month limit 1`
      return row?.date ?? null
    }
    return this.#once(this.#inceptions, portfolioId, read)
  }

  /** Position-days in [from, to] stored without a market value, grouped by day and reason. */
  async unvalued(portfolioId: string, range: Range) {
    return this.sql<{ date: string; reason: string; positionIds: string[] }[]>`
      select date::text as date, status as reason, array_agg(position_id order by position_id) as "positionIds"
      from unvalued_days
      where portfolio_id = ${portfolioId} and date between ${lo(range)}::date and ${hi(range)}::date
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
      select count(*) as n from unvalued_days where portfolio_id = ${portfolioId}`
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
      {
        transactionId: string
        tradeDate: string
        receivedAt: string
        writtenBy: string | null
        version: number
        ingestId: string | null
      }[]
    >`
      select transaction_id as "transactionId", trade_date::text as "tradeDate", to_json(updated_at)#>>'{}' as "receivedAt",
             written_by as "writtenBy", version, ingest_id as "ingestId"
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
      from lineage
      -- The positions stage writes a row per position; valuation and series one per portfolio run,
      -- which covers every position the portfolio has (pg-lineage.ts, lineageOf).
      where portfolio_id = ${portfolioId}
        and ((stage = 'positions' and position_id = ${positionId})
          or (stage <> 'positions' and position_id = '' and exists (select 1 from position_history h
                where h.portfolio_id = ${portfolioId} and h.position_id = ${positionId})))
      order by array_position(array['positions', 'valuation', 'timeseries'], stage)`
    // Its latest position-day to the business date (valued on read), as the positions view gives it.
    const [row] = await this.sql<Omit<HeldRow, 'portfolioId' | 'positionId'>[]>`
      select date::text as date, currency, quantity::text as quantity, cost_local::text as "costLocal",
             cost_base::text as "costBase" from position_history
      where portfolio_id = ${portfolioId} and position_id = ${positionId} order by date desc, seq desc limit 1`
    const bd = await this.businessDate()
    const latest =
      row && bd ? (await this.latestPositionDays(portfolioId, bd, [{ positionId, ...row }])).get(positionId) : undefined
    const valuation = latest && { date: latest.date, status: latest.status }
    // The series has a point on each valued day: the latest is that day when it was valued.
    const latestSeriesDate = latest?.status === 'VALUED' ? latest.date : null
    return { transaction, price, stages, valuation, latestSeriesDate }
  }
}

function paged<T>(rows: readonly { v: T; total: bigint }[], page: Paging): Paged<T> {
  return { items: rows.map((r) => r.v), total: Number(rows[0]?.total ?? 0), ...page }
}
