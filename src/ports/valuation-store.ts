import type { PriceTable } from '../domain/market-data.ts'
import type { FxChanged, FxRate, Portfolio, PricesChanged, Span, ValuationJob } from '../domain/records.ts'
import type { DayDelta } from '../domain/revaluation.ts'
import type { DayTotal } from '../domain/timeseries.ts'
import type { HeldRow, PositionDay } from '../domain/valuation.ts'

/** Everything needed to value one portfolio from `job.fromDate` to the business date. */
export type ValuationWork = {
  job: ValuationJob
  portfolio: Portfolio
  /** The holidays of the portfolio's calendar when it names a holiday calendar (dates.ts), as ISO dates. */
  holidays: string[]
  businessDate: string
  /** Per position: its last history row before fromDate (if any), then its rows up to the business date. */
  histories: HeldRow[][]
  /** Prices from fromDate on, plus the latest before it, of the securities held (one table per load). */
  prices: PriceTable
  /** Rates from fromDate on, plus the latest before it, of the pairs with the base currency. */
  fx: readonly FxRate[]
  /** When loading began: inputs committed before are reflected (lineage). */
  inputsAsOf: string
  /**
   * The positions whose day sums were valued with other rows than their history from a date on
   * (sql/0021_valuation_pending.sql), with those rows; `whole` when the portfolio as a whole is
   * to be revalued from its date. Loaded at once with `histories`. The query API loads none.
   */
  pending: PendingPosition[]
  whole?: PendingMark
}

/** A valuation_pending row: from when, and which change of it was read. */
export type PendingMark = { fromDate: string; created: string; version: string }

/** A position valued with `rows` from `fromDate` on (and its history before). */
export type PendingPosition = PendingMark & { positionId: string; rows: HeldRow[] }

/**
 * One pending position revalued: per day, what its history adds to the sums now minus what its
 * valued rows added, and its unvalued days from `fromDate` on.
 */
export type Revision = PendingMark & { positionId: string; deltas: DayDelta[]; unvalued: PositionDay[] }

export type ValuationResult = {
  job: ValuationJob
  /** The spans revalued as a whole (the job's, unless it only announces changed positions). */
  revalued: Span[]
  /** The portfolio's day sums over `revalued` (what the series reads). */
  totals: DayTotal[]
  /** The position-days over `revalued` that could not be valued (domain/valuation.ts), with their reason. */
  unvalued: PositionDay[]
  /** The pending positions revalued alone, consumed if no change of theirs came in between. */
  revisions: Revision[]
  /** Pending positions whose valued rows `totals` used: the write is stale if one was consumed meanwhile. */
  relied: { positionId: string; created: string }[]
  /** The whole-portfolio mark the revaluation covered, consumed if unchanged. */
  whole?: PendingMark
  businessDate: string
  inputsAsOf: string
}

export interface ValuationStore {
  load(jobs: readonly ValuationJob[]): Promise<ValuationWork[]>
  /**
   * Replaces each portfolio's day sums over its revalued spans and adds its revisions' differences,
   * in one transaction.
   */
  replace(results: readonly ValuationResult[]): Promise<void>
  /** The fan-out: one job per portfolio that has held a security whose prices, or a currency whose rates, changed. */
  holders(prices: readonly PricesChanged[], fx: readonly FxChanged[]): Promise<ValuationJob[]>
  close(): Promise<void>
}
