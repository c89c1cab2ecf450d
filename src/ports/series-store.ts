import type { Calendar } from '../domain/dates.ts'
import type { Cashflow, PortfolioSeriesPoint, ValuationJob } from '../domain/records.ts'
import type { DayTotal } from '../domain/timeseries.ts'

/**
 * Days of a portfolio's series to recompute, `from` to `to` inclusive (domain/spans.ts
 * `seriesWindows`): `started` when the series has a point before `from` (then it has every day of
 * the window); otherwise it starts at the window's first day with a value or a flow.
 */
export type SeriesWindow = { from: string; to: string; open: boolean; started: boolean }

/** Everything needed to recompute one portfolio's series over the days its job revalued. */
export type SeriesWork = {
  job: ValuationJob
  /** The portfolio's valuation calendar, holidays included (dates.ts): the days its series has points on. */
  calendar: Calendar
  businessDate: string
  windows: SeriesWindow[]
  /**
   * Per calendar day of the windows not `started`, the sum of the valued positions: where the
   * series starts. The stored series holds the flows; emv and bmv are the day sums' (sql/0026).
   */
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
   * is deleted and `portfolio`'s flows written instead; a month whose flows come out as stored is
   * left as it is.
   */
  windows: readonly { from: string; to: string; open: boolean }[]
  portfolio: PortfolioSeriesPoint[]
  businessDate: string
  inputsAsOf: string
}

export interface SeriesStore {
  load(jobs: readonly ValuationJob[]): Promise<SeriesWork[]>
  replace(results: readonly SeriesResult[]): Promise<void>
  /**
   * Records in the lineage that these portfolios' series reflect the inputs committed by now,
   * recomputing nothing: their jobs are market data's (records.ts, ValuationJob), which move the
   * day sums the series reads beside its flows, never the flows or the days.
   */
  reflect(jobs: readonly ValuationJob[]): Promise<void>
  close(): Promise<void>
}
