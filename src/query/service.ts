import { type Static, type TSchema, Type } from '@sinclair/typebox'
import type { Sql } from '../adapters/pg-client.ts'
import { type AttributionRequest, attribution } from './attribution.ts'
import { concentration } from './concentration.ts'
import type { PeriodRequest } from './context.ts'
import { contribution, mwr, type PerformanceRequest, performance } from './performance.ts'
import { positionAnalytics } from './position-analytics.ts'
import { positions, type ReviewSection, review } from './review.ts'
import { type RiskRequest, risk } from './risk.ts'
import { summary } from './summary.ts'
import { lineage, support } from './support.ts'
import {
  AttributionView,
  ConcentrationView,
  ContributionView,
  LineageView,
  MwrView,
  PerformanceView,
  PositionAnalyticsView,
  PositionView,
  ReviewView,
  RiskView,
  SummaryView,
  SupportView,
} from './views.ts'

export type { AttributionRequest } from './attribution.ts'
export { type PeriodRequest, QueryError, unknownPortfolio } from './context.ts'
export { twrConventions } from './performance.ts'
export type { Frequency, RiskRequest } from './risk.ts'

/** The questions QueryService answers: what a QueryPool hands to its worker threads. */
export type QueryMethod =
  | 'performance'
  | 'mwr'
  | 'contribution'
  | 'attribution'
  | 'risk'
  | 'concentration'
  | 'review'
  | 'summary'
  | 'positionAnalytics'
  | 'positions'
  | 'lineage'
  | 'support'

/**
 * Each question's answer as the HTTP API documents it: the routes declare these as their 200
 * schemas, and a query worker checks its answers against the same (query-worker.ts).
 */
export const AnswerSchemas = {
  performance: PerformanceView,
  mwr: MwrView,
  contribution: ContributionView,
  attribution: AttributionView,
  risk: RiskView,
  concentration: ConcentrationView,
  review: ReviewView,
  summary: SummaryView,
  positionAnalytics: PositionAnalyticsView,
  positions: Type.Array(PositionView),
  lineage: LineageView,
  support: SupportView,
} as const satisfies Record<QueryMethod, TSchema>

/**
 * An answer already checked against its schema, cleaned of anything the schema does not name and
 * serialized, off the HTTP thread (a QueryPool's worker): the route sends the text as it is.
 */
export class JsonAnswer {
  constructor(readonly text: string) {}
}

/** What the routes ask: QueryService's answers, or a QueryPool's JsonAnswers. */
export type Questions = {
  [M in QueryMethod]: (
    ...args: Parameters<QueryService[M]>
  ) => Promise<Awaited<ReturnType<QueryService[M]>> | JsonAnswer>
}

/**
 * The analytics of the query API, one question per module (context.ts says what they share):
 * performance.ts, attribution.ts, risk.ts, concentration.ts, review.ts, summary.ts, position-analytics.ts, support.ts. This class binds them to a
 * connection pool for the HTTP layer and the demo.
 */
export class QueryService {
  constructor(private readonly sql: Sql) {}

  performance(portfolioId: string, request: PerformanceRequest): Promise<Static<typeof PerformanceView>> {
    return performance(this.sql, portfolioId, request)
  }

  mwr(portfolioId: string, request: PeriodRequest): Promise<Static<typeof MwrView>> {
    return mwr(this.sql, portfolioId, request)
  }

  contribution(portfolioId: string, request: PeriodRequest): Promise<Static<typeof ContributionView>> {
    return contribution(this.sql, portfolioId, request)
  }

  attribution(portfolioId: string, request: AttributionRequest): Promise<Static<typeof AttributionView>> {
    return attribution(this.sql, portfolioId, request)
  }

  risk(portfolioId: string, request: RiskRequest): Promise<Static<typeof RiskView>> {
    return risk(this.sql, portfolioId, request)
  }

  concentration(
    portfolioId: string,
    request: { asOf?: string | undefined; top: readonly number[] },
  ): Promise<Static<typeof ConcentrationView>> {
    return concentration(this.sql, portfolioId, request)
  }

  review(
    portfolioId: string,
    request: { asOf?: string | undefined; sections?: readonly ReviewSection[] | undefined },
  ): Promise<Static<typeof ReviewView>> {
    return review(this.sql, portfolioId, request)
  }

  summary(portfolioId: string, request: PeriodRequest): Promise<Static<typeof SummaryView>> {
    return summary(this.sql, portfolioId, request)
  }

  positionAnalytics(portfolioId: string, request: PeriodRequest): Promise<Static<typeof PositionAnalyticsView>> {
    return positionAnalytics(this.sql, portfolioId, request)
  }

  /** Positions as of a date with their weights (null when any position is unvalued that day). */
  positions(portfolioId: string, asOf: string | undefined, includeClosed: boolean): Promise<PositionView[]> {
    return positions(this.sql, portfolioId, asOf, includeClosed)
  }

  lineage(portfolioId: string, positionId: string): Promise<Static<typeof LineageView>> {
    return lineage(this.sql, portfolioId, positionId)
  }

  support(portfolioId: string): Promise<Static<typeof SupportView>> {
    return support(this.sql, portfolioId)
  }
}
