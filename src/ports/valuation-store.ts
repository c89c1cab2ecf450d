import type { PriceTable } from '../domain/market-data.ts'
import type { FxChanged, FxRate, Portfolio, PricesChanged, ValuationJob } from '../domain/records.ts'
import type { DayTotal } from '../domain/timeseries.ts'
import type { HeldRow, PositionDay } from '../domain/valuation.ts'

/** Everything needed to value one portfolio from `job.fromDate` to the business date. */
export type ValuationWork = {
  job: ValuationJob
  portfolio: Portfolio
  businessDate: string
  /** Per position: its last history row before fromDate (if any), then its rows up to the business date. */
  histories: HeldRow[][]
  /** Prices from fromDate on, plus the latest before it, of the securities held (one table per load). */
  prices: PriceTable
  /** Rates from fromDate on, plus the latest before it, of the pairs with the base currency. */
  fx: FxRate[]
  /** When loading began: inputs committed before are reflected (lineage). */
  inputsAsOf: string
}

export type ValuationResult = {
  job: ValuationJob
  /** The portfolio's day sums from the job's date on (what the series reads). */
  totals: DayTotal[]
  /** The position-days that could not be valued (domain/valuation.ts), with their reason. */
  unvalued: PositionDay[]
  businessDate: string
  inputsAsOf: string
}

export interface ValuationStore {
  load(jobs: readonly ValuationJob[]): Promise<ValuationWork[]>
  /** Replaces each portfolio's valuations from its date on, in one transaction. */
  replace(results: readonly ValuationResult[]): Promise<void>
  /** The fan-out: one job per portfolio that has held a security whose prices, or a currency whose rates, changed. */
  holders(prices: readonly PricesChanged[], fx: readonly FxChanged[]): Promise<ValuationJob[]>
  close(): Promise<void>
}
