import { fromEpochDay, toEpochDay } from '../domain/dates.ts'
import { FX_PIVOT, type PriceSeries, PriceTable } from '../domain/market-data.ts'
import { fromScaled, toScaled } from '../domain/money.ts'
import type { FxChanged, FxRate, Instrument, Portfolio, PricesChanged, Span, ValuationJob } from '../domain/records.ts'
import { jobOf, spansOf } from '../domain/spans.ts'
import { isCashPosition } from '../domain/transactions.ts'
import type { HeldRow } from '../domain/valuation.ts'
import { AppError } from '../errors.ts'
import type { PendingMark, ValuationResult, ValuationStore, ValuationWork } from '../ports/valuation-store.ts'
import { businessDate, HOLIDAYS_OF_P } from './pg-business-date.ts'
import type { Sql, Tx } from './pg-client.ts'
import { type Cell, copyRows, type PgWriter } from './pg-copy.ts'
import { type DayRow, editDays, monthOf, replaceDays, VALUE_MONTHS } from './pg-day-months.ts'
import { FxRates, fxRatesFrom } from './pg-fx.ts'
import { inputsAsOf, lineageOf, lockPortfolios, writeLineage } from './pg-lineage.ts'
import { ReplacedDays } from './pg-replaced-days.ts'

const COPY_TIMEOUT_MS = 60_000
/**
 * How far before a job's date the history is read row by row (before that, each position's latest
 * row): valueDays counts a position on the first day valued when it was held on the valuation day
 * before, and with only the latest row before the date, a position closed on the weekend before a
 * Monday looked never held on the Friday (its Monday closing day went uncounted). A month covers
 * the longest run of days without valuation a calendar has.
 */
const HELD_BEFORE_DAYS = 31
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

  /** The rates, read again only when they changed. */
  private readonly fx = new FxRates()

  load(jobs: readonly ValuationJob[]): Promise<ValuationWork[]> {
    return loadValuationWork(this.sql, jobs, undefined, { pending: true, fx: this.fx })
  }

  /**
   * Replaces each portfolio's day sums and unvalued position-days over its revalued spans, then
   * adds each revision's differences (a pending position revalued alone) and consumes its pending
   * row, with the lineage, in one transaction. The position-days themselves are not stored: the
   * query API values them on read with the same function (src/query/position-days.ts).
   */
  async replace(results: readonly ValuationResult[]): Promise<void> {
    if (results.length === 0) return
    // A span replaces its days, up to the day before `until`; an open one everything from its date.
    const replaced = new ReplacedDays()
    for (const r of results) {
      for (const { from, until } of r.revalued) {
        if (until === undefined) replaced.addOpen(r.job.portfolioId, from)
        else replaced.add(r.job.portfolioId, from, fromEpochDay(toEpochDay(until) - 1))
      }
    }
    const totals: DayRow[] = []
    const unvalued: Cell[][] = []
    for (const r of results) {
      for (const t of r.totals)
        totals.push({
          portfolioId: r.job.portfolioId,
          date: t.date,
          cells: [t.emvBase, String(t.positions), t.complete ? 't' : 'f'],
        })
      for (const d of r.unvalued) unvalued.push([d.row.portfolioId, d.row.positionId, fromEpochDay(d.day), d.status])
    }
    await this.writer.transaction(async (tx) => {
      await lockPortfolios(
        tx,
        'valuation',
        results.map((r) => ({ portfolioId: r.job.portfolioId, inputsAsOf: r.inputsAsOf })),
      )
      await stillPending(tx, results)
      await replaced.delete(tx, 'unvalued_days')
      await replaceDays(tx, VALUE_MONTHS, replaced, totals)
      await copyRows(tx, 'unvalued_days', ['portfolio_id', 'position_id', 'date', 'status'], unvalued, COPY_TIMEOUT_MS)
      await applyRevisions(tx, results)
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
  options: { pending?: boolean; fx?: FxRates | undefined } = {},
): Promise<ValuationWork[]> {
  if (jobs.length === 0) return []
  const [asOf, through, marked] = await Promise.all([
    inputsAsOf(sql),
    until ?? businessDate(sql),
    options.pending ? pendingMarks(sql, jobs) : [],
  ])
  const markedOf = Map.groupBy(marked, (m) => m.portfolioId)
  // A job that only announces changed positions (`revalue` empty) loads only the positions marked
  // pending when it starts: the history, prices and valued rows of those. A position marked later
  // is left pending for the notice of the change that marked it.
  const narrowed = new Map(
    jobs.flatMap((j) => {
      const own = markedOf.get(j.portfolioId) ?? []
      return j.revalue?.length === 0 && !own.some((m) => m.positionId === WHOLE)
        ? [[j.portfolioId, new Set(own.map((m) => m.positionId))] as const]
        : []
    }),
  )
  // A pending position is revalued from its own date, which may be earlier than the job's.
  const fromOf = new Map(
    jobs.map((j) => [
      j.portfolioId,
      (markedOf.get(j.portfolioId) ?? []).reduce((min, m) => minDate(min, m.fromDate), j.fromDate),
    ]),
  )
  const whole = jobs.filter((j) => !narrowed.has(j.portfolioId))
  const ids = whole.map((j) => j.portfolioId)
  const scope = sql`unnest(${ids}::text[], ${whole.map((j) => fromOf.get(j.portfolioId) as string)}::date[])
    as w(portfolio_id, from_date)`
  const pairs = [...narrowed].flatMap(([portfolioId, positions]) =>
    [...positions].map((positionId) => ({ portfolioId, positionId, from: fromOf.get(portfolioId) as string })),
  )
  const narrowScope = sql`unnest(${pairs.map((p) => p.portfolioId)}::text[], ${pairs.map((p) => p.positionId)}::text[],
    ${pairs.map((p) => p.from)}::date[]) as w(portfolio_id, position_id, from_date)`
  const since = [...fromOf.values()].sort()[0] as string // ISO dates sort as strings
  // The last day any job values: the business date for a job from a date on, else the day before
  // its last span ends. A late price in force for a day needs a day of inputs, not all since. A
  // portfolio with positions pending revalues them to the business date, whatever its job.
  const last = jobs.map((j) => (markedOf.has(j.portfolioId) ? through : lastDayValued(j, through))).sort()
  const upTo = last[last.length - 1] as string
  // The history and what is pending read in one snapshot: the positions stage writes both at once.
  const held = (q: Sql) => q<HeldRow[]>`
      select portfolio_id as "portfolioId", position_id as "positionId", date::text as date, currency,
             quantity::text as quantity, cost_local::text as "costLocal", cost_base::text as "costBase"
      -- Per portfolio (lateral; 'offset 0' keeps the planner from merging it back into a join), so
      -- each is an index range scan whatever the planner guesses: joined to the whole list at once,
      -- it read the whole table twice (20 ms for 50 portfolios of medium's 68,500 rows; 4 ms now).
      -- From HELD_BEFORE_DAYS before the date: what a position held on the valuation day before
      -- the first one valued decides whether that first day is its closing day (valueDays). Before
      -- that, each position's last row, read in the order of position_history_held, which carries
      -- the columns read: a scan of the index alone (sql/0025_position_history_held.sql).
      from ((select h.* from ${scope} cross join lateral (
               select distinct on (h.position_id) ${sql.unsafe(HELD_COLUMNS)} from position_history h
               where h.portfolio_id = w.portfolio_id and h.date < w.from_date - ${HELD_BEFORE_DAYS}::int
               order by h.position_id desc, h.date desc, h.seq desc) as h)
            union all
            (select h.* from ${scope} cross join lateral (
               select ${sql.unsafe(HELD_COLUMNS)} from position_history h
               where h.portfolio_id = w.portfolio_id and h.date >= w.from_date - ${HELD_BEFORE_DAYS}::int
                 and h.date <= ${upTo}::date
               offset 0) as h)
            union all
            -- and per position marked pending, for a job that revalues those only
            (select h.* from ${narrowScope} cross join lateral (
               select ${sql.unsafe(HELD_COLUMNS)} from position_history h
               where h.portfolio_id = w.portfolio_id and h.position_id = w.position_id
                 and h.date < w.from_date - ${HELD_BEFORE_DAYS}::int
               order by h.date desc, h.seq desc limit 1) as h)
            union all
            (select h.* from ${narrowScope} cross join lateral (
               select ${sql.unsafe(HELD_COLUMNS)} from position_history h
               where h.portfolio_id = w.portfolio_id and h.position_id = w.position_id
                 and h.date >= w.from_date - ${HELD_BEFORE_DAYS}::int and h.date <= ${upTo}::date
               offset 0) as h)) as h
      order by portfolio_id, position_id, date, seq`
  const allIds = jobs.map((j) => j.portfolioId)
  // The portfolios too: a changed portfolio record marks it pending as a whole (pg-input-store.ts),
  // so the record valued with is the one the marks consumed were written with. With each, the
  // holidays of the holiday calendar it names, if any (dates.ts).
  const records = (q: Sql) =>
    q<{ record: Portfolio; holidays: string[] | null }[]>`
      select p.record, ${q.unsafe(HOLIDAYS_OF_P)} as holidays
      from portfolios p where p.portfolio_id = any(${allIds}::text[])`
  const [portfolioRows, rows, pendingRows, supersededRows] = await (options.pending
    ? sql.begin('isolation level repeatable read read only', (tx) => {
        const q = tx as unknown as Sql // a transaction reads as the client does
        return Promise.all([records(q), held(q), readPending(q, allIds), readSuperseded(q, allIds)])
      })
    : Promise.all([records(sql), held(sql), [] as PendingRow[], [] as HeldRow[]]))
  // The securities valued: those of the rows read, and of the rows pending positions were valued
  // with. Read by a second scan of the history beside the first, they cost about as much as it.
  const securities = [
    ...new Set([...rows, ...supersededRows].map((r) => r.positionId).filter((id) => !isCashPosition(id))),
  ]
  const [instruments, prices] = await Promise.all([
    sql<{ record: Instrument }[]>`select record from instruments where security_id = any(${securities}::text[])`,
    // Per security its prices in one row (the latest before `since`, one index probe, then those
    // from `since` on): days as epoch days, the texts and currencies comma-joined. A row per price
    // cost more to decode than valuing a position-day costs. Aggregated per security (lateral),
    // not grouped over all of them: grouping sorted every price read by security (a slice of late
    // prices: 19,700 prices, 41-52 ms; 12 ms per security).
    sql<{ securityId: string; days: string; texts: string; currencies: string }[]>`
      select s.id as "securityId", a.days, a.texts, a.currencies
      from unnest(${securities}::text[]) as s(id)
      cross join lateral (
        select string_agg((p.date - date '1970-01-01')::text, ',' order by p.date) as days,
               string_agg(p.price::text, ',' order by p.date) as texts,
               string_agg(p.currency, ',' order by p.date) as currencies
        from ((select date, price, currency from prices where security_id = s.id and date < ${since}::date
               order by date desc limit 1)
              union all
              (select date, price, currency from prices
               where security_id = s.id and date >= ${since}::date and date <= ${upTo}::date)) as p) as a
      where a.days is not null`,
  ])
  const holidaysOf = new Map(portfolioRows.map((p) => [p.record.portfolioId, p.holidays ?? []]))
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
  // The stages keep every rate (read again when one changed); a query reads its range's.
  const fx = options.fx
    ? await options.fx.all(sql)
    : await fxRatesFrom(sql, wantedPairs(sql, [...bases, FX_PIVOT], conversions), since, upTo)

  const priceTable = PriceTable.ofSeries(priceSeries)
  const byPortfolio = Map.groupBy(rows, (r) => r.portfolioId)
  const converts = (r: FxRate) =>
    conversions.some(([a, b]) => (r.from === a && r.to === b) || (r.from === b && r.to === a))
  const pick = (b: string) => (r: FxRate) => [r.from, r.to].some((c) => c === b || c === FX_PIVOT) || converts(r)
  const conversionKey = conversions.map((c) => c.join('/')).join(',')
  const fxOf = new Map(
    bases.map((b) => [b, options.fx ? options.fx.picked(`${b}|${conversionKey}`, pick(b)) : fx.filter(pick(b))]),
  )
  const pendingOf = Map.groupBy(pendingRows, (p) => p.portfolioId)
  const supersededOf = Map.groupBy(supersededRows, (r) => `${r.portfolioId}\u0000${r.positionId}`)
  return jobs.flatMap((job) => {
    const portfolio = portfolios.get(job.portfolioId)
    if (!portfolio) return []
    const byPosition = Map.groupBy(byPortfolio.get(job.portfolioId) ?? [], (r) => r.positionId)
    const only = narrowed.get(job.portfolioId)
    const pending = (pendingOf.get(job.portfolioId) ?? []).filter((p) => only === undefined || only.has(p.positionId))
    // Marked after the history was read from an earlier date, or up to an earlier day than the
    // business date its revision values to: its rows and prices are not all here.
    if (
      pending.some((p) => p.fromDate < (fromOf.get(job.portfolioId) as string)) ||
      (pending.length > 0 && upTo < through)
    )
      throw new AppError('WRITE_CONFLICT', `valuation: ${job.portfolioId} changed while loading; loading again`, true)
    const mark = ({ fromDate, created, version }: PendingRow): PendingMark => ({ fromDate, created, version })
    const whole = pending.find((p) => p.positionId === WHOLE)
    return [
      {
        job,
        portfolio,
        holidays: holidaysOf.get(job.portfolioId) ?? [],
        businessDate: through,
        histories: [...byPosition.values()],
        prices: priceTable,
        fx: fxOf.get(portfolio.baseCurrency) ?? [],
        inputsAsOf: asOf,
        pending: pending
          .filter((p) => p.positionId !== WHOLE)
          .map((p) => ({
            ...mark(p),
            positionId: p.positionId,
            rows: supersededOf.get(`${job.portfolioId}\u0000${p.positionId}`) ?? [],
          })),
        ...(whole ? { whole: mark(whole) } : {}),
      },
    ]
  })
}

/**
 * The pending positions whose valued rows a write's sums used must still be pending as read:
 * consumed meanwhile by another writer of the portfolio (a partition that moved), their history
 * is what the sums hold now, and these sums would put the old rows back. Then WRITE_CONFLICT.
 */
async function stillPending(tx: Tx, results: readonly ValuationResult[]): Promise<void> {
  const relied = results.flatMap((r) => r.relied.map((p) => ({ ...p, portfolioId: r.job.portfolioId })))
  if (relied.length === 0) return
  const [found] = await tx<{ n: number }[]>`
    select count(*)::int as n from valuation_pending v
    join unnest(${relied.map((p) => p.portfolioId)}::text[], ${relied.map((p) => p.positionId)}::text[],
                ${relied.map((p) => p.created)}::bigint[]) as w(portfolio_id, position_id, created)
      using (portfolio_id, position_id, created)`
  if ((found?.n ?? 0) < relied.length) {
    const names = [...new Set(relied.map((p) => p.portfolioId))].join(', ')
    throw new AppError('WRITE_CONFLICT', `valuation: ${names} revalued meanwhile; recomputing`, true)
  }
}

/**
 * Each revision whose pending row is unchanged since it was read (a newer change of the position
 * sends its own notice, and is revalued then): its row and superseded rows go, its differences
 * are added to the day sums (a day no position is left on goes too), its unvalued days from its
 * date are replaced, and the days whose unvalued position-days changed recompute `complete`. The
 * whole-portfolio marks covered go as well. A redelivered batch finds nothing pending: no
 * difference is added twice.
 */
async function applyRevisions(tx: Tx, results: readonly ValuationResult[]): Promise<void> {
  const wholes = results.flatMap((r) => (r.whole ? [{ ...r.whole, portfolioId: r.job.portfolioId }] : []))
  if (wholes.length > 0)
    await tx`
      delete from valuation_pending v
      using unnest(${wholes.map((w) => w.portfolioId)}::text[], ${wholes.map((w) => w.created)}::bigint[],
                   ${wholes.map((w) => w.version)}::bigint[]) as w(portfolio_id, created, version)
      where v.portfolio_id = w.portfolio_id and v.position_id = ${WHOLE} and v.created = w.created
        and v.version = w.version`
  const revisions = results.flatMap((r) => r.revisions.map((v) => ({ ...v, portfolioId: r.job.portfolioId })))
  if (revisions.length === 0) return
  const consumed = await tx<{ portfolioId: string; positionId: string }[]>`
    delete from valuation_pending v
    using unnest(${revisions.map((v) => v.portfolioId)}::text[], ${revisions.map((v) => v.positionId)}::text[],
                 ${revisions.map((v) => v.created)}::bigint[], ${revisions.map((v) => v.version)}::bigint[])
      as w(portfolio_id, position_id, created, version)
    where (v.portfolio_id, v.position_id, v.created, v.version) = (w.portfolio_id, w.position_id, w.created, w.version)
    returning v.portfolio_id as "portfolioId", v.position_id as "positionId"`
  const taken = new Set(consumed.map((c) => `${c.portfolioId}\u0000${c.positionId}`))
  const applied = revisions.filter((v) => taken.has(`${v.portfolioId}\u0000${v.positionId}`))
  if (applied.length === 0) return
  const [pids, posids, froms] = [
    applied.map((v) => v.portfolioId),
    applied.map((v) => v.positionId),
    applied.map((v) => v.fromDate),
  ]
  // One change per portfolio-day: a correction revalues its security and the cash it settles in,
  // whose differences fall on the same days (two rows per day to upsert otherwise).
  const perDay = new Map<string, { portfolioId: string; date: string; emv: bigint; positions: number }>()
  for (const v of applied) {
    for (const d of v.deltas) {
      const key = `${v.portfolioId}\u0000${d.date}`
      const sum = perDay.get(key) ?? { portfolioId: v.portfolioId, date: d.date, emv: 0n, positions: 0 }
      sum.emv += d.emvBase
      sum.positions += d.positions
      perDay.set(key, sum)
    }
  }
  const deltas = [...perDay.values()].filter((d) => d.emv !== 0n || d.positions !== 0)
  const now = applied.flatMap((v) => v.unvalued)
  const [, gone] = await Promise.all([
    tx`delete from superseded_history s
       using unnest(${pids}::text[], ${posids}::text[]) as w(portfolio_id, position_id)
       where s.portfolio_id = w.portfolio_id and s.position_id = w.position_id`.execute(),
    tx<{ portfolioId: string; date: string }[]>`
       delete from unvalued_days u
       using unnest(${pids}::text[], ${posids}::text[], ${froms}::date[]) as w(portfolio_id, position_id, from_date)
       where u.portfolio_id = w.portfolio_id and u.position_id = w.position_id and u.date >= w.from_date
       returning u.portfolio_id as "portfolioId", u.date::text as date`.execute(),
  ])
  await copyRows(
    tx,
    'unvalued_days',
    ['portfolio_id', 'position_id', 'date', 'status'],
    now.map((d) => [d.row.portfolioId, d.row.positionId, fromEpochDay(d.day), d.status]),
    COPY_TIMEOUT_MS,
  )
  // The days whose unvalued position-days changed, and which of them still have one.
  const recheck = new Map<string, { portfolioId: string; date: string }>()
  for (const d of [...gone, ...now.map((u) => ({ portfolioId: u.row.portfolioId, date: fromEpochDay(u.day) }))])
    recheck.set(`${d.portfolioId}\u0000${d.date}`, d)
  const checked = [...recheck.values()]
  const incomplete = new Set(
    checked.length === 0
      ? []
      : (
          await tx<{ portfolioId: string; date: string }[]>`
            select distinct u.portfolio_id as "portfolioId", u.date::text as date from unvalued_days u
            join unnest(${checked.map((d) => d.portfolioId)}::text[], ${checked.map((d) => d.date)}::date[])
              as w(portfolio_id, date) using (portfolio_id, date)`
        ).map((r) => `${r.portfolioId}\u0000${r.date}`),
  )
  const deltasOf = Map.groupBy(deltas, (d) => `${d.portfolioId}\u0000${monthOf(d.date)}`)
  const recheckOf = Map.groupBy(checked, (d) => `${d.portfolioId}\u0000${monthOf(d.date)}`)
  // Each difference is added to its day's sum (a day new to the sums has only this position on
  // it: complete unless rechecked), a day no position is left on goes (rarely any: a position
  // gone whole), and the rechecked days are complete unless a position-day of theirs is unvalued.
  await editDays(tx, VALUE_MONTHS, [...deltas, ...checked], ({ portfolioId, month }, days) => {
    const key = `${portfolioId}\u0000${month}`
    for (const d of deltasOf.get(key) ?? []) {
      const [emv, positions, complete] = (days.get(d.date) ?? ['0', '0', 't']) as [string, string, string]
      const left = Number(positions) + d.positions
      if (left === 0) days.delete(d.date)
      else days.set(d.date, [fromScaled(toScaled(emv) + d.emv), String(left), complete])
    }
    for (const { date } of recheckOf.get(key) ?? []) {
      const cells = days.get(date)
      if (cells)
        days.set(date, [
          cells[0] as string,
          cells[1] as string,
          incomplete.has(`${portfolioId}\u0000${date}`) ? 'f' : 't',
        ])
    }
  })
}

/** valuation_pending's position_id for a portfolio revalued as a whole (sql/0021_valuation_pending.sql). */
export const WHOLE = '*'

type PendingRow = PendingMark & { portfolioId: string; positionId: string }

const minDate = (a: string, b: string | undefined) => (b !== undefined && b < a ? b : a)

/** What is pending for the jobs' portfolios, read before their inputs (loadValuationWork). */
const pendingMarks = (sql: Sql, jobs: readonly ValuationJob[]) => sql<
  { portfolioId: string; positionId: string; fromDate: string }[]
>`
  select portfolio_id as "portfolioId", position_id as "positionId", from_date::text as "fromDate"
  from valuation_pending where portfolio_id = any(${jobs.map((j) => j.portfolioId)}::text[])`

const readPending = (sql: Sql, ids: readonly string[]) => sql<PendingRow[]>`
  select portfolio_id as "portfolioId", position_id as "positionId", from_date::text as "fromDate",
         created::text as created, version::text as version
  from valuation_pending where portfolio_id = any(${ids}::text[])`

const readSuperseded = (sql: Sql, ids: readonly string[]) => sql<HeldRow[]>`
  select portfolio_id as "portfolioId", position_id as "positionId", date::text as date, currency,
         quantity::text as quantity, cost_local::text as "costLocal", cost_base::text as "costBase"
  from superseded_history where portfolio_id = any(${ids}::text[])
  order by portfolio_id, position_id, date, seq`

/** The pairs touching `touching` (each base, and the pivot), and those converting a price quoted in a third currency. */
const wantedPairs = (sql: Sql, touching: readonly string[], conversions: readonly (readonly [string, string])[]) =>
  sql`(from_currency = any(${touching}::text[]) or to_currency = any(${touching}::text[])
      or exists (select 1 from unnest(${conversions.map((c) => c[0])}::text[], ${conversions.map((c) => c[1])}::text[]) as c(a, b)
                 where (from_currency, to_currency) in ((c.a, c.b), (c.b, c.a))))`

/** The last day a job values: the business date, or the day before its last span ends if earlier. */
function lastDayValued(job: ValuationJob, businessDate: string): string {
  const spans = spansOf(job)
  if (spans.some((s) => s.until === undefined)) return businessDate
  const end = spans.reduce((max, s) => ((s.until as string) > max ? (s.until as string) : max), '')
  const dayBefore = fromEpochDay(toEpochDay(end) - 1)
  return dayBefore < businessDate ? dayBefore : businessDate
}
