import { fromScaled, toScaled } from '../domain/money.ts'
import type { Cashflow, ValuationJob } from '../domain/records.ts'
import { seriesWindows } from '../domain/spans.ts'
import { seriesMoney } from '../domain/timeseries.ts'
import type { SeriesResult, SeriesStore, SeriesWork } from '../ports/series-store.ts'
import { businessDate } from './pg-business-date.ts'
import type { Sql } from './pg-client.ts'
import { copyRows, type PgWriter } from './pg-copy.ts'
import { inputsAsOf, lineageOf, lockPortfolios, writeLineage } from './pg-lineage.ts'
import { CASHFLOW_COLUMNS } from './pg-position-store.ts'

const COPY_TIMEOUT_MS = 60_000
const SERIES = ['bmv_base', 'emv_base', 'sod_flow_base', 'eod_flow_base', 'fees_base', 'income_base'] as const

/**
 * SeriesStore on PostgreSQL (sql/0005_series.sql). Only the portfolio series is stored: a position's
 * series is derived on read from its valuations and cashflows (src/query/pg-reads.ts).
 */
export class PgSeriesStore implements SeriesStore {
  constructor(
    private readonly sql: Sql,
    private readonly writer: PgWriter,
  ) {}

  async load(jobs: readonly ValuationJob[]): Promise<SeriesWork[]> {
    if (jobs.length === 0) return []
    const asOf = await inputsAsOf(this.sql)
    const through = await businessDate(this.sql)
    const windowsOf = new Map(jobs.map((job) => [job.portfolioId, seriesWindows(job, through)]))
    const flat = [...windowsOf].flatMap(([id, windows]) => windows.map((w) => ({ id, ...w })))
    const ids = jobs.map((j) => j.portfolioId)
    const scope = this.sql`unnest(${flat.map((w) => w.id)}::text[], ${flat.map((w) => w.from)}::date[],
      ${flat.map((w) => w.to)}::date[]) as w(portfolio_id, from_date, to_date)`
    // The day sums the valuation stage wrote with the valuations: one row per portfolio-day, never
    // the position-days again. The text is made canonical (sums of older rows may carry zeros).
    const totals = this.sql<
      { portfolio_id: string; date: string; emv: string; positions: number; complete: boolean }[]
    >`
      select v.portfolio_id, v.date::text as date, v.emv_base::text as emv, v.positions, v.complete
      from portfolio_values v join ${scope} using (portfolio_id)
      where v.date between w.from_date and w.to_date`.execute()
    // The positions the valuation stage valued, from its lineage (for this stage's lineage).
    const positions = this.sql<{ portfolio_id: string; position_id: string }[]>`
      select l.portfolio_id, l.position_id from lineage l
      where l.stage = 'valuation' and l.position_id <> '' and l.portfolio_id = any(${ids}::text[])`.execute()
    // Flows dated on the weekend before a window count on its Monday: read three days back.
    const cashflows = this.sql<Cashflow[]>`
      select ${this.sql.unsafe(CASHFLOW_COLUMNS)}
      from cashflows c join ${scope} using (portfolio_id)
      where c.date between w.from_date - 2 and w.to_date`.execute()
    const opening = this.sql<{ portfolio_id: string; from_date: string; emv: string }[]>`
      select w.portfolio_id, w.from_date::text as from_date, p.emv
      from ${scope} cross join lateral (
        select s.emv_base::text as emv from portfolio_series s
        where s.portfolio_id = w.portfolio_id and s.date < w.from_date order by s.date desc limit 1) p`.execute()
    const [totalRows, positionRows, cashflowRows, openingRows] = await Promise.all([
      totals,
      positions,
      cashflows,
      opening,
    ])
    const totalsOf = Map.groupBy(totalRows, (t) => t.portfolio_id)
    const positionsOf = Map.groupBy(positionRows, (p) => p.portfolio_id)
    const cashflowsOf = Map.groupBy(cashflowRows, (c) => c.portfolioId)
    const openingOf = new Map(openingRows.map((p) => [`${p.portfolio_id}|${p.from_date}`, p.emv]))
    return jobs.map((job) => ({
      job,
      businessDate: through,
      inputsAsOf: asOf,
      windows: (windowsOf.get(job.portfolioId) ?? []).map((w) => ({
        ...w,
        openingEmv: openingOf.get(`${job.portfolioId}|${w.from}`),
      })),
      totals: (totalsOf.get(job.portfolioId) ?? []).map((t) => ({
        date: t.date,
        emvBase: fromScaled(toScaled(t.emv)),
        positions: t.positions,
        complete: t.complete,
      })),
      positionIds: (positionsOf.get(job.portfolioId) ?? []).map((p) => p.position_id),
      cashflows: cashflowsOf.get(job.portfolioId) ?? [],
    }))
  }

  async replace(results: readonly SeriesResult[]): Promise<void> {
    if (results.length === 0) return
    const flat = results.flatMap((r) => r.windows.map((w) => ({ id: r.job.portfolioId, ...w })))
    const portfolioRows = results.flatMap((r) =>
      r.portfolio.map((p) => [p.portfolioId, p.date, ...seriesMoney(p), String(p.complete)]),
    )
    await this.writer.transaction(async (tx) => {
      await lockPortfolios(
        tx,
        'timeseries',
        results.map((r) => ({ portfolioId: r.job.portfolioId, inputsAsOf: r.inputsAsOf })),
      )
      const scope = tx`unnest(${flat.map((w) => w.id)}::text[], ${flat.map((w) => w.from)}::date[],
        ${flat.map((w) => w.to)}::date[]) as w(portfolio_id, from_date, to_date)`
      await tx`delete from portfolio_series s using ${scope}
        where s.portfolio_id = w.portfolio_id and s.date between w.from_date and w.to_date`
      await copyRows(
        tx,
        'portfolio_series',
        ['portfolio_id', 'date', ...SERIES, 'complete'],
        portfolioRows,
        COPY_TIMEOUT_MS,
      )
      await writeLineage(
        tx,
        'timeseries',
        lineageOf(results, (r) => r.positionIds),
      )
    })
  }

  async close(): Promise<void> {
    await this.writer.close()
  }
}
