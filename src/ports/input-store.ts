import type {
  BenchmarkPoint,
  BenchmarkSegment,
  BusinessDate,
  FxChanged,
  FxRate,
  Holiday,
  Instrument,
  Portfolio,
  Price,
  PricesChanged,
  Transaction,
  TransactionsChanged,
  ValuationJob,
} from '../domain/records.ts'

/**
 * A validated input with where it came from: the API key that wrote it (`open` when auth was off),
 * and its place in the raw log (transactions: so a redelivered batch does not count a correction twice).
 */
export type Written<T> = T & { writtenBy?: string; sourcePartition?: number; sourceOffset?: string }

/** Validated inputs of one batch, by kind, in log order. */
export type Inputs = {
  portfolios: Written<Portfolio>[]
  instruments: Written<Instrument>[]
  transactions: Written<Transaction>[]
  prices: Written<Price>[]
  fx: Written<FxRate>[]
  businessDates: BusinessDate[]
  benchmarks: Written<BenchmarkPoint>[]
  benchmarkSegments: Written<BenchmarkSegment>[]
  holidays: Written<Holiday>[]
}

/**
 * What must be recomputed after a merge, coalesced to the earliest date per key. Notices cover
 * every record of the batch, changed or not: a batch delivered again after a crash between the
 * merge and the notices must still produce them (recomputing is harmless, missing one is not).
 */
export type Notices = {
  transactions: TransactionsChanged[]
  prices: PricesChanged[]
  fx: FxChanged[]
  /**
   * After the business date moved: value every portfolio from the first day not yet valued; after
   * a holiday changed: value its calendar's portfolios from that day.
   */
  valuationJobs: ValuationJob[]
}

export type DeadLetter = {
  stage: string
  topic: string
  partition: number
  offset: bigint
  key: string
  payload: string
  code: string
  reason: string
}

export interface InputStore {
  /**
   * Merges the batch on natural keys (transaction id; portfolio; security; security + date;
   * pair + date) in one database transaction; the last record of a key in the batch wins. A
   * transaction id with new content is a correction: its notice starts at the older trade date.
   */
  merge(inputs: Inputs): Promise<Notices>
  /** Parks records a stage could not take. Idempotent per (stage, topic, partition, offset). */
  deadLetter(letters: readonly DeadLetter[]): Promise<void>
}

/** Where a stage parks what it could not take (dead_letters); idempotent per (stage, topic, partition, offset). */
export type DeadLetterSink = Pick<InputStore, 'deadLetter'>
