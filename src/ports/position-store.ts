import type { FoldResult, FoldScope } from '../domain/positions.ts'
import type { FxRate, Instrument, Portfolio, PositionRow, Transaction } from '../domain/records.ts'
import type { Cancelled } from '../domain/transactions.ts'

/**
 * "Recompute portfolio P from date D on": every position, or with `positions` only those (the
 * positions the changed transactions name) and what they reach (domain/positions.ts `scopeOf`).
 */
export type RecomputeRequest = { portfolioId: string; fromDate: string; positions?: string[] }

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
  fx: readonly FxRate[]
  /** When loading began: inputs committed before are reflected (lineage). */
  inputsAsOf: string
  /**
   * Set when only some positions are folded (the request named them and no CANCEL is loaded):
   * with `loaded`, the ids of every transaction above, and `positionCount`, how many positions the
   * portfolio has (the positions stage's choice between marking positions or the whole portfolio).
   */
  scope?: FoldScope & { loaded: string[]; positionCount: number }
}

/** What a fold over some positions wrote (PortfolioWork `scope`): the replacing write touches those only. */
export type WrittenScope = {
  positions: string[]
  /** The transactions whose own position is in scope: their cashflows and rejections are rewritten. */
  own: string[]
  loaded: string[]
  positionCount: number
}

export type RecomputeResult = {
  request: RecomputeRequest
  result: FoldResult
  tradeDates: ReadonlyMap<string, string>
  inputsAsOf: string
  scope?: WrittenScope
}

export interface PositionStore {
  /** Work for each request whose portfolio is known; a portfolio not yet received is left out. */
  load(requests: readonly RecomputeRequest[]): Promise<PortfolioWork[]>
  /**
   * Replaces each portfolio's history, cashflows and rejections from its date on, in one
   * transaction. Returns the portfolios whose history changed (rows deleted or written), each with
   * the dates of the cashflows it wrote, replaced or removed (sorted).
   */
  replace(results: readonly RecomputeResult[]): Promise<ReadonlyMap<string, readonly string[]>>
  close(): Promise<void>
}
