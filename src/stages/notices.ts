import type { Batch } from '../ports/event-log.ts'

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

export function* slices<T>(items: readonly T[], size = PORTFOLIOS_PER_SLICE): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size)
}

/**
 * Lets timers run between CPU-bound steps: the log's lease and session heartbeats live on the
 * event loop, and a batch that computes for longer than the session timeout without yielding
 * would lose its partitions and be replayed.
 */
export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve))
