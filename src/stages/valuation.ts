import { TypeCompiler } from '@sinclair/typebox/compiler'
import { calendarOf, toEpochDay } from '../domain/dates.ts'
import { FxTable } from '../domain/market-data.ts'
import { FxChanged, PricesChanged, ValuationJob } from '../domain/records.ts'
import { dayDeltas, valuedRows } from '../domain/revaluation.ts'
import { coalesceJobs, coalesceValuationJobs, earlier, mergeSpans, spansOf } from '../domain/spans.ts'
import { summarize } from '../domain/timeseries.ts'
import { valueDays, valueRanges } from '../domain/valuation.ts'
import type { Batch, EventLog } from '../ports/event-log.ts'
import type { DeadLetterSink } from '../ports/input-store.ts'
import type { ValuationResult, ValuationStore, ValuationWork } from '../ports/valuation-store.ts'
import type { Stage } from '../runtime/stage.ts'
import { Topics } from '../topology.ts'
import { daysToToday, inSlices, NOTICES_PER_BATCH, parseNotices, type StepTimer } from './notices.ts'

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
        (await deps.store.holders(prices, fx)).map(
          (j): ValuationJob => ({
            ...j,
            ...(since === undefined ? {} : { since }),
            marketData: true,
          }),
        ),
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
  /** Told each slice's steps (pas_stage_slice_step_seconds); a pool tells its own (ValuationPool). */
  steps?: StepTimer | undefined
}): Stage {
  // The series recompute the days revalued (the spans, when the job has them) and the day after
  // each: also where only cashflows changed, or only pending positions were revalued.
  const announce = (jobs: readonly ValuationJob[]) =>
    deps.log.append(
      Topics.valuationsChanged,
      jobs.map(({ revalue: _, ...j }) => ({ key: j.portfolioId, value: JSON.stringify(j) })),
    )
  return {
    name: 'valuation',
    maxRecords: NOTICES_PER_BATCH,
    group: 'pas.valuation',
    inputs: [Topics.positionsChanged, Topics.valuationJobs],
    async process(batch: Batch) {
      // A positions notice revalues only the positions it changed, which the positions stage
      // recorded as pending (domain/revaluation.ts); jobs revalue their spans as a whole.
      const jobs = coalesceValuationJobs([
        ...parseNotices(
          job,
          batch.records.filter((r) => r.topic === Topics.positionsChanged),
        ).map((j) => ({ ...j, revalue: [] })),
        ...parseNotices(
          job,
          batch.records.filter((r) => r.topic !== Topics.positionsChanged),
        ),
      ])
      if (deps.pool) await deps.pool.value(jobs, batch, announce)
      else await valueJobs(deps.store, deps.deadLetters, jobs, batch, announce, deps.steps)
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
  steps?: StepTimer,
): Promise<void> {
  // Work items share the FX rows (of one load, and of every load while the rates are unchanged):
  // index them once, not per portfolio.
  await inSlices(
    jobs,
    (slice) => store.load(slice),
    (w) => valueWork(w, FxTable.ofShared(w.fx)),
    async (results) => {
      await store.replace(results)
      await written(results.map((r) => r.job))
    },
    {
      stage: 'valuation',
      batch,
      sink: deadLetters,
      jobOf: (w) => w.job,
      rowsOf: (r) =>
        r.totals.length + r.unvalued.length + r.revisions.reduce((n, v) => n + v.deltas.length + v.unvalued.length, 0),
      daysOf: daysToToday,
      steps,
    },
  )
}

/**
 * One portfolio's valuation: its revalued spans as a whole (pending positions with the rows their
 * sums hold), and each pending position alone (domain/revaluation.ts). `fx` indexes `work.fx`.
 */
export function valueWork(w: ValuationWork, fx: FxTable): ValuationResult {
  const ctx = { portfolio: w.portfolio, prices: w.prices, fx, calendar: calendarOf(w.portfolio, w.holidays) }
  const last = toEpochDay(w.businessDate)
  const revalued = mergeSpans([...(w.job.revalue ?? spansOf(w.job)), ...(w.whole ? [{ from: w.whole.fromDate }] : [])])
  const days = revalued.map(({ from, until }): [number, number] => [
    toEpochDay(from),
    until === undefined ? last : Math.min(last, toEpochDay(until) - 1),
  ])
  // A pending position's days in the sums are its valued rows' until its revision is written.
  const current = new Map(w.histories.map((h) => [h[0]?.positionId, h]))
  const valued = new Map(
    w.pending.map((p) => [p.positionId, valuedRows(current.get(p.positionId) ?? [], p.fromDate, p.rows)]),
  )
  const histories = [
    ...w.histories.map((h) => valued.get(h[0]?.positionId ?? '') ?? h),
    ...w.pending.filter((p) => !current.has(p.positionId)).map((p) => valued.get(p.positionId) ?? []),
  ]
  // One position's days at a time: only the sums and the unvalued days are kept.
  const kept = summarize(
    (function* () {
      for (const h of histories) yield* valueRanges(h, days, ctx)
    })(),
  )
  const revisions = w.pending.map((p) => {
    const from = toEpochDay(p.fromDate)
    const now = valueDays(current.get(p.positionId) ?? [], from, last, ctx)
    const before = valueDays(valued.get(p.positionId) ?? [], from, last, ctx)
    const { rows: _, ...mark } = p
    return { ...mark, deltas: dayDeltas(now, before), unvalued: now.filter((d) => d.status !== 'VALUED') }
  })
  return {
    job: w.job,
    revalued,
    ...kept,
    revisions,
    relied: revalued.length > 0 ? w.pending.map((p) => ({ positionId: p.positionId, created: p.created })) : [],
    ...(w.whole ? { whole: w.whole } : {}),
    businessDate: w.businessDate,
    inputsAsOf: w.inputsAsOf,
  }
}
