import { TypeCompiler } from '@sinclair/typebox/compiler'
import { FxTable } from '../domain/market-data.ts'
import { type FoldScope, primaryPosition, recompute } from '../domain/positions.ts'
import { type Transaction, TransactionsChanged } from '../domain/records.ts'
import type { Batch, EventLog } from '../ports/event-log.ts'
import type { DeadLetterSink } from '../ports/input-store.ts'
import type { PositionStore, RecomputeResult, WrittenScope } from '../ports/position-store.ts'
import type { Stage } from '../runtime/stage.ts'
import { Topics } from '../topology.ts'
import {
  daysToToday,
  earliestPerPortfolio,
  inSlices,
  NOTICES_PER_BATCH,
  parseNotices,
  type StepTimer,
} from './notices.ts'

/** What a fold over `scope` wrote, for the replacing write to touch only that. */
const writtenScope = (
  scope: FoldScope & { loaded: string[]; positionCount: number },
  transactions: readonly Transaction[],
): WrittenScope => ({
  positions: [...scope.positions],
  own: transactions.filter((t) => scope.positions.has(primaryPosition(t))).map((t) => t.transactionId),
  loaded: scope.loaded,
  positionCount: scope.positionCount,
})

const notice = TypeCompiler.Compile(TransactionsChanged)

/**
 * positions: transactions.changed → position history, cashflows and rejections, then
 * positions.changed. Per batch: coalesce to the earliest date per portfolio, one load, the pure
 * fold on the stored state before that date, one replacing write (COPY, one transaction), the
 * notices, then the runner commits. Replaying a batch recomputes the same rows.
 * A portfolio whose record has not arrived yet is skipped: its arrival sends a notice from its open date.
 */
export function positionsStage(deps: {
  store: PositionStore
  log: EventLog
  deadLetters: DeadLetterSink
  /** Told each slice's steps (pas_stage_slice_step_seconds). */
  steps?: StepTimer | undefined
}): Stage {
  return {
    name: 'positions',
    maxRecords: NOTICES_PER_BATCH,
    group: 'pas.positions',
    inputs: [Topics.transactionsChanged],
    async process(batch: Batch) {
      await inSlices(
        earliestPerPortfolio(parseNotices(notice, batch.records)),
        (requests) => deps.store.load(requests),
        (w): RecomputeResult => {
          const ctx = {
            portfolio: w.portfolio,
            instruments: new Map(w.instruments.map((i) => [i.securityId, i])),
            fx: FxTable.ofShared(w.fx),
          }
          const folded = recompute(w.before, w.transactions, ctx, w.scope)
          const refused = w.refusedCancels
          return {
            request: w.request,
            result: { ...folded, rejections: [...folded.rejections, ...refused.map((r) => r.rejection)] },
            tradeDates: new Map(
              [...w.transactions, ...refused.map((r) => r.cancel)].map((t) => [t.transactionId, t.tradeDate]),
            ),
            inputsAsOf: w.inputsAsOf,
            ...(w.scope ? { scope: writtenScope(w.scope, w.transactions) } : {}),
          }
        },
        async (results) => {
          const changed = await deps.store.replace(results)
          // Only what changed goes downstream: a portfolio with no history before or after (its
          // record arrived before its trades) would only be revalued to nothing. A change of
          // transactions names the days whose flows it moved; any other (the portfolio's record,
          // whose calendar decides the series' days) leaves the series to recompute every day.
          await deps.log.append(
            Topics.positionsChanged,
            results.flatMap(({ request: { positions, ...job } }) => {
              const flows = changed.get(job.portfolioId)
              if (flows === undefined) return []
              return [{ key: job.portfolioId, value: JSON.stringify(positions ? { ...job, flows } : job) }]
            }),
          )
        },
        {
          stage: 'positions',
          batch,
          sink: deps.deadLetters,
          jobOf: (w) => w.request,
          daysOf: daysToToday,
          steps: deps.steps,
        },
      )
    },
  }
}
