import type { EventLog } from '../ports/event-log.ts'
import { Topics } from '../topology.ts'

/** A portfolio to recompute from a date: its positions, then its valuations and series. */
export type Reprocess = { portfolioId: string; fromDate: string }

/** The stages a reprocess runs again, in order. */
export const REPROCESSED_STAGES = ['positions', 'valuation', 'timeseries'] as const

/**
 * Schedules a recompute: a notice to the positions stage (which recomputes the portfolio from the
 * date and sends valuation its work) and one to the valuation stage (so valuations and series come
 * back even when the positions did not change). The stages replace what they wrote from the date,
 * so scheduling twice costs a second pass and changes nothing.
 */
export async function scheduleReprocess(log: EventLog, requests: readonly Reprocess[]): Promise<void> {
  const records = requests.map((r) => ({
    key: r.portfolioId,
    value: JSON.stringify({ portfolioId: r.portfolioId, fromDate: r.fromDate }),
  }))
  await log.append(Topics.transactionsChanged, records)
  await log.append(Topics.valuationJobs, records)
}
