import { fromEpochDay, toEpochDay } from '../domain/dates.ts'
import { FX_PIVOT, type PriceSeries, PriceTable } from '../domain/market-data.ts'
import type { FxChanged, FxRate, Instrument, Portfolio, PricesChanged, Span, ValuationJob } from '../domain/records.ts'
import { jobOf, spansOf } from '../domain/spans.ts'
import type { HeldRow } from '../domain/valuation.ts'
import type { ValuationResult, ValuationStore, ValuationWork } from '../ports/valuation-store.ts'
import { businessDate } from './pg-business-date.ts'
import type { Sql } from './pg-client.ts'
import { type Cell, copyRows, type PgWriter } from './pg-copy.ts'
import { inputsAsOf, lineageOf, lockPortfolios, writeLineage } from './pg-lineage.ts'
import { ReplacedDays } from './pg-replaced-days.ts'

const COPY_TIMEOUT_MS = 60_000
/** The columns of position_history a valuation reads (HeldRow), raw, and the order they sort by. */
const HELD_COLUMNS = 'h.portfolio_id, h.position_id, h.date, h.seq, h.currency, h.quantity, h.cost_local, h.cost_base'
/** The columns of `valuations` in COPY order (the benchmark harness copies the same shape). */

/**
 * ValuationStore on PostgreSQL (sql/0004_valuations.sql). Without a business date yet, valuations
 * run to today (UTC); set one (POST /v1/ingest/business-dates) for deterministic runs.
 */
export class PgValuationStore implements ValuationStore {
  constructor(
    private readonly sql: Sql,
    private readonly writer: PgWriter,
  ) {}

  load(jobs: readonly ValuationJob[]): Promise<ValuationWork[]> {
    return loadValuationWork(this.sql, jobs)
  }

  /**
   * Replaces each portfolio's day sums and unvalued position-days from its date on (or over its
   * job's spans), with its lineage, in one transaction. The position-days themselves are not stored: the query API values
   * them on read with the same function (src/query/position-days.ts).
   */
  async replace(results: readonly ValuationResult[]): Promise<void> {
    if (results.length === 0) return
    // A span replaces its days, up to the day before `until`; an open one everything from its date.
    const replaced = new ReplacedDays()
    for (const r of results) {
      for (const { from, until } of spansOf(r.job)) {
        if (until === undefined) replaced.addOpen(r.job.portfolioId, from)
        else replaced.add(r.job.portfolioId, from, fromEpochDay(toEpochDay(until) - 1))
      }
    }
    const totals: Cell[][] = []
    const unvalued: Cell[][] = []
    for (const r of results) {
      for (const t of r.totals)
        totals.push([r.job.portfolioId, t.date, t.emvBase, String(t.positions), String(t.complete)])
      for (const d of r.unvalued) unvalued.push([d.row.portfolioId, d.row.positionId, fromEpochDay(d.day), d.status])
    }
    await this.writer.transaction(async (tx) => {
      await lockPortfolios(
        tx,
        'valuation',
        results.map((r) => ({ portfolioId: r.job.portfolioId, inputsAsOf: r.inputsAsOf })),
      )
      await Promise.all([replaced.delete(tx, 'portfolio_values'), replaced.delete(tx, 'unvalued_days')])
      await copyRows(
        tx,
        'portfolio_values',
        ['portfolio_id', 'date', 'emv_base', 'positions', 'complete'],
        totals,
        COPY_TIMEOUT_MS,
      )
      await copyRows(tx, 'unvalued_days', ['portfolio_id', 'position_id', 'date', 'status'], unvalued, COPY_TIMEOUT_MS)
      await writeLineage(tx, 'valuation', lineageOf(results))
    })
  }

  /**
   * Portfolios that ever held a security with changed prices, or a position in a currency whose
   * rate against their base changed. Over-inclusive for positions closed before the date (they
   * are revalued to the same rows); never misses a holder.
   */
  async holders(prices: readonly PricesChanged[], fx: readonly FxChanged[]): Promise<ValuationJob[]> {
    const jobs: ValuationJob[] = []
    if (prices.length > 0) jobs.push(...(await this.#priceHolders(prices)))
    if (fx.length > 0) jobs.push(...(await this.#fxHolders(fx)))
    return jobs
  }

  /**
   * A rate of a pair written for day D serves until the pair's next rate (FxTable looks up the
   * latest on or before a day): each holder whose valuation converts through the pair revalues
   * those days only. Without the written days (an older notice), from D on.
   */
  async #fxHolders(fx: readonly FxChanged[]): Promise<ValuationJob[]> {
    const days = fx.flatMap((f) =>
      (f.dates ?? [f.fromDate]).map((date) => ({ ...f, date, open: f.dates === undefined })),
    )
    const rows = await this.sql<{ portfolioId: string; from: string; until: string | null }[]>`
      with w as (
        select w.from_currency, w.to_currency, w.from_date,
               case when w.open = 0 then (select min(f.date) from fx_rates f where f.from_currency = w.from_currency
                 and f.to_currency = w.to_currency and f.date > w.from_date) end as until
        from unnest(${days.map((d) => d.from)}::text[], ${days.map((d) => d.to)}::text[],
                    ${days.map((d) => d.date)}::date[], ${days.map((d) => (d.open ? 1 : 0))}::int[])
          as w(from_currency, to_currency, from_date, open)
      ),
      -- the other currency of each pair (pair_other(a) = b for the pair (a, b))
      legs as (
        select w.*, w.from_currency as cur, w.to_currency as other from w
        union all
        select w.*, w.to_currency, w.from_currency from w
      ),
      -- securities with a price quoted in one of the pairs' currencies (a third currency for
      -- them, the pair converting it into their own): few, found without a per-row probe
      quoted as (
        select distinct pr.security_id, pr.currency from prices pr
        where pr.currency in (select cur from legs)
      )
      -- the base is one side of the pair, a position the other
      select distinct h.portfolio_id as "portfolioId", l.from_date::text as "from", l.until::text as "until"
      from legs l join portfolios p on p.base_currency = l.cur
      join position_history h on h.portfolio_id = p.portfolio_id and h.currency = l.other
      union
      -- a security priced in a third currency: the pair converts its price into its own currency
      select distinct h.portfolio_id, l.from_date::text, l.until::text
      from legs l join quoted q on q.currency = l.cur
      join position_history h on h.position_id = q.security_id and h.currency = l.other and h.currency <> q.currency
      union
      -- a leg of a cross through the pivot (FxTable), for a base other than the pivot: the leg's
      -- other currency is the base (any position), or a position's
      select distinct h.portfolio_id, l.from_date::text, l.until::text
      from legs l join portfolios p on p.base_currency <> ${FX_PIVOT} and l.cur = ${FX_PIVOT}
        and p.base_currency = l.other
      join position_history h on h.portfolio_id = p.portfolio_id
      union
      select distinct h.portfolio_id, l.from_date::text, l.until::text
      from legs l join position_history h on l.cur = ${FX_PIVOT} and h.currency = l.other
      join portfolios p on p.portfolio_id = h.portfolio_id and p.base_currency <> ${FX_PIVOT}`
    return [...Map.groupBy(rows, (r) => r.portfolioId)].map(([portfolioId, own]) =>
      jobOf(
        portfolioId,
        own.map((r) => (r.until === null ? { from: r.from } : { from: r.from, until: r.until })),
      ),
    )
  }

  /**
   * A price written for day D is in force until the security's next price: each holder revalues
   * those days only. Without the written days (an older notice), from D on. Securities nobody
   * holds cost one index probe each, and no lookup of their next prices.
   */
  async #priceHolders(prices: readonly PricesChanged[]): Promise<ValuationJob[]> {
    const days = prices.flatMap((p) => (p.dates ?? [p.fromDate]).map((date) => ({ security: p.securityId, date })))
    const open = new Set(prices.filter((p) => p.dates === undefined).map((p) => p.securityId))
    const [bounded, holders] = await Promise.all([
      this.sql<{ security: string; date: string; until: string | null }[]>`
        select c.security, c.date::text as date,
               (select min(p.date) from prices p where p.security_id = c.security and p.date > c.date)::text as until
        from unnest(${days.map((d) => d.security)}::text[], ${days.map((d) => d.date)}::date[]) as c(security, date)
        where exists (select 1 from position_history h where h.position_id = c.security)`.execute(),
      this.sql<{ portfolioId: string; security: string }[]>`
        select h.portfolio_id as "portfolioId", s.id as security
        from unnest(${[...new Set(prices.map((p) => p.securityId))]}::text[]) as s(id)
        join lateral (select distinct portfolio_id from position_history where position_id = s.id) as h on true`.execute(),
    ])
    const spans = new Map<string, Span[]>()
    for (const { security, date, until } of bounded) {
      const own = spans.get(security) ?? []
      own.push(until === null || open.has(security) ? { from: date } : { from: date, until })
      spans.set(security, own)
    }
    // A holder the first query did not see yet (its positions arrived in between) is valued by its
    // own positions notice.
    return [...Map.groupBy(holders, (h) => h.portfolioId)].flatMap(([portfolioId, held]) => {
      const own = held.flatMap((h) => spans.get(h.security) ?? [])
      return own.length > 0 ? [jobOf(portfolioId, own)] : []
    })
  }

  async close(): Promise<void> {
    await this.writer.close()
  }
}

/**
 * What valuing each job's portfolio from its date needs: per position its last history row
 * before the date and its rows up to `until` (default: the business date), the prices and FX
 * rates from the date on plus the latest before it (the instruments only say which rates convert
 * a price quoted in another currency). Shared by the valuation stage
 * and the query API, which values position-days on read (src/query/position-days.ts).
 */
export async function loadValuationWork(
  sql: Sql,
  jobs: readonly ValuationJob[],
  until?: string,
): Promise<ValuationWork[]> {
  if (jobs.length === 0) return []
  const [asOf, through] = await Promise.all([inputsAsOf(sql), until ?? businessDate(sql)])
  const ids = jobs.map((j) => j.portfolioId)
  const froms = jobs.map((j) => j.fromDate)
  const scope = sql`unnest(${ids}::text[], ${froms}::date[]) as w(portfolio_id, from_date)`
  const since = [...froms].sort()[0] as string // ISO dates sort as strings
  // The last day any job values: the business date for a job from a date on, else the day before
  // its last span ends. A late price in force for a day needs a day of inputs, not all since.
  const last = jobs.map((j) => lastDayValued(j, through)).sort()
  const upTo = last[last.length - 1] as string
  // The securities the portfolios held by that day, found where the history is, so that the
  // history, instruments and prices load at once (on connections of their own).
  const securities = sql`(select distinct position_id from position_history
    where portfolio_id = any(${ids}::text[]) and date <= ${upTo}::date and position_id not like 'CASH:%')`
  const [portfolioRows, rows, instruments, prices] = await Promise.all([
    sql<{ record: Portfolio }[]>`select record from portfolios where portfolio_id = any(${ids}::text[])`,
    // Only what valuation reads of a row (HeldRow: no lots, no realized figures), formatted once
    // the latest row before each job's date is picked, not for every row it is picked from.
    sql<HeldRow[]>`
      select portfolio_id as "portfolioId", position_id as "positionId", date::text as date, currency,
             quantity::text as quantity, cost_local::text as "costLocal", cost_base::text as "costBase"
      -- Per portfolio (lateral; 'offset 0' keeps the planner from merging it back into a join), so
      -- each is an index range scan whatever the planner guesses: joined to the whole list at once,
      -- it read the whole table twice (20 ms for 50 portfolios of medium's 68,500 rows; 4 ms now).
      from ((select h.* from ${scope} cross join lateral (
               select distinct on (h.position_id) ${sql.unsafe(HELD_COLUMNS)} from position_history h
               where h.portfolio_id = w.portfolio_id and h.date < w.from_date
               order by h.position_id, h.date desc, h.seq desc) as h)
            union all
            (select h.* from ${scope} cross join lateral (
               select ${sql.unsafe(HELD_COLUMNS)} from position_history h
               where h.portfolio_id = w.portfolio_id and h.date >= w.from_date and h.date <= ${upTo}::date
               offset 0) as h)) as h
      order by portfolio_id, position_id, date, seq`,
    sql<{ record: Instrument }[]>`select record from instruments where security_id in ${securities}`,
    // Per security its prices in one row (the latest before `since`, one index probe, then those
    // from `since` on): days as epoch days, the texts and currencies comma-joined. A row per price
    // cost more to decode than valuing a position-day costs.
    sql<{ securityId: string; days: string; texts: string; currencies: string }[]>`
      select s.id as "securityId",
             string_agg((p.date - date '1970-01-01')::text, ',' order by p.date) as days,
             string_agg(p.price::text, ',' order by p.date) as texts,
             string_agg(p.currency, ',' order by p.date) as currencies
      from ${securities} as s(id)
      cross join lateral (
        (select date, price, currency from prices where security_id = s.id and date < ${since}::date
         order by date desc limit 1)
        union all
        (select date, price, currency from prices
         where security_id = s.id and date >= ${since}::date and date <= ${upTo}::date)) as p
      group by s.id`,
  ])
  const priceSeries: PriceSeries[] = prices.map((p) => ({
    securityId: p.securityId,
    days: p.days.split(',').map(Number),
    texts: p.texts.split(','),
    currencies: p.currencies.split(','),
  }))
  const portfolios = new Map(portfolioRows.map((p) => [p.record.portfolioId, p.record]))
  const bases = [...new Set([...portfolios.values()].map((p) => p.baseCurrency))]
  // Besides the pairs touching each base or the pivot, the pairs that convert a price quoted in a
  // currency other than its instrument's (a third currency): direct, inverse or crossed (FxTable).
  const currencyOf = new Map(instruments.map((i) => [i.record.securityId, i.record.currency]))
  const conversions = [
    ...new Set(
      priceSeries.flatMap((p) => {
        const own = currencyOf.get(p.securityId)
        return own === undefined ? [] : p.currencies.filter((c) => c !== own).map((c) => `${c}/${own}`)
      }),
    ),
  ].map((pair) => pair.split('/') as [string, string])
  const [cFrom, cTo] = [conversions.map((c) => c[0]), conversions.map((c) => c[1])]
  const touching = [...bases, FX_PIVOT]
  const wanted = sql`(from_currency = any(${touching}::text[]) or to_currency = any(${touching}::text[])
      or exists (select 1 from unnest(${cFrom}::text[], ${cTo}::text[]) as c(a, b)
                 where (from_currency, to_currency) in ((c.a, c.b), (c.b, c.a))))`
  const fx = await sql<FxRate[]>`
      (select from_currency as "from", to_currency as "to", date::text as date, rate::text as rate
       from (select distinct on (from_currency, to_currency) * from fx_rates where ${wanted} and date < ${since}::date
             order by from_currency, to_currency, date desc) as f)
      union all
      (select from_currency, to_currency, date::text, rate::text
       from fx_rates where ${wanted} and date >= ${since}::date and date <= ${upTo}::date)`

  const priceTable = PriceTable.ofSeries(priceSeries)
  const byPortfolio = Map.groupBy(rows, (r) => r.portfolioId)
  const converts = (r: FxRate) =>
    conversions.some(([a, b]) => (r.from === a && r.to === b) || (r.from === b && r.to === a))
  const fxOf = new Map(
    bases.map((b) => [b, fx.filter((r) => [r.from, r.to].some((c) => c === b || c === FX_PIVOT) || converts(r))]),
  )
  return jobs.flatMap((job) => {
    const portfolio = portfolios.get(job.portfolioId)
    if (!portfolio) return []
    const byPosition = Map.groupBy(byPortfolio.get(job.portfolioId) ?? [], (r) => r.positionId)
    return [
      {
        job,
        portfolio,
        businessDate: through,
        histories: [...byPosition.values()],
        prices: priceTable,
        fx: fxOf.get(portfolio.baseCurrency) ?? [],
        inputsAsOf: asOf,
      },
    ]
  })
}

/** The last day a job values: the business date, or the day before its last span ends if earlier. */
function lastDayValued(job: ValuationJob, businessDate: string): string {
  const spans = spansOf(job)
  if (spans.some((s) => s.until === undefined)) return businessDate
  const end = spans.reduce((max, s) => ((s.until as string) > max ? (s.until as string) : max), '')
  const dayBefore = fromEpochDay(toEpochDay(end) - 1)
  return dayBefore < businessDate ? dayBefore : businessDate
}
