import { fromScaled, toScaled } from '../domain/money.ts'
import type { Cashflow, ValuationJob } from '../domain/records.ts'
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
    const ids = jobs.map((j) => j.portfolioId)
    const froms = jobs.map((j) => j.fromDate)
    const scope = this.sql`unnest(${ids}::text[], ${froms}::date[]) as w(portfolio_id, from_date)`
    const through = await businessDate(this.sql)
    // The day sums the valuation stage wrote with the valuations: one row per portfolio-day, never
    // the position-days again. The text is made canonical (sums of older rows may carry zeros).
    const totals = await this.sql<
      { portfolio_id: string; date: string; emv: string; positions: number; complete: boolean }[]
    >`
      select v.portfolio_id, v.date::text as date, v.emv_base::text as emv, v.positions, v.complete
      from portfolio_values v join ${scope} using (portfolio_id)
      where v.date >= w.from_date and v.date <= ${through}::date`
    // The positions the valuation stage valued, from its lineage (for this stage's lineage).
    const positions = await this.sql<{ portfolio_id: string; position_id: string }[]>`
      select l.portfolio_id, l.position_id from lineage l
      where l.stage = 'valuation' and l.position_id <> '' and l.portfolio_id = any(${ids}::text[])`
    // Flows dated on the weekend before fromDate count on fromDate (a Monday): read three days back.
    const cashflows = await this.sql<Cashflow[]>`
      select ${this.sql.unsafe(CASHFLOW_COLUMNS)}
      from cashflows c join ${scope} using (portfolio_id)
      where c.date >= w.from_date - 2 and c.date <= ${through}::date`
    const portfolioOpen = await this.sql<{ portfolio_id: string; emv: string }[]>`
      select distinct on (s.portfolio_id) s.portfolio_id, s.emv_base::text as emv
      from portfolio_series s join ${scope} using (portfolio_id)
      where s.date < w.from_date order by s.portfolio_id, s.date desc`
    const totalsOf = Map.groupBy(totals, (t) => t.portfolio_id)
    const positionsOf = Map.groupBy(positions, (p) => p.portfolio_id)
    const cashflowsOf = Map.groupBy(cashflows, (c) => c.portfolioId)
    const openingOf = new Map(portfolioOpen.map((p) => [p.portfolio_id, p.emv]))
    return jobs.map((job) => ({
      job,
      businessDate: through,
      inputsAsOf: asOf,
      totals: (totalsOf.get(job.portfolioId) ?? []).map((t) => ({
        date: t.date,
        emvBase: fromScaled(toScaled(t.emv)),
        positions: t.positions,
        complete: t.complete,
      })),
      positionIds: (positionsOf.get(job.portfolioId) ?? []).map((p) => p.position_id),
      cashflows: cashflowsOf.get(job.portfolioId) ?? [],
      openingEmv: openingOf.get(job.portfolioId) ?? '0',
    }))
  }

  async replace(results: readonly SeriesResult[]): Promise<void> {
    if (results.length === 0) return
    const ids = results.map((r) => r.job.portfolioId)
    const froms = results.map((r) => r.job.fromDate)
    const portfolioRows = results.flatMap((r) =>
      r.portfolio.map((p) => [p.portfolioId, p.date, ...seriesMoney(p), String(p.complete)]),
    )
    await this.writer.transaction(async (tx) => {
      await lockPortfolios(
        tx,
        'timeseries',
        results.map((r) => ({ portfolioId: r.job.portfolioId, inputsAsOf: r.inputsAsOf })),
      )
      const scope = tx`unnest(${ids}::text[], ${froms}::date[]) as w(portfolio_id, from_date)`
      await tx`delete from portfolio_series s using ${scope} where s.portfolio_id = w.portfolio_id and s.date >= w.from_date`
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
