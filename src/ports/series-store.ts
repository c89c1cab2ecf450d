import type { Cashflow, PortfolioSeriesPoint, ValuationJob } from '../domain/records.ts'
import type { DayTotal } from '../domain/timeseries.ts'

/** Everything needed to recompute one portfolio's series from `job.fromDate` to the business date. */
export type SeriesWork = {
  job: ValuationJob
  businessDate: string
  /** Per business day from fromDate, the sum of the valued positions (summed by the store). */
  totals: DayTotal[]
  /** The positions valued from fromDate on (for lineage). */
  positionIds: string[]
  cashflows: Cashflow[]
  /** The stored emv of the portfolio's last point before fromDate. */
  openingEmv: string
  /** When loading began: inputs committed before are reflected (lineage). */
  inputsAsOf: string
}

export type SeriesResult = {
  job: ValuationJob
  portfolio: PortfolioSeriesPoint[]
  positionIds: string[]
  businessDate: string
  inputsAsOf: string
}

export interface SeriesStore {
  load(jobs: readonly ValuationJob[]): Promise<SeriesWork[]>
  replace(results: readonly SeriesResult[]): Promise<void>
  close(): Promise<void>
}
