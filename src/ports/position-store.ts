import type { FoldResult } from '../domain/positions.ts'
import type { FxRate, Instrument, Portfolio, PositionRow, Transaction } from '../domain/records.ts'
import type { Cancelled } from '../domain/transactions.ts'

/** "Recompute portfolio P from date D on." */
export type RecomputeRequest = { portfolioId: string; fromDate: string }

/** Everything the fold needs for one portfolio from its date on. */
export type PortfolioWork = {
  request: RecomputeRequest
  portfolio: Portfolio
  /** The last stored row of each position dated before fromDate. */
  before: PositionRow[]
  /** Effective transactions dated fromDate or later (cancelled ones and their CANCELs removed)... */
  transactions: Transaction[]
  /** CANCELs dated fromDate or later that take no effect (see applyCancels), with their rejection. */
  refusedCancels: Cancelled['refused']
  instruments: Instrument[]
  /** Rates from and to the portfolio's base currency and FX_PIVOT. */
  fx: FxRate[]
  /** When loading began: inputs committed before are reflected (lineage). */
  inputsAsOf: string
}

export type RecomputeResult = {
  request: RecomputeRequest
  result: FoldResult
  tradeDates: ReadonlyMap<string, string>
  inputsAsOf: string
}

export interface PositionStore {
  /** Work for each request whose portfolio is known; a portfolio not yet received is left out. */
  load(requests: readonly RecomputeRequest[]): Promise<PortfolioWork[]>
  /**
   * Replaces each portfolio's history, cashflows and rejections from its date on, in one
   * transaction. Returns the portfolios whose history changed (rows deleted or written).
   */
  replace(results: readonly RecomputeResult[]): Promise<ReadonlySet<string>>
  close(): Promise<void>
}
