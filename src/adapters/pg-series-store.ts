import { type Calendar, type CalendarId, calendarOf, fromEpochDay, toEpochDay, WEEKDAYS } from '../domain/dates.ts'
import type { Cashflow, ValuationJob } from '../domain/records.ts'
import { seriesWindows } from '../domain/spans.ts'
import type { SeriesResult, SeriesStore, SeriesWork } from '../ports/series-store.ts'
import { businessDate, HOLIDAYS_OF_P } from './pg-business-date.ts'
import type { Sql } from './pg-client.ts'
import type { PgWriter } from './pg-copy.ts'
import { readDays, replaceDays, SERIES_MONTHS, VALUE_MONTHS } from './pg-day-months.ts'
import { inputsAsOf, lineageOf, lockPortfolios, writeLineage } from './pg-lineage.ts'
import { CASHFLOW_COLUMNS } from './pg-position-store.ts'
import { ReplacedDays } from './pg-replaced-days.ts'

/**
 * Up to how many days whose flows moved a job recomputes alone: a change that moved more (a
 * portfolio's base currency, converting every flow again) recomputes its span as a whole, one
 * window rather than thousands.
 */
const FLOW_DAYS_ALONE = 64

/**
 * SeriesStore on PostgreSQL (sql/0005_series.sql, stored by month since sql/0024_day_months.sql).
 * Only the portfolio series is stored: a position's series is derived on read from its valuations
 * and cashflows (src/query/pg-reads.ts).
 */
export class PgSeriesStore implements SeriesStore {
  constructor(
    private readonly sql: Sql,
    private readonly writer: PgWriter,
  ) {}

  async load(jobs: readonly ValuationJob[]): Promise<SeriesWork[]> {
    if (jobs.length === 0) return []
    const asOf = await inputsAsOf(this.sql)
    const [through, calendarRows, starts] = await Promise.all([
      businessDate(this.sql),
      // Each portfolio's calendar, with its holidays when it names a holiday calendar (dates.ts).
      this.sql<{ portfolio_id: string; calendar: CalendarId | null; holidays: string[] | null }[]>`
        select p.portfolio_id, p.record->>'calendar' as calendar, ${this.sql.unsafe(HOLIDAYS_OF_P)} as holidays
        from portfolios p where p.portfolio_id = any(${jobs.map((j) => j.portfolioId)}::text[])`.execute(),
      // Each series' stored first point (a window after it has every day of it), and for a job
      // naming the dates whose flows moved, where the series starts now: the first day with a day
      // sum or a flow (a flow counts on the day of the calendar on or after its date). Where it
      // still starts where it did, the job recomputes those days alone: the days from its start are
      // all there, and the others' flows are as stored.
      this.sql<{ portfolio_id: string; stored: string | null; value: string | null; flow: string | null }[]>`
        select s.portfolio_id,
               (select x.dates[1] from portfolio_series_months x where x.portfolio_id = s.portfolio_id
                order by x.month limit 1)::text as stored,
               case when s.naming = 1 then (select v.dates[1] from portfolio_value_months v
                                        where v.portfolio_id = s.portfolio_id order by v.month limit 1)::text end as value,
               case when s.naming = 1 then (select min(c.date) from cashflows c
                                        where c.portfolio_id = s.portfolio_id)::text end as flow
        from unnest(${jobs.map((j) => j.portfolioId)}::text[], ${jobs.map((j) => (j.flows === undefined ? 0 : 1))}::int[])
          as s(portfolio_id, naming)`.execute(),
    ])
    const calendars = new Map(
      calendarRows.map((r) => [r.portfolio_id, calendarOf({ calendar: r.calendar ?? undefined }, r.holidays ?? [])]),
    )
    const calendar = (portfolioId: string) => calendars.get(portfolioId) ?? WEEKDAYS
    const unmoved = new Set(
      starts.flatMap((s) => {
        if (s.stored === null || (s.value === null && s.flow === null)) return []
        const flow = s.flow === null ? null : fromEpochDay(calendar(s.portfolio_id).onOrAfter(toEpochDay(s.flow)))
        const now = [s.value, flow].filter((d): d is string => d !== null).sort()[0]
        return now === s.stored ? [s.portfolio_id] : []
      }),
    )
    // Each flow on the day of the calendar it counts on, a window of that day alone.
    const flowWindows = (dates: readonly string[], c: Calendar) =>
      [...new Set(dates.map((d) => fromEpochDay(c.onOrAfter(toEpochDay(d)))))]
        .filter((day) => day <= through)
        .sort()
        .map((day) => ({ from: day, to: day, open: false }))
    const windowsOf = new Map(
      jobs.map((job) => {
        const c = calendar(job.portfolioId)
        const dates =
          unmoved.has(job.portfolioId) && (job.flows?.length ?? 0) <= FLOW_DAYS_ALONE ? job.flows : undefined
        return [job.portfolioId, dates ? flowWindows(dates, c) : seriesWindows(job, through, c)]
      }),
    )
    // One range per portfolio, from the business day before its first window (flows dated after
    // that day, weekends and holidays included, count on the window's first day) to the end of its
    // last; the windows pick their days from it in memory. A portfolio whose late prices revalued
    // hundreds of short spans is read once, not joined once per span.
    const ranged = jobs.flatMap((job) => {
      const windows = windowsOf.get(job.portfolioId) ?? []
      const first = windows[0]
      const last = windows.at(-1)
      return first && last
        ? [{ id: job.portfolioId, lo: dayBefore(first.from, calendar(job.portfolioId)), hi: last.to }]
        : []
    })
    const ids = ranged.map((r) => r.id)
    // Read per portfolio (lateral; 'offset 0' keeps the planner from merging it back into a join):
    // each is an index range scan. Joined to the whole list, the planner read the table through.
    // Flows dated on the weekend before a window count on its Monday (WEEKDAYS): read three days back.
    const cashflows = this.sql<Cashflow[]>`
      select ${this.sql.unsafe(CASHFLOW_COLUMNS)}
      from unnest(${ids}::text[], ${ranged.map((r) => r.lo)}::date[], ${ranged.map((r) => r.hi)}::date[])
        as w(portfolio_id, lo, hi)
      cross join lateral (
        select * from cashflows c where c.portfolio_id = w.portfolio_id and c.date between w.lo - 2 and w.hi
        offset 0) as c`.execute()
    const firstOf = new Map(starts.map((r) => [r.portfolio_id, r.stored]))
    const started = (portfolioId: string, from: string) => {
      const first = firstOf.get(portfolioId) ?? null
      return first !== null && first < from
    }
    // The day sums decide where a series starts (its first day with a value or a flow): read only
    // for the portfolios with a window that does not continue a series.
    const starting = ranged.filter((r) => (windowsOf.get(r.id) ?? []).some((w) => !started(r.id, w.from)))
    const totals = readDays(
      this.sql,
      VALUE_MONTHS,
      starting.map((r) => ({ portfolioId: r.id, lo: r.lo, hi: r.hi })),
    )
    const [totalRows, cashflowRows] = await Promise.all([totals, cashflows])
    const totalsOf = new Map(
      [...totalRows].map(([portfolioId, days]) => [
        portfolioId,
        days.map(({ date, cells: [emv, positions, complete] }) => ({
          date,
          emvBase: emv as string,
          positions: Number(positions),
          complete: complete === 't',
        })),
      ]),
    )
    const cashflowsOf = Map.groupBy(cashflowRows, (c) => c.portfolioId)
    return jobs.map((job) => ({
      job,
      calendar: calendar(job.portfolioId),
      businessDate: through,
      inputsAsOf: asOf,
      windows: (windowsOf.get(job.portfolioId) ?? []).map((w) => ({ ...w, started: started(job.portfolioId, w.from) })),
      totals: totalsOf.get(job.portfolioId) ?? [],
      cashflows: cashflowsOf.get(job.portfolioId) ?? [],
    }))
  }

  async replace(results: readonly SeriesResult[]): Promise<void> {
    if (results.length === 0) return
    // A window replaces its points; an open one (a job from a date on) everything from its date.
    const replaced = new ReplacedDays()
    for (const r of results) {
      for (const w of r.windows) {
        if (w.open) replaced.addOpen(r.job.portfolioId, w.from)
        else replaced.add(r.job.portfolioId, w.from, w.to)
      }
    }
    const points = results.flatMap((r) =>
      r.portfolio.map((p) => ({
        portfolioId: p.portfolioId,
        date: p.date,
        cells: [p.sodFlowBase, p.eodFlowBase, p.feesBase, p.incomeBase],
      })),
    )
    await this.writer.transaction(async (tx) => {
      await lockPortfolios(
        tx,
        'timeseries',
        results.map((r) => ({ portfolioId: r.job.portfolioId, inputsAsOf: r.inputsAsOf })),
      )
      await replaceDays(tx, SERIES_MONTHS, replaced, points, { unchanged: 'kept' })
      await writeLineage(tx, 'timeseries', lineageOf(results))
    })
  }

  async reflect(jobs: readonly ValuationJob[]): Promise<void> {
    if (jobs.length === 0) return
    const [asOf, through] = await Promise.all([inputsAsOf(this.sql), businessDate(this.sql)])
    const results = jobs.map((job) => ({ job, businessDate: through, inputsAsOf: asOf }))
    await this.writer.transaction(async (tx) => {
      await lockPortfolios(
        tx,
        'timeseries',
        jobs.map((j) => ({ portfolioId: j.portfolioId, inputsAsOf: asOf })),
      )
      await writeLineage(tx, 'timeseries', lineageOf(results))
    })
  }

  async close(): Promise<void> {
    await this.writer.close()
  }
}

/** The day of `calendar` before `date`. */
const dayBefore = (date: string, calendar: Calendar): string => fromEpochDay(calendar.before(toEpochDay(date)))
