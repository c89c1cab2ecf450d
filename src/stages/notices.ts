import type { Batch } from '../ports/event-log.ts'
import type { DeadLetter, DeadLetterSink } from '../ports/input-store.ts'

type Check<T> = { Check(value: unknown): value is T }

/** Parses the notices of a batch. They are written by pas itself: a malformed one is a bug to stop on, not data to park. */
export function parseNotices<T>(check: Check<T>, records: Batch['records']): T[] {
  return records.map((r) => {
    const value: unknown = JSON.parse(r.value)
    if (!check.Check(value)) throw new Error(`malformed ${r.topic} record at ${r.partition}/${r.offset}: ${r.value}`)
    return value
  })
}

/** One request per portfolio, from the earliest date any of them asked for. */
export function earliestPerPortfolio(requests: readonly { portfolioId: string; fromDate: string }[]) {
  const earliest = new Map<string, string>()
  for (const r of requests) {
    const seen = earliest.get(r.portfolioId)
    if (seen === undefined || r.fromDate < seen) earliest.set(r.portfolioId, r.fromDate)
  }
  return [...earliest].map(([portfolioId, fromDate]) => ({ portfolioId, fromDate }))
}

/**
 * How many portfolios one store round trip (load, compute, replace) takes. A batch can carry
 * hundreds of portfolio jobs; in slices, memory stays bounded and each write transaction short.
 * Each slice is idempotent (it replaces from a date), so a batch replayed after a crash between
 * slices redoes them harmlessly.
 */
export const PORTFOLIOS_PER_SLICE = 50

/**
 * A slice whose results reach this many rows is written before the rest is computed: a slice of
 * portfolios with years of history would otherwise hold millions of rows at once. Each write holds
 * whole portfolios, so it stays idempotent. One write per slice on the daily path (a day's rows).
 */
export const ROWS_PER_WRITE = 100_000

/**
 * The shape every per-portfolio stage shares: for each slice of jobs, load their inputs in one
 * round trip, compute each portfolio, then write the slice. Between portfolios it lets timers run:
 * the log's lease and session heartbeats live on the event loop, and a batch that computed for
 * longer than the session timeout without yielding would lose its partitions and be replayed.
 */
export async function inSlices<J, W, R>(
  jobs: readonly J[],
  load: (slice: J[]) => Promise<readonly W[]>,
  compute: (work: W) => R,
  write: (results: R[]) => Promise<void>,
  parking: Parking<W, R>,
): Promise<void> {
  const parked: DeadLetter[] = []
  for (let i = 0; i < jobs.length; i += PORTFOLIOS_PER_SLICE) {
    const work = await load(jobs.slice(i, i + PORTFOLIOS_PER_SLICE))
    let results: R[] = []
    let rows = 0
    for (const w of work) {
      // The engine refusing one portfolio's data (a row stored before today's rules, a bug) must
      // not stop every other portfolio: that one is parked, the rest go on.
      try {
        const result = compute(w)
        results.push(result)
        rows += parking.rowsOf?.(result) ?? 0
      } catch (error) {
        parked.push(parkedJob(parking.stage, parking.batch, parking.jobOf(w), error))
      }
      // Long histories make many rows: what is computed is written before it piles up.
      if (rows >= ROWS_PER_WRITE) {
        await write(results)
        results = []
        rows = 0
      }
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
    if (results.length > 0) await write(results)
  }
  await parking.sink.deadLetter(parked)
}

/**
 * Where inSlices parks a portfolio the engine could not compute: the stage, its batch, and the job
 * of a work item. `rowsOf` counts the rows a result will write, for stages whose results can be
 * large (valuation: one per position-day).
 */
export type Parking<W, R = unknown> = {
  stage: string
  batch: Batch
  sink: DeadLetterSink
  jobOf: (work: W) => { portfolioId: string; fromDate: string }
  rowsOf?: (result: R) => number
}

/**
 * A portfolio job the engine could not compute, as a dead letter: where its first notice in the
 * batch came from, and the job itself as the payload, so `pas dead-letters replay` asks again
 * from the same date once the data is fixed.
 */
function parkedJob(
  stage: string,
  batch: Batch,
  job: { portfolioId: string; fromDate: string },
  error: unknown,
): DeadLetter {
  const origin = batch.records.find((r) => r.key === job.portfolioId) ?? batch.records[0]
  return {
    stage,
    topic: origin?.topic ?? '',
    partition: origin?.partition ?? 0,
    offset: origin?.offset ?? 0n,
    key: job.portfolioId,
    payload: JSON.stringify(job),
    code: 'COMPUTE_FAILED',
    reason: `the engine could not compute portfolio ${job.portfolioId} from ${job.fromDate}: ${(error as Error)?.message ?? String(error)}`,
  }
}
