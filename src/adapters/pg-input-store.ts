import { FX_PIVOT } from '../domain/market-data.ts'
import type { FxChanged, PricesChanged, TransactionsChanged, ValuationJob } from '../domain/records.ts'
import type { DeadLetter, InputStore, Inputs, Notices } from '../ports/input-store.ts'
import type { Sql, Tx } from './pg-client.ts'
import { refusalsAsInvalid } from './pg-errors.ts'
import { WHOLE } from './pg-valuation-store.ts'

/** A portfolio to recompute from a date: every position, or (`positions`) only those named. */
type Dated = { key: string; date: string; positions?: string[] | null }

/**
 * Text PostgreSQL can store: a dead letter holds what was refused, which may carry a NUL or an
 * unpaired surrogate (the very reason it was refused). Those characters become U+FFFD.
 */
const storable = (s: string): string => s.toWellFormed().replaceAll('\u0000', '\ufffd')

/**
 * One notice per portfolio: the earliest date, and the positions named together (none, so every
 * position, if any row names none).
 */
function earliest(rows: readonly Dated[]): TransactionsChanged[] {
  const byKey = new Map<string, { date: string; positions: Set<string> | null }>()
  for (const { key, date, positions } of rows) {
    const seen = byKey.get(key)
    const named = positions === undefined || positions === null ? null : positions
    if (seen === undefined) byKey.set(key, { date, positions: named && new Set(named) })
    else {
      if (date < seen.date) seen.date = date
      if (seen.positions !== null && named !== null) for (const p of named) seen.positions.add(p)
      else seen.positions = null
    }
  }
  return [...byKey].map(([portfolioId, { date, positions }]) =>
    positions === null ? { portfolioId, fromDate: date } : { portfolioId, fromDate: date, positions: [...positions] },
  )
}

/**
 * InputStore on PostgreSQL (sql/0002_inputs.sql). Each kind arrives as one JSON array parameter
 * and is merged with one statement: no per-record round trips, no bind-parameter limit, and a
 * record the server refuses fails the statement as an ordinary error (a refused COPY would hang:
 * postgres.js #1173). The merge reads the previous version in the same statement, so a correction
 * knows the trade date it replaces.
 */
export class PgInputStore implements InputStore {
  constructor(private readonly sql: Sql) {}

  /** Throws AppError INVALID_RECORD when PostgreSQL refuses a value: nothing of the batch is kept then. */
  async merge(inputs: Inputs): Promise<Notices> {
    return refusalsAsInvalid('the batch', () => this.#merge(inputs))
  }

  async #merge(inputs: Inputs): Promise<Notices> {
    return this.sql.begin(async (tx) => {
      const fromPortfolios = await this.#portfolios(tx, inputs)
      const fromInstruments = await this.#instruments(tx, inputs)
      const fromTransactions = await this.#transactions(tx, inputs)
      const prices = await this.#prices(tx, inputs)
      const { fx, trades: fromFx } = await this.#fx(tx, inputs)
      const valuationJobs = [...(await this.#businessDate(tx, inputs)), ...(await this.#holidays(tx, inputs))]
      await this.#benchmarks(tx, inputs)
      await this.#benchmarkSegments(tx, inputs)
      const recompute = [...fromPortfolios, ...fromInstruments, ...fromTransactions, ...fromFx]
      return {
        valuationJobs,
        transactions: earliest(recompute),
        prices,
        fx,
      }
    })
  }

  async deadLetter(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return
    const rows = letters.map((l) => ({
      ...l,
      offset: l.offset.toString(),
      key: storable(l.key),
      payload: storable(l.payload),
      reason: storable(l.reason),
    }))
    await this.sql`
      insert into dead_letters (stage, topic, partition, "offset", key, payload, code, reason)
      select stage, topic, partition, "offset", key, payload, code, reason
      from jsonb_to_recordset(${JSON.stringify(rows)}::text::jsonb)
        as x(stage text, topic text, partition int, "offset" bigint, key text, payload text, code text, reason text)
      on conflict (stage, topic, partition, "offset") do nothing`
  }

  /**
   * A portfolio (new or changed, e.g. its cost method) recomputes from its open date, and is
   * revalued as a whole from it (sql/0021): a change such as its base currency changes every
   * value without changing a quantity, so no position would be marked by the positions stage.
   */
  async #portfolios(tx: Tx, { portfolios }: Inputs): Promise<Dated[]> {
    if (portfolios.length === 0) return []
    return tx<Dated[]>`
      with incoming as (
        select distinct on (x.r->>'portfolioId') x.r->>'portfolioId' as id, x.r - 'writtenBy' as r, x.r->>'writtenBy' as w
        from jsonb_array_elements(${JSON.stringify(portfolios)}::text::jsonb) with ordinality as x(r, n)
        order by x.r->>'portfolioId', n desc
      ), merged as (
        insert into portfolios as p (portfolio_id, base_currency, open_date, cost_method, record, written_by)
        select id, r->>'baseCurrency', (r->>'openDate')::date, coalesce(r->>'costMethod', 'FIFO'), r, w from incoming
        on conflict (portfolio_id) do update set base_currency = excluded.base_currency, open_date = excluded.open_date,
          cost_method = excluded.cost_method, record = excluded.record, written_by = excluded.written_by, updated_at = now()
        where p.record is distinct from excluded.record
        returning portfolio_id, open_date
      ), whole as (
        insert into valuation_pending as v (portfolio_id, position_id, from_date, created, version)
        select portfolio_id, ${WHOLE}, open_date, n, n
        from (select m.*, nextval('valuation_pending_version') as n from merged m) as m
        on conflict (portfolio_id, position_id) do update
          set from_date = least(v.from_date, excluded.from_date), version = excluded.version
      ), positions as (
        delete from valuation_pending where portfolio_id in (select portfolio_id from merged) and position_id <> ${WHOLE}
      ), superseded as (
        delete from superseded_history where portfolio_id in (select portfolio_id from merged)
      )
      select id as key, (r->>'openDate') as date from incoming`
  }

  /** An instrument may unblock transactions rejected as UNKNOWN_INSTRUMENT: recompute their portfolios. */
  async #instruments(tx: Tx, { instruments }: Inputs): Promise<Dated[]> {
    if (instruments.length === 0) return []
    return tx<Dated[]>`
      with incoming as (
        select distinct on (x.r->>'securityId') x.r->>'securityId' as id, x.r - 'writtenBy' as r, x.r->>'writtenBy' as w
        from jsonb_array_elements(${JSON.stringify(instruments)}::text::jsonb) with ordinality as x(r, n)
        order by x.r->>'securityId', n desc
      ), merged as (
        insert into instruments as i (security_id, currency, record, written_by)
        select id, r->>'currency', r, w from incoming
        on conflict (security_id) do update set currency = excluded.currency, record = excluded.record,
          written_by = excluded.written_by, updated_at = now()
        where i.record is distinct from excluded.record
      )
      select t.portfolio_id as key, min(t.trade_date)::text as date
      from transactions t join incoming on t.security_id = incoming.id
      group by t.portfolio_id`
  }

  /**
   * Notices per portfolio from the earliest of: each record's trade date, the trade date it
   * replaces (a correction, also for the portfolio it left), the trade date of the transaction a
   * CANCEL cancels, and the trade date of a stored CANCEL naming the record (a CANCEL that arrived
   * before its target: its rejection goes, and it now takes effect).
   */
  async #transactions(tx: Tx, { transactions }: Inputs): Promise<Dated[]> {
    if (transactions.length === 0) return []
    // The positions a version is about (domain/positions.ts: its own position, and the cash of
    // its currency and of its settlement currency); a CANCEL names none, so every position.
    const positionsOf = (r: string) =>
      tx.unsafe(`case when ${r}->>'type' = 'CANCEL' then null
        else array_remove(array[coalesce(${r}->>'securityId', 'CASH:' || (${r}->>'currency')),
          'CASH:' || (${r}->>'currency'), 'CASH:' || (${r}->>'settlementCurrency')], null) end`)
    const POSITIONS_OF_R = positionsOf('r')
    const POSITIONS_OF_STORED = positionsOf('t.record')
    // VERSION = 1 + the corrections: records of the id whose content differs from the one before
    // them, in log order, however the records were batched. A record at or before the last one
    // applied from its partition (a batch delivered again) is not counted twice.
    return tx<Dated[]>`
      with received as (
        select x.r->>'transactionId' as id, x.r - 'writtenBy' - 'sourcePartition' - 'sourceOffset' - 'ingestId' as r,
               x.r->>'writtenBy' as w, (x.r->>'sourcePartition')::int as sp, (x.r->>'sourceOffset')::bigint as so,
               x.r->>'ingestId' as ig, x.n
        from jsonb_array_elements(${JSON.stringify(transactions)}::text::jsonb) with ordinality as x(r, n)
      ), fresh as (
        select received.*, t.record as stored, t.version as stored_version from received
        left join transactions t on t.transaction_id = received.id
        where t.source_offset is null or received.sp is null or received.sp <> t.source_partition
           or received.so > t.source_offset
      ), counted as (
        select *, coalesce(lag(r) over (partition by id order by n), stored) as before from fresh
      ), incoming as (
        select distinct on (id) id, r, w, sp, so, ig,
               coalesce(stored_version, 0)
                 + count(*) filter (where before is null or r is distinct from before) over (partition by id) as version
        from counted order by id, n desc
      ), previous as (
        select t.portfolio_id, t.trade_date, ${POSITIONS_OF_STORED} as positions
        from transactions t join incoming on t.transaction_id = incoming.id
      ), cancelled as (
        select t.portfolio_id, t.trade_date from transactions t join received on t.transaction_id = received.r->>'cancels'
      ), cancelling as (
        select c.portfolio_id, c.trade_date from transactions c join received on c.record->>'cancels' = received.id
        where c.type = 'CANCEL'
      ), merged as (
        insert into transactions as t
          (transaction_id, portfolio_id, security_id, type, trade_date, record, version, written_by, source_partition,
           source_offset, ingest_id)
        select id, r->>'portfolioId', r->>'securityId', r->>'type', (r->>'tradeDate')::date, r, version, w, sp, so, ig
        from incoming
        on conflict (transaction_id) do update set portfolio_id = excluded.portfolio_id, security_id = excluded.security_id,
          type = excluded.type, trade_date = excluded.trade_date, record = excluded.record, version = excluded.version,
          written_by = case when t.record is distinct from excluded.record then excluded.written_by else t.written_by end,
          ingest_id = case when t.record is distinct from excluded.record then excluded.ingest_id else t.ingest_id end,
          source_partition = excluded.source_partition, source_offset = excluded.source_offset,
          updated_at = case when t.record is distinct from excluded.record then now() else t.updated_at end
      )
      select r->>'portfolioId' as key, r->>'tradeDate' as date, ${POSITIONS_OF_R} as positions from received
      union all select portfolio_id, trade_date::text, positions from previous
      union all select portfolio_id, trade_date::text, null from cancelled
      union all select portfolio_id, trade_date::text, null from cancelling`
  }

  /**
   * The last business date of the batch wins. Moving it from `old` to `new` asks every portfolio to
   * be valued from min(old + 1, new): forward it adds the new days, backward it drops the later
   * ones. The first business date asks from each portfolio's open date. Only portfolios that hold
   * something are asked: one without positions has nothing to value, and its first positions
   * notice values it anyway.
   */
  async #businessDate(tx: Tx, { businessDates }: Inputs): Promise<ValuationJob[]> {
    const last = businessDates.at(-1)
    if (last === undefined) return []
    return tx<ValuationJob[]>`
      with previous as (select date from business_date),
      saved as (
        insert into business_date (date) values (${last.date}::date)
        on conflict (singleton) do update set date = excluded.date, updated_at = now()
      )
      select p.portfolio_id as "portfolioId",
             coalesce(least((select date from previous) + 1, ${last.date}::date), p.open_date)::text as "fromDate"
      from portfolios p
      where exists (select 1 from position_history h where h.portfolio_id = p.portfolio_id)`
  }

  /**
   * Holidays (sql/0022_holidays.sql) added, renamed or, `cancelled`, removed. Every portfolio on the
   * calendar that holds something is valued again from the earliest day of the batch: its days
   * from there follow the calendar as it is now (a plain job: the valuation replaces those days
   * whole, and the series follows).
   */
  async #holidays(tx: Tx, { holidays }: Inputs): Promise<ValuationJob[]> {
    if (holidays.length === 0) return []
    return tx<ValuationJob[]>`
      with incoming as (
        select distinct on (x.r->>'calendarId', x.r->>'date') x.r->>'calendarId' as id, (x.r->>'date')::date as date,
               x.r->>'name' as name, coalesce((x.r->>'cancelled')::boolean, false) as cancelled,
               coalesce(x.r->>'writtenBy', 'open') as w
        from jsonb_array_elements(${JSON.stringify(holidays)}::text::jsonb) with ordinality as x(r, n)
        order by x.r->>'calendarId', x.r->>'date', n desc
      ), removed as (
        delete from holidays h using incoming i where i.cancelled and h.calendar_id = i.id and h.date = i.date
      ), merged as (
        insert into holidays as h (calendar_id, date, name, written_by)
        select id, date, name, w from incoming where not cancelled
        on conflict (calendar_id, date) do update set name = excluded.name, written_by = excluded.written_by,
          updated_at = now()
      )
      select p.portfolio_id as "portfolioId", greatest(min(i.date), p.open_date)::text as "fromDate"
      from incoming i join portfolios p on p.record->>'calendar' = i.id
      where exists (select 1 from position_history h where h.portfolio_id = p.portfolio_id)
      group by p.portfolio_id, p.open_date`
  }

  async #prices(tx: Tx, { prices }: Inputs): Promise<PricesChanged[]> {
    if (prices.length === 0) return []
    const rows = await tx<Dated[]>`
      with incoming as (
        select distinct on (r->>'securityId', r->>'date') r
        from jsonb_array_elements(${JSON.stringify(prices)}::text::jsonb) with ordinality as x(r, n)
        order by r->>'securityId', r->>'date', n desc
      ), merged as (
        insert into prices as p (security_id, date, price, currency, written_by)
        select r->>'securityId', (r->>'date')::date, (r->>'price')::numeric, r->>'currency', r->>'writtenBy' from incoming
        on conflict (security_id, date) do update set price = excluded.price, currency = excluded.currency,
          written_by = excluded.written_by, updated_at = now()
        where (p.price, p.currency) is distinct from (excluded.price, excluded.currency)
      )
      select r->>'securityId' as key, r->>'date' as date from incoming order by 1, 2`
    // Per security its days, ascending (the query sorts them): the fan-out bounds each by the next price.
    return [...Map.groupBy(rows, (r) => r.key)].map(([securityId, days]) => ({
      securityId,
      fromDate: (days[0] as Dated).date,
      dates: days.map((d) => d.date),
    }))
  }

  /**
   * A new or corrected rate changes valuations and also positions: base-currency cost and P&L use
   * the trade date's rate, and a trade rejected for MISSING_FX may now apply. So besides the FX
   * notice it asks every portfolio with trades between its base and the other currency of the pair,
   * or that the pair serves as a leg of a cross, or settled between the pair's currencies (or
   * through such a leg), from the rate's date on, to be recomputed from that date.
   */
  async #fx(tx: Tx, { fx }: Inputs): Promise<{ fx: FxChanged[]; trades: Dated[] }> {
    if (fx.length === 0) return { fx: [], trades: [] }
    // A leg of a cross through the pivot (FxTable) also serves a base other than the pivot: trades
    // in the leg's other currency, or, when that is the base itself, trades in any other currency.
    const trades = await tx<Dated[]>`
      with w as (
        select w.*, case when w."from" = ${FX_PIVOT} then w."to" when w."to" = ${FX_PIVOT} then w."from" end as leg,
          -- a trade on or after the pair's next stored rate converts at that one, not this
          coalesce((select min(f.date) from fx_rates f where f.from_currency = w."from" and f.to_currency = w."to"
                    and f.date > w.date), 'infinity'::date) as until
        from jsonb_to_recordset(${JSON.stringify(fx)}::text::jsonb) as w("from" text, "to" text, date date)
      )
      select t.portfolio_id as key, min(w.date)::text as date
      from w join portfolios p on p.base_currency in (w."from", w."to")
      join transactions t on t.portfolio_id = p.portfolio_id and t.trade_date >= w.date and t.trade_date < w.until
        and t.record->>'currency' = case when p.base_currency = w."from" then w."to" else w."from" end
      group by t.portfolio_id
      union all
      select t.portfolio_id, min(w.date)::text
      from w join portfolios p on p.base_currency <> ${FX_PIVOT} and w.leg is not null
      join transactions t on t.portfolio_id = p.portfolio_id and t.trade_date >= w.date and t.trade_date < w.until
        and t.record->>'currency' <> p.base_currency
        and (p.base_currency = w.leg or t.record->>'currency' = w.leg)
      group by t.portfolio_id
      union all
      -- trades settled in another currency: the pair itself, or a leg of their cross
      select t.portfolio_id, min(w.date)::text
      from w join transactions t on t.record ? 'settlementCurrency' and t.trade_date >= w.date and t.trade_date < w.until
        and ((t.record->>'currency' in (w."from", w."to") and t.record->>'settlementCurrency' in (w."from", w."to"))
             or t.record->>'currency' = w.leg or t.record->>'settlementCurrency' = w.leg)
      group by t.portfolio_id`
    const rows = await tx<Dated[]>`
      with incoming as (
        select distinct on (r->>'from', r->>'to', r->>'date') r
        from jsonb_array_elements(${JSON.stringify(fx)}::text::jsonb) with ordinality as x(r, n)
        order by r->>'from', r->>'to', r->>'date', n desc
      ), merged as (
        insert into fx_rates as f (from_currency, to_currency, date, rate, written_by)
        select r->>'from', r->>'to', (r->>'date')::date, (r->>'rate')::numeric, r->>'writtenBy' from incoming
        on conflict (from_currency, to_currency, date) do update set rate = excluded.rate,
          written_by = excluded.written_by, updated_at = now()
        where f.rate is distinct from excluded.rate
      )
      select (r->>'from') || '/' || (r->>'to') as key, r->>'date' as date from incoming order by 1, 2`
    // Per pair its days, ascending (the query sorts them): the fan-out bounds each by the pair's next rate.
    const changed = [...Map.groupBy(rows, (r) => r.key)].map(([pair, days]): FxChanged => {
      const [from = '', to = ''] = pair.split('/')
      return { from, to, fromDate: (days[0] as Dated).date, dates: days.map((d) => d.date) }
    })
    return { fx: changed, trades }
  }

  /** Benchmarks feed analytics on request only: nothing downstream to notify. */
  async #benchmarks(tx: Tx, { benchmarks }: Inputs): Promise<void> {
    if (benchmarks.length === 0) return
    await tx`
      insert into benchmarks as b (benchmark_id, date, level, return, written_by)
      select distinct on (r->>'benchmarkId', r->>'date')
        r->>'benchmarkId', (r->>'date')::date, (r->>'level')::numeric, (r->>'return')::numeric, r->>'writtenBy'
      from jsonb_array_elements(${JSON.stringify(benchmarks)}::text::jsonb) with ordinality as x(r, n)
      order by r->>'benchmarkId', r->>'date', n desc
      on conflict (benchmark_id, date) do update set level = excluded.level, return = excluded.return,
        written_by = excluded.written_by, updated_at = now()
      where (b.level, b.return) is distinct from (excluded.level, excluded.return)`
  }

  /** Benchmark segments likewise (attribution reads them on request); the last of a key in the batch wins. */
  async #benchmarkSegments(tx: Tx, { benchmarkSegments }: Inputs): Promise<void> {
    if (benchmarkSegments.length === 0) return
    await tx`
      insert into benchmark_segments as s (benchmark_id, classification, date, segment, weight, return, written_by)
      select distinct on (r->>'benchmarkId', r->>'classification', r->>'date', r->>'segment')
        r->>'benchmarkId', r->>'classification', (r->>'date')::date, r->>'segment', (r->>'weight')::numeric,
        (r->>'return')::numeric, r->>'writtenBy'
      from jsonb_array_elements(${JSON.stringify(benchmarkSegments)}::text::jsonb) with ordinality as x(r, n)
      order by r->>'benchmarkId', r->>'classification', r->>'date', r->>'segment', n desc
      on conflict (benchmark_id, classification, date, segment) do update set weight = excluded.weight,
        return = excluded.return, written_by = excluded.written_by, updated_at = now()
      where (s.weight, s.return) is distinct from (excluded.weight, excluded.return)`
  }
}
