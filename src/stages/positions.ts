import { TypeCompiler } from '@sinclair/typebox/compiler'
import { FxTable } from '../domain/market-data.ts'
import { recompute } from '../domain/positions.ts'
import { TransactionsChanged } from '../domain/records.ts'
import type { Batch, EventLog } from '../ports/event-log.ts'
import type { PositionStore, RecomputeRequest, RecomputeResult } from '../ports/position-store.ts'
import type { Stage } from '../runtime/stage.ts'
import { Topics } from '../topology.ts'

const notice = TypeCompiler.Compile(TransactionsChanged)

/** One request per portfolio, from the earliest date any notice of the batch asked for. */
export function coalesce(batch: Batch): RecomputeRequest[] {
  const earliest = new Map<string, string>()
  for (const r of batch.records) {
    const value: unknown = JSON.parse(r.value)
    // Notices are written by persist; a malformed one is a bug to stop on, not data to park.
    if (!notice.Check(value)) throw new Error(`malformed ${r.topic} notice at ${r.partition}/${r.offset}: ${r.value}`)
    const seen = earliest.get(value.portfolioId)
    if (seen === undefined || value.fromDate < seen) earliest.set(value.portfolioId, value.fromDate)
  }
  return [...earliest].map(([portfolioId, fromDate]) => ({ portfolioId, fromDate }))
}

/**
 * positions: transactions.changed → position history, cashflows and rejections, then
 * positions.changed. Per batch: coalesce to the earliest date per portfolio, one load, the pure
 * fold on the stored state before that date, one replacing write (COPY, one transaction), the
 * notices, then the runner commits. Replaying a batch recomputes the same rows.
 * A portfolio whose record has not arrived yet is skipped: its arrival sends a notice from its open date.
 */
export function positionsStage(deps: { store: PositionStore; log: EventLog }): Stage {
  return {
    name: 'positions',
    group: 'pas.positions',
    inputs: [Topics.transactionsChanged],
    async process(batch: Batch) {
      const work = await deps.store.load(coalesce(batch))
      const results: RecomputeResult[] = work.map((w) => {
        const ctx = {
          portfolio: w.portfolio,
          instruments: new Map(w.instruments.map((i) => [i.securityId, i])),
          fx: FxTable.of(w.fx),
        }
        const tradeDates = new Map([...w.transactions, ...w.orphanCancels].map((t) => [t.transactionId, t.tradeDate]))
        return {
          request: w.request,
          result: recompute(w.before, [...w.transactions, ...w.orphanCancels], ctx),
          tradeDates,
          inputsAsOf: w.inputsAsOf,
        }
      })
      await deps.store.replace(results)
      await deps.log.append(
        Topics.positionsChanged,
        results.map(({ request }) => ({ key: request.portfolioId, value: JSON.stringify(request) })),
      )
    },
  }
}
