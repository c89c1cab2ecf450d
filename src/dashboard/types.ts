/** The API's answers as the dashboard reads them: the server's own schemas, so the two cannot drift. */
import type { Static } from '@sinclair/typebox'
import type {
  BenchmarkSummaryView,
  BenchmarkView,
  ConcentrationView,
  PerformanceView,
  PortfolioSeriesView,
  PortfolioView,
  ReviewView,
  RiskView,
  SupportView,
} from '../query/views.ts'

export type Portfolio = Static<typeof PortfolioView>
export type Review = Static<typeof ReviewView>
export type SeriesDay = Static<typeof PortfolioSeriesView>
export type Performance = Static<typeof PerformanceView>
export type Risk = Static<typeof RiskView>
export type Concentration = Static<typeof ConcentrationView>
export type Support = Static<typeof SupportView>
export type BenchmarkLevel = Static<typeof BenchmarkView>
export type BenchmarkSummary = Static<typeof BenchmarkSummaryView>
export type Page<T> = { items: T[]; total: number; limit: number; offset: number }
export type Stage = Support['stages'][number]

/** The state of a portfolio's pipeline in one word: the worst of its stages. */
export function pipelineState(support: Support): Stage['state'] {
  const order: Stage['state'][] = ['never-run', 'lagging', 'pending', 'current']
  let worst: Stage['state'] = 'current'
  for (const s of support.stages) if (order.indexOf(s.state) < order.indexOf(worst)) worst = s.state
  return support.stages.length === 0 ? 'never-run' : worst
}

/** When the last stage finished for this portfolio (its figures' last update), or null. */
export const lastUpdate = (support: Support): string | null =>
  support.stages.reduce<string | null>(
    (latest, s) => (s.completedAt !== null && (latest === null || s.completedAt > latest) ? s.completedAt : latest),
    null,
  )
