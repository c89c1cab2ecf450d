import { toEpochDay } from '../domain/dates.ts'
import { earlier } from '../domain/spans.ts'
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

type Request = { portfolioId: string; fromDate: string; since?: number | undefined; positions?: string[] | undefined }

/**
 * One request per portfolio, from the earliest date any of them asked for, with the earliest
 * ingest time (`since`) any of them carries, and the positions they name together: none (every
 * position) if any of them names none.
 */
export function earliestPerPortfolio(requests: readonly Request[]): Request[] {
  const earliest = new Map<string, Request>()
  for (const r of requests) {
    const seen = earliest.get(r.portfolioId)
    const since = earlier(seen?.since, r.since)
    const fromDate = seen === undefined || r.fromDate < seen.fromDate ? r.fromDate : seen.fromDate
    const positions =
      seen === undefined
        ? r.positions
        : seen.positions === undefined || r.positions === undefined
          ? undefined
          : [...new Set([...seen.positions, ...r.positions])]
    earliest.set(r.portfolioId, {
      portfolioId: r.portfolioId,
      fromDate,
      ...(since === undefined ? {} : { since }),
      ...(positions === undefined ? {} : { positions }),
    })
  }
  return [...earliest.values()]
}

/** The earliest append time of a batch's records: the `since` of the notices it makes. */
export const sinceOf = (records: readonly { timestampMs: number }[]): number | undefined =>
  records.reduce<number | undefined>((min, r) => earlier(min, r.timestampMs), undefined)

/**
 * Notices per batch of the stages that read them (positions, the fan-out, valuation, series). A
 * notice names a portfolio (or a security) and a date, and a batch's notices coalesce into one
 * job per portfolio (or security) with its earliest date, so a big batch costs what its
 * portfolios cost. On a large book, late prices read 5,000 notices at a time fanned out into a job
 * for every holder per batch (~570k jobs), and the valuation stage valued every portfolio again
 * per 5,000 of them.
 */
export const NOTICES_PER_BATCH = 100_000

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
 * A slice also ends once its jobs span this many days (`Parking.daysOf`): fifty portfolios'
 * year. The valuation stage loads every price its slice's portfolios hold over the slice's days,
 * so fifty new portfolios with five years each, holding fifty of 2,000 securities, would load
 * nearly every price of five years at once (GBs); by days, a slice of long jobs holds about ten.
 * The positions and series stages load each portfolio's transactions or days since its date, so
 * they slice the same way.
 */
export const DAYS_PER_SLICE = 50 * 366

/**
 * A job's days, counted from its date to today (the business date is not known before the
 * load): the weight DAYS_PER_SLICE bounds.
 */
export const daysToToday = (job: { fromDate: string }): number =>
  Math.max(1, Math.floor(Date.now() / 86_400_000) - toEpochDay(job.fromDate) + 1)

/** Jobs in slices of at most PORTFOLIOS_PER_SLICE, and DAYS_PER_SLICE days where jobs have days. */
function* slices<J>(jobs: readonly J[], daysOf: ((job: J) => number) | undefined): Generator<J[]> {
  let slice: J[] = []
  let days = 0
  for (const job of jobs) {
    const d = daysOf?.(job) ?? 0
    if (slice.length > 0 && (slice.length >= PORTFOLIOS_PER_SLICE || days + d > DAYS_PER_SLICE)) {
      yield slice
      slice = []
      days = 0
    }
    slice.push(job)
    days += d
  }
  if (slice.length > 0) yield slice
}

/**
 * The shape every per-portfolio stage shares: for each slice of jobs, load their inputs in one
 * round trip, compute each portfolio, then write the slice. Between portfolios it lets timers run:
 * the log's lease and session heartbeats live on the event loop, and a batch that computed for
 * longer than the session timeout without yielding would lose its partitions and be replayed.
 *
 * The next slice is loaded while this one is computed and written: PostgreSQL reads while the
 * stage computes. Slices hold different portfolios, so no load reads what the slice before it
 * writes; a write still checks, under its portfolios' locks, that what it read is current.
 */
export async function inSlices<J, W, R>(
  jobs: readonly J[],
  load: (slice: J[]) => Promise<readonly W[]>,
  compute: (work: W) => R,
  write: (results: R[]) => Promise<void>,
  parking: Parking<W, R, J>,
): Promise<void> {
  const parked: DeadLetter[] = []
  const all = [...slices(jobs, parking.daysOf)]
  const loading = (i: number) => {
    const slice = all[i]
    if (slice === undefined) return undefined
    const loaded = load(slice)
    loaded.catch(() => {}) // awaited below; a batch that fails before then drops it
    return loaded
  }
  let next = loading(0)
  for (let i = 0; next !== undefined; i++) {
    const waited = performance.now()
    const work = await next
    parking.steps?.('load', (performance.now() - waited) / 1000)
    next = loading(i + 1)
    let results: R[] = []
    let rows = 0
    let computing = 0
    for (const w of work) {
      // The engine refusing one portfolio's data (a row stored before today's rules, a bug) must
      // not stop every other portfolio: that one is parked, the rest go on.
      try {
        const started = performance.now()
        const result = compute(w)
        computing += performance.now() - started
        results.push(result)
        rows += parking.rowsOf?.(result) ?? 0
      } catch (error) {
        parked.push(parkedJob(parking.stage, parking.batch, parking.jobOf(w), error))
      }
      // Long histories make many rows: what is computed is written before it piles up.
      if (rows >= ROWS_PER_WRITE) {
        await timed(parking.steps, () => write(results))
        results = []
        rows = 0
      }
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
    parking.steps?.('compute', computing / 1000)
    if (results.length > 0) await timed(parking.steps, () => write(results))
  }
  await parking.sink.deadLetter(parked)
}

/**
 * A slice's steps, timed (pas_stage_slice_step_seconds): `load`, how long the stage waited for its
 * inputs (the next slice loads while one is computed and written, so only what that did not hide);
 * `compute`, its portfolios computed; `write`, each write with what follows it (the notices).
 */
export type SliceStep = 'load' | 'compute' | 'write'
export type StepTimer = (step: SliceStep, seconds: number) => void

async function timed(steps: StepTimer | undefined, write: () => Promise<void>): Promise<void> {
  const started = performance.now()
  await write()
  steps?.('write', (performance.now() - started) / 1000)
}

/**
 * Where inSlices parks a portfolio the engine could not compute: the stage, its batch, and the job
 * of a work item. `rowsOf` counts the rows a result will write, for stages whose results can be
 * large (valuation: one per position-day).
 */
export type Parking<W, R = unknown, J = unknown> = {
  stage: string
  /** Told each slice's steps and how long they took (SliceStep). */
  steps?: StepTimer | undefined
  batch: Batch
  sink: DeadLetterSink
  jobOf: (work: W) => { portfolioId: string; fromDate: string }
  rowsOf?: (result: R) => number
  /** The days a job covers, for stages whose loads grow with them (DAYS_PER_SLICE). */
  daysOf?: (job: J) => number
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
