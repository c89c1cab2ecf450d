import { TypeCompiler } from '@sinclair/typebox/compiler'
import { toEpochDay } from '../domain/dates.ts'
import { ZERO } from '../domain/money.ts'
import { ValuationJob } from '../domain/records.ts'
import { coalesceJobs } from '../domain/spans.ts'
import { seriesOfWindows } from '../domain/timeseries.ts'
import type { Batch } from '../ports/event-log.ts'
import type { DeadLetterSink } from '../ports/input-store.ts'
import type { SeriesStore } from '../ports/series-store.ts'
import type { Stage } from '../runtime/stage.ts'
import { Topics } from '../topology.ts'
import { daysToToday, inSlices, NOTICES_PER_BATCH, parseNotices, type StepTimer } from './notices.ts'

const notice = TypeCompiler.Compile(ValuationJob)

/** Portfolios whose series are recorded as reflecting market data in one transaction. */
const REFLECTED_PER_WRITE = 1_000

/**
 * timeseries: valuations.changed → the portfolio's daily series over the days revalued (from the
 * notified date to the business date, or the notice's spans and the day after each: domain/spans.ts
 * `seriesWindows`; docs/domain.md, Daily series). It stores each day's flows, fees and income;
 * the day's emv and bmv are the valuation stage's day sums, read beside them (sql/0026), so a
 * revaluation that moved no cashflow writes nothing here, and one of market data (a price or FX
 * rate) is not recomputed at all. A position's series is derived on read.
 * The last hop: the query API reads this table with the day sums.
 */
export function timeseriesStage(deps: {
  store: SeriesStore
  deadLetters: DeadLetterSink
  /** Seconds from the oldest input behind a portfolio's notices being ingested to its series being written. */
  freshness?: (seconds: number) => void
  /** Told each slice's steps (pas_stage_slice_step_seconds). */
  steps?: StepTimer | undefined
}): Stage {
  return {
    name: 'timeseries',
    maxRecords: NOTICES_PER_BATCH,
    group: 'pas.timeseries',
    inputs: [Topics.valuationsChanged],
    async process(batch: Batch) {
      const jobs = coalesceJobs(parseNotices(notice, batch.records))
      const observe = (done: readonly ValuationJob[]) => {
        const now = Date.now()
        for (const job of done) if (job.since !== undefined) deps.freshness?.((now - job.since) / 1000)
      }
      // A price or rate moved only the day sums, which the series reads beside its flows: nothing
      // to recompute, only the lineage to move (in slices, one transaction each).
      const market = jobs.filter((j) => j.marketData)
      for (let i = 0; i < market.length; i += REFLECTED_PER_WRITE) {
        const slice = market.slice(i, i + REFLECTED_PER_WRITE)
        await deps.store.reflect(slice)
        observe(slice)
      }
      await inSlices(
        jobs.filter((j) => !j.marketData),
        (jobs) => deps.store.load(jobs),
        (w) => {
          const portfolio = seriesOfWindows(
            w.job.portfolioId,
            w.totals,
            w.cashflows,
            // A started window has every day; its bmv and emv are not stored (the day sums' are read).
            w.windows.map(({ from, to, started }) => ({
              fromDay: toEpochDay(from),
              toDay: toEpochDay(to),
              openingEmv: started ? ZERO : undefined,
            })),
            w.calendar,
          )
          return {
            job: w.job,
            windows: w.windows,
            portfolio,
            businessDate: w.businessDate,
            inputsAsOf: w.inputsAsOf,
          }
        },
        async (results) => {
          await deps.store.replace(results)
          observe(results.map((r) => r.job))
        },
        {
          stage: 'timeseries',
          batch,
          sink: deps.deadLetters,
          jobOf: (w) => w.job,
          daysOf: daysToToday,
          steps: deps.steps,
        },
      )
    },
  }
}
