import type { Calendar } from '../domain/dates.ts'
import type { Cashflow, PortfolioSeriesPoint, ValuationJob } from '../domain/records.ts'
import type { DayTotal } from '../domain/timeseries.ts'

/**
 * Days of a portfolio's series to recompute, `from` to `to` inclusive (domain/spans.ts
 * `seriesWindows`), continuing from the point before `from`: its emv, or none when the series has
 * no point before (it starts at the first day with a value or a flow).
 */
export type SeriesWindow = { from: string; to: string; open: boolean; openingEmv: string | undefined }

/** Everything needed to recompute one portfolio's series over the days its job revalued. */
export type SeriesWork = {
  job: ValuationJob
  /** The portfolio's valuation calendar, holidays included (dates.ts): the days its series has points on. */
  calendar: Calendar
  businessDate: string
  windows: SeriesWindow[]
  /** Per calendar day of the windows, the sum of the valued positions (summed by the store). */
  totals: DayTotal[]
  /** The windows' cashflows, and those of the weekend before each (they count on its Monday). */
  cashflows: Cashflow[]
  /** When loading began: inputs committed before are reflected (lineage). */
  inputsAsOf: string
}

export type SeriesResult = {
  job: ValuationJob
  /**
   * The days replaced: every stored point in them (and, for an `open` window, every one after it)
   * is deleted and `portfolio` written instead.
   */
  windows: readonly { from: string; to: string; open: boolean }[]
  portfolio: PortfolioSeriesPoint[]
  businessDate: string
  inputsAsOf: string
}

export interface SeriesStore {
  load(jobs: readonly ValuationJob[]): Promise<SeriesWork[]>
  replace(results: readonly SeriesResult[]): Promise<void>
  close(): Promise<void>
}
