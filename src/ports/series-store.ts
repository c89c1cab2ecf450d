import type { Cashflow, PortfolioSeriesPoint, PositionSeriesPoint, Valuation, ValuationJob } from '../domain/records.ts'

/** Everything needed to recompute one portfolio's series from `job.fromDate` to the business date. */
export type SeriesWork = {
  job: ValuationJob
  businessDate: string
  valuations: Valuation[]
  cashflows: Cashflow[]
  /** The stored emv of the last point before fromDate: the portfolio's, and each position's. */
  openingEmv: { portfolio: string; positions: ReadonlyMap<string, string> }
  /** When loading began: inputs committed before are reflected (lineage). */
  inputsAsOf: string
}

export type SeriesResult = {
  job: ValuationJob
  portfolio: PortfolioSeriesPoint[]
  positions: PositionSeriesPoint[]
  businessDate: string
  inputsAsOf: string
}

export interface SeriesStore {
  load(jobs: readonly ValuationJob[]): Promise<SeriesWork[]>
  replace(results: readonly SeriesResult[]): Promise<void>
  close(): Promise<void>
}
