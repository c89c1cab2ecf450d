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
