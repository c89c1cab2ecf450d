import { TypeCompiler } from '@sinclair/typebox/compiler'
import { toEpochDay } from '../domain/dates.ts'
import { dec } from '../domain/money.ts'
import { ValuationJob } from '../domain/records.ts'
import { coalesceJobs } from '../domain/spans.ts'
import { seriesOfWindows } from '../domain/timeseries.ts'
import type { Batch } from '../ports/event-log.ts'
import type { DeadLetterSink } from '../ports/input-store.ts'
import type { SeriesStore } from '../ports/series-store.ts'
import type { Stage } from '../runtime/stage.ts'
import { Topics } from '../topology.ts'
import { daysToToday, inSlices, NOTICES_PER_BATCH, parseNotices } from './notices.ts'

const notice = TypeCompiler.Compile(ValuationJob)

/**
 * timeseries: valuations.changed → the portfolio's daily series over the days revalued (from the
 * notified date to the business date, or the notice's spans and the day after each: domain/spans.ts
 * `seriesWindows`; docs/domain.md, Daily series), continuing from the stored point before each. The
 * store sums the day's valuations; a position's series is derived on read. The last hop: the query
 * API reads this table.
 */
export function timeseriesStage(deps: {
  store: SeriesStore
  deadLetters: DeadLetterSink
  /** Seconds from the oldest input behind a portfolio's notices being ingested to its series being written. */
  freshness?: (seconds: number) => void
}): Stage {
  return {
    name: 'timeseries',
    maxRecords: NOTICES_PER_BATCH,
    group: 'pas.timeseries',
    inputs: [Topics.valuationsChanged],
    async process(batch: Batch) {
      await inSlices(
        coalesceJobs(parseNotices(notice, batch.records)),
        (jobs) => deps.store.load(jobs),
        (w) => {
          const portfolio = seriesOfWindows(
            w.job.portfolioId,
            w.totals,
            w.cashflows,
            w.windows.map(({ from, to, openingEmv }) => ({
              fromDay: toEpochDay(from),
              toDay: toEpochDay(to),
              openingEmv: openingEmv === undefined ? undefined : dec(openingEmv),
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
          const now = Date.now()
          for (const { job } of results) if (job.since !== undefined) deps.freshness?.((now - job.since) / 1000)
        },
        { stage: 'timeseries', batch, sink: deps.deadLetters, jobOf: (w) => w.job, daysOf: daysToToday },
      )
    },
  }
}
