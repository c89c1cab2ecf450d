import { FX_PIVOT } from '../domain/market-data.ts'
import { primaryPosition, scopeOf } from '../domain/positions.ts'
import type { Cashflow, Instrument, Portfolio, PositionRow, Transaction, TransactionType } from '../domain/records.ts'
import { changedPositions } from '../domain/revaluation.ts'
import { applyCancels, cashPositionId } from '../domain/transactions.ts'
import type { HeldRow } from '../domain/valuation.ts'
import type { PortfolioWork, PositionStore, RecomputeRequest, RecomputeResult } from '../ports/position-store.ts'
import type { Sql, Tx } from './pg-client.ts'
import { type Cell, copyRows, type PgWriter } from './pg-copy.ts'
import { FxRates } from './pg-fx.ts'
import { inputsAsOf, lockPortfolios, writeLineage } from './pg-lineage.ts'
import { WHOLE } from './pg-valuation-store.ts'

const COPY_TIMEOUT_MS = 60_000
const HISTORY = [
  'portfolio_id',
  'position_id',
  'date',
  'seq',
  'transaction_id',
  'currency',
  'quantity',
  'cost_local',
  'cost_base',
  'realized_local',
  'realized_base',
  'realized_price_base',
  'realized_fx_base',
  'income_base',
  'lots',
] as const
const CASHFLOWS = [
  'portfolio_id',
  'transaction_id',
  'position_id',
  'date',
  'type',
  'class',
  'timing',
  'scope',
  'currency',
  'amount_local',
  'amount_base',
  'fee_local',
  'fee_base',
  'fx_rate',
] as const

/** The columns of a position_history read, as the strings PositionRow holds (exact numerics, ISO dates). */
export const HISTORY_COLUMNS = `h.portfolio_id, h.position_id, h.date::text as date, h.seq, h.transaction_id, h.currency,
  h.quantity::text as quantity, h.cost_local::text as cost_local, h.cost_base::text as cost_base,
  h.realized_local::text as realized_local, h.realized_base::text as realized_base,
  h.realized_price_base::text as realized_price_base, h.realized_fx_base::text as realized_fx_base,
  h.income_base::text as income_base, h.lots`

/** The columns of a cashflows read (alias c), as the Cashflow record holds them. */
export const CASHFLOW_COLUMNS = `c.portfolio_id as "portfolioId", c.transaction_id as "transactionId",
  c.position_id as "positionId", c.date::text as date, c.type, c.class, c.timing, c.scope, c.currency,
  c.amount_local::text as "amountLocal", c.amount_base::text as "amountBase",
  c.fee_local::text as "feeLocal", c.fee_base::text as "feeBase"`

export type HistoryRow = {
  [K in (typeof HISTORY)[number]]: K extends 'lots' ? PositionRow['lots'] : K extends 'seq' ? number : string
}

/** PositionStore on PostgreSQL (sql/0003_positions.sql): batch reads, COPY writes via one writer connection. */
export class PgPositionStore implements PositionStore {
  /** The rates, read again only when they changed. */
  private readonly fx = new FxRates()

  constructor(
    private readonly sql: Sql,
    private readonly writer: PgWriter,
  ) {}

  async load(requests: readonly RecomputeRequest[]): Promise<PortfolioWork[]> {
    if (requests.length === 0) return []
    const asOf = await inputsAsOf(this.sql)
    const ids = requests.map((r) => r.portfolioId)
    const froms = requests.map((r) => r.fromDate)
    const portfolios = await this.sql<{ record: Portfolio }[]>`
      select record from portfolios where portfolio_id = any(${ids}::text[])`
    const known = new Map(portfolios.map((p) => [p.record.portfolioId, p.record]))
    if (known.size === 0) return []

    // Transactions from each portfolio's date on, and every CANCEL (one dated earlier may cancel a
    // later one) with the type of its target when the target is a transaction of the same
    // portfolio: naming another portfolio's is rejected (UNKNOWN_CANCEL_TARGET), never ignored.
    // Both read per portfolio (lateral; 'offset 0' keeps the planner from merging it back into a
    // join), so each is an index range scan: joined to the whole list, the planner read the tables
    // through (18 ms for 50 portfolios of medium; under 1 ms by portfolio).
    const scope = this.sql`unnest(${ids}::text[], ${froms}::date[]) as w(portfolio_id, from_date)`
    const txns = await this.sql<{ record: Transaction; target_type: TransactionType | null }[]>`
      select t.record, (select x.type from transactions x where t.type = 'CANCEL'
                          and x.transaction_id = t.record->>'cancels' and x.portfolio_id = t.portfolio_id) as target_type
      from ${scope} cross join lateral (
        select * from transactions t where t.portfolio_id = w.portfolio_id and (t.trade_date >= w.from_date or t.type = 'CANCEL')
        offset 0) as t`
    // The latest row before each date, formatted once picked (not every row it is picked from);
    // and for a fold over some positions, the transactions stored as rejected from the date on.
    const scoped = requests.filter((r) => r.positions !== undefined)
    const [before, rejections] = await Promise.all([
      this.sql<HistoryRow[]>`
        select ${this.sql.unsafe(HISTORY_COLUMNS)}
        from ${scope} cross join lateral (
          select distinct on (h.position_id) h.* from position_history h
          where h.portfolio_id = w.portfolio_id and h.date < w.from_date
          order by h.position_id, h.date desc, h.seq desc) as h`.execute(),
      scoped.length === 0
        ? []
        : this.sql<{ portfolioId: string; transactionId: string }[]>`
            select r.portfolio_id as "portfolioId", r.transaction_id as "transactionId"
            from unnest(${scoped.map((r) => r.portfolioId)}::text[], ${scoped.map((r) => r.fromDate)}::date[])
              as w(portfolio_id, from_date)
            join transaction_rejections r on r.portfolio_id = w.portfolio_id and r.date >= w.from_date`.execute(),
    ])
    const rejectedOf = Map.groupBy(rejections, (r) => r.portfolioId)
    const securities = [...new Set(txns.map((t) => t.record.securityId).filter((s): s is string => s !== undefined))]
    const instruments = await this.sql<{ record: Instrument }[]>`
      select record from instruments where security_id = any(${securities}::text[])`
    // Every rate, kept while unchanged; each portfolio takes the pairs touching its base, and those
    // touching the pivot that crosses the rest (FxTable).
    await this.fx.all(this.sql)

    const txnsOf = Map.groupBy(txns, (t) => t.record.portfolioId)
    const beforeOf = Map.groupBy(before, (b) => b.portfolio_id)
    const instrumentRecords = instruments.map((i) => i.record)
    return requests.flatMap((request) => {
      const portfolio = known.get(request.portfolioId)
      if (!portfolio) return []
      const mine = txnsOf.get(request.portfolioId) ?? []
      const targets = new Map(
        mine.flatMap(({ record, target_type }) => (target_type ? [[record.cancels, target_type]] : [])),
      )
      const { active, refused } = applyCancels(
        mine.map((t) => t.record),
        (id) => targets.get(id),
      )
      const inRange = (t: Transaction) => t.tradeDate >= request.fromDate
      const transactions = active.filter(inRange)
      const before = (beforeOf.get(request.portfolioId) ?? []).map(toPositionRow)
      // A fold over the named positions and what they reach; with a CANCEL loaded, over all (a
      // cancellation changes which transactions count, whatever positions were named).
      const named = mine.some((t) => t.record.type === 'CANCEL') ? undefined : request.positions
      const scope = named && {
        positions: scopeOf(named, transactions),
        rejected: new Set((rejectedOf.get(request.portfolioId) ?? []).map((r) => r.transactionId)),
        loaded: transactions.map((t) => t.transactionId),
        positionCount: new Set([
          ...before.map((b) => b.positionId),
          ...transactions.flatMap((t) => [primaryPosition(t), cashPositionId(t.currency)]),
        ]).size,
      }
      return [
        {
          request,
          portfolio,
          before,
          transactions,
          ...(scope ? { scope } : {}),
          refusedCancels: refused.filter((r) => inRange(r.cancel)),
          instruments: instrumentRecords,
          fx: this.fx.picked(portfolio.baseCurrency, (r) =>
            [r.from, r.to].some((c) => c === portfolio.baseCurrency || c === FX_PIVOT),
          ),
          inputsAsOf: asOf,
        },
      ]
    })
  }

  async replace(results: readonly RecomputeResult[]): Promise<ReadonlyMap<string, readonly string[]>> {
    if (results.length === 0) return new Map()
    const ids = results.map((r) => r.request.portfolioId)
    const history: { row: PositionRow; seq: number }[] = []
    const cashflows: Cashflow[] = []
    const rejections: Cell[][] = []
    for (const { request, result, tradeDates } of results) {
      // seq: the order the engine applied a position's rows of one day (domain/positions.ts).
      result.rows.forEach((row, i) => {
        history.push({ row, seq: result.seqs[i] as number })
      })
      cashflows.push(...result.cashflows)
      for (const x of result.rejections) {
        rejections.push([
          request.portfolioId,
          x.transactionId,
          tradeDates.get(x.transactionId) ?? request.fromDate,
          x.code,
          x.reason,
        ])
      }
    }
    return this.writer.transaction(async (tx) => {
      await lockPortfolios(
        tx,
        'positions',
        results.map((r) => ({ portfolioId: r.request.portfolioId, inputsAsOf: r.inputsAsOf })),
      )
      // Portfolios folded whole, and (portfolio, position) pairs of those folded over some positions:
      // the write reads, compares and replaces only what the fold wrote.
      const whole = results.filter((r) => r.scope === undefined)
      const scope = tx`unnest(${whole.map((r) => r.request.portfolioId)}::text[],
        ${whole.map((r) => r.request.fromDate)}::date[]) as w(portfolio_id, from_date)`
      const pairs = results.flatMap((r) =>
        (r.scope?.positions ?? []).map(
          (positionId) => [r.request.portfolioId, positionId, r.request.fromDate] as const,
        ),
      )
      const pairScope = tx`unnest(${pairs.map((p) => p[0])}::text[], ${pairs.map((p) => p[1])}::text[],
        ${pairs.map((p) => p[2])}::date[]) as w(portfolio_id, position_id, from_date)`
      // What is stored from each date on: only the rows that differ are replaced (a correction
      // changes its security's rows and its cash's, not the other positions'), and the positions
      // whose rows differ as valuation reads them are marked pending with their old rows.
      const [pending, stored, storedFlows] = await Promise.all([
        tx<{ portfolioId: string; positionId: string; fromDate: string }[]>`
          select portfolio_id as "portfolioId", position_id as "positionId", from_date::text as "fromDate"
          from valuation_pending where portfolio_id = any(${ids}::text[]) for update`.execute(),
        tx<HistoryRow[]>`
          (select ${tx.unsafe(HISTORY_COLUMNS)} from ${scope}
           join position_history h on h.portfolio_id = w.portfolio_id and h.date >= w.from_date)
          union all
          (select ${tx.unsafe(HISTORY_COLUMNS)} from ${pairScope}
           join position_history h on h.portfolio_id = w.portfolio_id and h.position_id = w.position_id
             and h.date >= w.from_date)`.execute(),
        // A cashflow names its transaction's own position (domain/positions.ts primaryPosition).
        tx<(Cashflow & { fxRate: string | null })[]>`
          (select ${tx.unsafe(CASHFLOW_COLUMNS)}, c.fx_rate::text as "fxRate" from ${scope}
           join cashflows c on c.portfolio_id = w.portfolio_id and c.date >= w.from_date)
          union all
          (select ${tx.unsafe(CASHFLOW_COLUMNS)}, c.fx_rate::text as "fxRate" from ${pairScope}
           join cashflows c on c.portfolio_id = w.portfolio_id and c.date >= w.from_date
             and c.position_id = w.position_id)`.execute(),
      ])
      await markPending(
        tx,
        results,
        stored.map((h) => ({ ...toPositionRow(h), seq: h.seq })),
        pending,
      )
      const rows = differing(
        stored.map((h) => ({ key: historyKey(h.portfolio_id, h.position_id, h.date, h.seq), cells: storedCells(h) })),
        history.map(({ row, seq }) => ({
          key: historyKey(row.portfolioId, row.positionId, row.date, seq),
          cells: historyCells(row, seq),
        })),
      )
      const flows = differing(
        storedFlows.map((c) => ({ key: `${c.portfolioId}\u0000${c.transactionId}`, cells: cashflowRow(c) })),
        cashflows.map((c) => ({ key: `${c.portfolioId}\u0000${c.transactionId}`, cells: cashflowRow(c) })),
      )
      const scoped = results.filter((r) => r.scope !== undefined)
      const [scopedIds, scopedFroms] = [scoped.map((r) => r.request.portfolioId), scoped.map((r) => r.request.fromDate)]
      const ownPairs = scoped.flatMap((r) => (r.scope?.own ?? []).map((id) => [r.request.portfolioId, id] as const))
      const loadedPairs = scoped.flatMap((r) =>
        (r.scope?.loaded ?? []).map((id) => [r.request.portfolioId, id] as const),
      )
      const gone = rows.gone.map((k) => k.split('\u0000'))
      const goneFlows = flows.gone.map((k) => k.split('\u0000'))
      await Promise.all([
        tx`delete from position_history h
           using unnest(${gone.map((k) => k[0] as string)}::text[], ${gone.map((k) => k[1] as string)}::text[],
                        ${gone.map((k) => k[2] as string)}::date[], ${gone.map((k) => k[3] as string)}::int[])
             as k(portfolio_id, position_id, date, seq)
           where (h.portfolio_id, h.date, h.seq, h.position_id) = (k.portfolio_id, k.date, k.seq, k.position_id)`.execute(),
        tx`delete from cashflows c
           using unnest(${goneFlows.map((k) => k[0] as string)}::text[], ${goneFlows.map((k) => k[1] as string)}::text[])
             as k(portfolio_id, transaction_id)
           where (c.portfolio_id, c.transaction_id) = (k.portfolio_id, k.transaction_id)`.execute(),
        tx`delete from transaction_rejections r using ${scope} where r.portfolio_id = w.portfolio_id and r.date >= w.from_date`.execute(),
        // Folded over some positions: the rejections of the transactions it folded, and of those
        // no longer in the portfolio from the date on (moved away by a correction).
        tx`delete from transaction_rejections r
           using unnest(${scopedIds}::text[], ${scopedFroms}::date[]) as w(portfolio_id, from_date)
           where r.portfolio_id = w.portfolio_id and r.date >= w.from_date
             and ((r.portfolio_id, r.transaction_id) in (select * from unnest(${ownPairs.map((p) => p[0])}::text[],
                                                                             ${ownPairs.map((p) => p[1])}::text[]))
               or (r.portfolio_id, r.transaction_id) not in (select * from unnest(${loadedPairs.map((p) => p[0])}::text[],
                                                                                 ${loadedPairs.map((p) => p[1])}::text[])))`.execute(),
      ])
      await copyRows(tx, 'position_history', HISTORY, rows.written, COPY_TIMEOUT_MS)
      await copyRows(tx, 'cashflows', CASHFLOWS, flows.written, COPY_TIMEOUT_MS)
      await copyRows(
        tx,
        'transaction_rejections',
        ['portfolio_id', 'transaction_id', 'date', 'code', 'reason'],
        rejections,
        COPY_TIMEOUT_MS,
      )
      await writeLineage(tx, 'positions', results.flatMap(lineageOf))
      const written = results.filter((r) => r.result.rows.length > 0).map((r) => r.request.portfolioId)
      // The dates of the cashflows written and of those they replace or remove (the series
      // recomputes only those days: records.ts, ValuationJob `flows`).
      const flowDays = new Map([...stored.map((h) => h.portfolio_id), ...written].map((id) => [id, new Set<string>()]))
      const day = (portfolioId: string, date: string) => {
        const days = flowDays.get(portfolioId) ?? new Set<string>()
        flowDays.set(portfolioId, days.add(date))
      }
      for (const cells of flows.written) day(cells[0] as string, cells[3] as string)
      const storedDay = new Map(storedFlows.map((c) => [`${c.portfolioId}\u0000${c.transactionId}`, c]))
      for (const key of flows.gone) {
        const c = storedDay.get(key)
        if (c) day(c.portfolioId, c.date)
      }
      return new Map([...flowDays].map(([id, days]) => [id, [...days].sort()]))
    })
  }

  async close(): Promise<void> {
    await this.writer.close()
  }
}

/** A row's primary key as one string (NUL never occurs in ids or dates). */
const historyKey = (portfolioId: string, positionId: string, date: string, seq: number) =>
  `${portfolioId}\u0000${positionId}\u0000${date}\u0000${seq}`

/** A history row as a COPY row, in HISTORY's column order. */
const historyCells = (r: PositionRow, seq: number): Cell[] => [
  r.portfolioId,
  r.positionId,
  r.date,
  String(seq),
  r.transactionId,
  r.currency,
  r.quantity,
  r.costLocal,
  r.costBase,
  r.realizedLocal,
  r.realizedBase,
  r.realizedPriceBase,
  r.realizedFxBase,
  r.incomeBase,
  JSON.stringify(r.lots),
]

/**
 * A stored history row in the same form. Its lots come back from jsonb with their keys reordered:
 * they are written again in the fold's order (positions.ts), so equal lots give equal text.
 */
const storedCells = (h: HistoryRow): Cell[] =>
  historyCells(
    {
      ...toPositionRow(h),
      lots: h.lots.map(({ openDate, quantity, costLocal, costBase }) => ({ openDate, quantity, costLocal, costBase })),
    },
    h.seq,
  )

/**
 * Between what is stored and what is to be, by key: the stored rows to delete (gone, or to be
 * rewritten) and the rows to write (new, or different). Equal cells mean an equal row; a value
 * written differently (10.5 and 10.50) is rewritten, which is only wasted work.
 */
function differing(
  stored: readonly { key: string; cells: Cell[] }[],
  wanted: readonly { key: string; cells: Cell[] }[],
): { gone: string[]; written: Cell[][] } {
  const before = new Map(stored.map((r) => [r.key, r.cells]))
  const written: Cell[][] = []
  const kept = new Set<string>()
  for (const { key, cells } of wanted) {
    const old = before.get(key)
    if (old !== undefined && old.length === cells.length && old.every((c, i) => c === cells[i])) kept.add(key)
    else written.push(cells)
  }
  return { gone: stored.filter((r) => !kept.has(r.key)).map((r) => r.key), written }
}

/**
 * Marks pending (sql/0021_valuation_pending.sql) the positions whose rows, as valuation reads
 * them, the write changes (domain/revaluation.ts), with the rows replaced: the valuation stage
 * then revalues them alone. A position already pending keeps its older rows, with those replaced
 * before its date added when this write starts earlier, and a new version (a valuation that read
 * the older version leaves it pending). When more than half of the positions written changed,
 * the portfolio is marked as a whole instead (revaluing all is cheaper than their old and new
 * rows), from the earliest date pending, and its position marks go.
 */
async function markPending(
  tx: Tx,
  results: readonly RecomputeResult[],
  replaced: readonly (HeldRow & { seq: number })[],
  pending: readonly { portfolioId: string; positionId: string; fromDate: string }[],
): Promise<void> {
  // Each position's rows in the order the fold wrote them (RETURNING has none).
  const replacedOf = Map.groupBy(
    replaced.toSorted((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.seq - b.seq)),
    (r) => r.portfolioId,
  )
  const pendingOf = Map.groupBy(pending, (p) => p.portfolioId)
  const marks: { portfolioId: string; positionId: string; fromDate: string }[] = []
  const wholes: string[] = []
  // Per position marked, the days of its stored rows to keep as superseded: from the write's date,
  // up to the date it was pending from already (its rows from then on were valued already).
  const superseded: { portfolioId: string; positionId: string; from: string; until: string | null }[] = []
  for (const { request, result, scope } of results) {
    const { portfolioId, fromDate } = request
    const old = replacedOf.get(portfolioId) ?? []
    const changed = changedPositions(old, result.rows)
    if (changed.size === 0) continue
    const own = new Map((pendingOf.get(portfolioId) ?? []).map((p) => [p.positionId, p.fromDate]))
    const positions = scope?.positionCount ?? new Set([...old, ...result.rows].map((r) => r.positionId)).size
    if (own.has(WHOLE) || changed.size * 2 > positions) {
      const earliest = [fromDate, ...own.values()].sort()[0] as string
      marks.push({ portfolioId, positionId: WHOLE, fromDate: earliest })
      wholes.push(portfolioId)
      continue
    }
    for (const positionId of changed) {
      marks.push({ portfolioId, positionId, fromDate })
      superseded.push({ portfolioId, positionId, from: fromDate, until: own.get(positionId) ?? null })
    }
  }
  if (marks.length === 0) return
  if (wholes.length > 0)
    await Promise.all([
      tx`delete from valuation_pending where portfolio_id = any(${wholes}::text[]) and position_id <> ${WHOLE}`.execute(),
      tx`delete from superseded_history where portfolio_id = any(${wholes}::text[])`.execute(),
    ])
  await tx`
    insert into valuation_pending as v (portfolio_id, position_id, from_date, created, version)
    select portfolio_id, position_id, from_date, n, n
    from (select m.*, nextval('valuation_pending_version') as n
          from unnest(${marks.map((m) => m.portfolioId)}::text[], ${marks.map((m) => m.positionId)}::text[],
                      ${marks.map((m) => m.fromDate)}::date[]) as m(portfolio_id, position_id, from_date)) as m
    on conflict (portfolio_id, position_id) do update
      set from_date = least(v.from_date, excluded.from_date), version = excluded.version`
  // Copied inside PostgreSQL, before the rows are replaced: the columns valuation reads are in
  // position_history_held, so this reads the index alone and nothing goes over the wire.
  if (superseded.length > 0)
    await tx`
      insert into superseded_history (portfolio_id, position_id, date, seq, currency, quantity, cost_local, cost_base)
      select h.portfolio_id, h.position_id, h.date, h.seq, h.currency, h.quantity, h.cost_local, h.cost_base
      from unnest(${superseded.map((x) => x.portfolioId)}::text[], ${superseded.map((x) => x.positionId)}::text[],
                  ${superseded.map((x) => x.from)}::date[], ${superseded.map((x) => x.until)}::date[])
        as w(portfolio_id, position_id, from_date, until_date)
      cross join lateral (
        select h.portfolio_id, h.position_id, h.date, h.seq, h.currency, h.quantity, h.cost_local, h.cost_base
        from position_history h
        where h.portfolio_id = w.portfolio_id and h.position_id = w.position_id and h.date >= w.from_date
          and (w.until_date is null or h.date < w.until_date)
        offset 0) as h`
}

/** The portfolio and every position the recompute wrote, through its last transaction date. */
function lineageOf({ request, result, inputsAsOf }: RecomputeResult) {
  const through = result.rows.at(-1)?.date ?? null
  const positions = [...new Set(result.rows.map((r) => r.positionId))]
  return ['', ...positions].map((positionId) => ({
    portfolioId: request.portfolioId,
    positionId,
    fromDate: request.fromDate,
    throughDate: through,
    inputsAsOf,
  }))
}

/** A cashflow as a COPY row, in CASHFLOWS' column order. */
const cashflowRow = (c: Cashflow): Cell[] => [
  c.portfolioId,
  c.transactionId,
  c.positionId,
  c.date,
  c.type,
  c.class,
  c.timing,
  c.scope,
  c.currency,
  c.amountLocal,
  c.amountBase,
  c.feeLocal,
  c.feeBase,
  c.fxRate ?? null,
]

export function toPositionRow(h: HistoryRow): PositionRow {
  return {
    portfolioId: h.portfolio_id,
    positionId: h.position_id,
    date: h.date,
    transactionId: h.transaction_id,
    currency: h.currency,
    quantity: h.quantity,
    costLocal: h.cost_local,
    costBase: h.cost_base,
    realizedLocal: h.realized_local,
    realizedBase: h.realized_base,
    realizedPriceBase: h.realized_price_base,
    realizedFxBase: h.realized_fx_base,
    incomeBase: h.income_base,
    lots: h.lots,
  }
}
