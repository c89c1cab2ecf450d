import type { Batch } from '../ports/event-log.ts'

/** One hop of the flow: consumes `inputs` as consumer group `group`, one batch at a time. */
export type Stage = {
  readonly name: string
  readonly group: string
  readonly inputs: readonly string[]
  /**
   * Records per batch for this stage, instead of the process's setting (PAS_BATCH_MAX_RECORDS).
   * Stages whose records are notices that coalesce per portfolio read many at once: a backlog
   * then costs one pass over its portfolios, not one per few thousand notices.
   */
  readonly maxRecords?: number
  /**
   * Applies a batch; resolves once its effects are durable. The runner commits the batch's offsets
   * only after this resolves, so effects must be idempotent (a crash in between replays the batch).
   * Throw a retryable AppError to have the same batch retried with back-off.
   */
  process(batch: Batch): Promise<void>
}
