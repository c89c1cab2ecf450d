import { TypeCompiler } from '@sinclair/typebox/compiler'
import { toEpochDay } from '../domain/dates.ts'
import { dec } from '../domain/money.ts'
import { ValuationJob } from '../domain/records.ts'
import { portfolioSeries, positionSeries } from '../domain/timeseries.ts'
import { isCashPosition } from '../domain/transactions.ts'
import type { Batch } from '../ports/event-log.ts'
import type { DeadLetterSink } from '../ports/input-store.ts'
import type { SeriesStore } from '../ports/series-store.ts'
import type { Stage } from '../runtime/stage.ts'
import { Topics } from '../topology.ts'
import { earliestPerPortfolio, inSlices, parseNotices } from './notices.ts'

const notice = TypeCompiler.Compile(ValuationJob)

/**
 * timeseries: valuations.changed → position and portfolio daily series from the notified date to
 * the business date (docs/domain.md, Daily series), continuing from the stored point before it.
 * The last hop: the query API reads these tables.
 */
export function timeseriesStage(deps: { store: SeriesStore; deadLetters: DeadLetterSink }): Stage {
  return {
    name: 'timeseries',
    group: 'pas.timeseries',
    inputs: [Topics.valuationsChanged],
    async process(batch: Batch) {
      await inSlices(
        earliestPerPortfolio(parseNotices(notice, batch.records)),
        (jobs) => deps.store.load(jobs),
        (w) => {
          const [from, to] = [toEpochDay(w.job.fromDate), toEpochDay(w.businessDate)]
          const byPosition = Map.groupBy(w.valuations, (v) => v.positionId)
          const positions = [...byPosition].flatMap(([positionId, valuations]) => {
            // A cash position's flows are every movement of its currency; a security's, its own.
            const currency = positionId.slice('CASH:'.length)
            const flows = w.cashflows.filter((c) =>
              isCashPosition(positionId) ? c.currency === currency : c.positionId === positionId,
            )
            const opening = dec(w.openingEmv.positions.get(positionId) ?? '0')
            return positionSeries(positionId, valuations, flows, from, to, opening)
          })
          const opening = dec(w.openingEmv.portfolio)
          const portfolio = portfolioSeries(w.job.portfolioId, w.valuations, w.cashflows, from, to, opening)
          return { job: w.job, portfolio, positions, businessDate: w.businessDate, inputsAsOf: w.inputsAsOf }
        },
        (results) => deps.store.replace(results),
        { stage: 'timeseries', batch, sink: deps.deadLetters, jobOf: (w) => w.job },
      )
    },
  }
}
