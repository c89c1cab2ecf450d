import { TypeCompiler } from '@sinclair/typebox/compiler'
import { toEpochDay } from '../domain/dates.ts'
import { FxTable } from '../domain/market-data.ts'
import { FxChanged, PricesChanged, ValuationJob } from '../domain/records.ts'
import { coalesceJobs, earlier, spansOf } from '../domain/spans.ts'
import { summarize } from '../domain/timeseries.ts'
import { valueDays } from '../domain/valuation.ts'
import type { Batch, EventLog } from '../ports/event-log.ts'
import type { DeadLetterSink } from '../ports/input-store.ts'
import type { ValuationStore } from '../ports/valuation-store.ts'
import type { Stage } from '../runtime/stage.ts'
import { Topics } from '../topology.ts'
import { daysToToday, inSlices, NOTICES_PER_BATCH, parseNotices } from './notices.ts'

const job = TypeCompiler.Compile(ValuationJob)
const priceNotice = TypeCompiler.Compile(PricesChanged)
const fxNotice = TypeCompiler.Compile(FxChanged)

/**
 * The fan-out: a new or corrected price of security S on date D becomes one valuation job per
 * portfolio holding S, for the days from D to S's next price, keyed by portfolio, so the valuation
 * stage's partitions spread the work and jobs for one portfolio coalesce; FX changes revalue the
 * currency's holders from the rate's date on.
 */
export function valuationFanoutStage(deps: { store: ValuationStore; log: EventLog }): Stage {
  return {
    name: 'valuation-fanout',
    maxRecords: NOTICES_PER_BATCH,
    group: 'pas.valuation-fanout',
    inputs: [Topics.pricesChanged, Topics.fxChanged],
    async process(batch: Batch) {
      const prices = parseNotices(
        priceNotice,
        batch.records.filter((r) => r.topic === Topics.pricesChanged),
      )
      const fx = parseNotices(
        fxNotice,
        batch.records.filter((r) => r.topic === Topics.fxChanged),
      )
      const since = [...prices, ...fx].reduce<number | undefined>((min, n) => earlier(min, n.since), undefined)
      const jobs = coalesceJobs(
        (await deps.store.holders(prices, fx)).map((j) => (since === undefined ? j : { ...j, since })),
      )
      await deps.log.append(
        Topics.valuationJobs,
        jobs.map((j) => ({ key: j.portfolioId, value: JSON.stringify(j) })),
      )
    },
  }
}

/**
 * Values jobs elsewhere (ValuationPool: worker threads, keyed by portfolio), calling `written` with
 * the jobs of each slice once their rows are written.
 */
export type JobValuer = {
  value(jobs: readonly ValuationJob[], batch: Batch, written: (jobs: ValuationJob[]) => Promise<void>): Promise<void>
}

/**
 * valuation: positions.changed and valuation.jobs → daily valuations of every position from the
 * job's date to the business date (docs/domain.md, Valuation), or over the job's spans only,
 * replacing what was there on those days, then valuations.changed. A price or FX rate that arrives
 * late fills the unvalued days. With a pool, the portfolios are valued on its worker threads.
 */
export function valuationStage(deps: {
  store: ValuationStore
  log: EventLog
  deadLetters: DeadLetterSink
  pool?: JobValuer | undefined
}): Stage {
  // The series recompute the days revalued (the spans, when the job has them) and the day after each.
  const announce = (jobs: readonly ValuationJob[]) =>
    deps.log.append(
      Topics.valuationsChanged,
      jobs.map((j) => ({ key: j.portfolioId, value: JSON.stringify(j) })),
    )
  return {
    name: 'valuation',
    maxRecords: NOTICES_PER_BATCH,
    group: 'pas.valuation',
    inputs: [Topics.positionsChanged, Topics.valuationJobs],
    async process(batch: Batch) {
      const jobs = coalesceJobs(parseNotices(job, batch.records))
      if (deps.pool) await deps.pool.value(jobs, batch, announce)
      else await valueJobs(deps.store, deps.deadLetters, jobs, batch, announce)
    },
  }
}

/**
 * Values the jobs' portfolios slice by slice (load, compute, replace) and calls `written` with
 * each slice's jobs once their rows are written; a portfolio the engine cannot value is parked.
 * Runs on the stage's thread or on a pool's worker (src/stages/valuation-worker.ts).
 */
export async function valueJobs(
  store: ValuationStore,
  deadLetters: DeadLetterSink,
  jobs: readonly ValuationJob[],
  batch: Batch,
  written: (jobs: ValuationJob[]) => Promise<void>,
): Promise<void> {
  // Work items of one load share the FX rows: index them once, not per portfolio.
  const fxTables = new WeakMap<object, FxTable>()
  await inSlices(
    jobs,
    (slice) => store.load(slice),
    (w) => {
      const fx = fxTables.get(w.fx) ?? FxTable.of(w.fx)
      fxTables.set(w.fx, fx)
      const ctx = { portfolio: w.portfolio, prices: w.prices, fx }
      const last = toEpochDay(w.businessDate)
      const days = spansOf(w.job).map(({ from, until }): [number, number] => [
        toEpochDay(from),
        until === undefined ? last : Math.min(last, toEpochDay(until) - 1),
      ])
      // One position's days at a time: only the sums and the unvalued days are kept.
      const kept = summarize(
        (function* () {
          for (const h of w.histories) for (const [from, to] of days) yield* valueDays(h, from, to, ctx)
        })(),
      )
      return { job: w.job, ...kept, businessDate: w.businessDate, inputsAsOf: w.inputsAsOf }
    },
    async (results) => {
      await store.replace(results)
      await written(results.map((r) => r.job))
    },
    {
      stage: 'valuation',
      batch,
      sink: deadLetters,
      jobOf: (w) => w.job,
      rowsOf: (r) => r.totals.length + r.unvalued.length,
      daysOf: daysToToday,
    },
  )
}
