import type { Static } from '@sinclair/typebox'
import type { Sql } from '../adapters/pg-client.ts'
import { QueryError, snapshot } from './context.ts'
import type { LineageView, SupportView } from './views.ts'

/** Support: where a portfolio's data stands in the pipeline, and where a position's figures came from. */

export async function lineage(sql: Sql, portfolioId: string, positionId: string): Promise<Static<typeof LineageView>> {
  return snapshot(sql, portfolioId, async (reads) => {
    const l = await reads.positionLineage(portfolioId, positionId)
    if (!l.transaction && l.stages.length === 0) {
      throw new QueryError(404, {
        error: `portfolio ${portfolioId} has no position ${positionId}`,
        field: 'positionId',
      })
    }
    return {
      portfolioId,
      positionId,
      latestTransaction: l.transaction ?? null,
      latestPrice: l.price ?? null,
      stages: l.stages,
      latestValuation: l.valuation ?? null,
      latestSeriesDate: l.latestSeriesDate,
    }
  })
}

export async function support(sql: Sql, portfolioId: string): Promise<Static<typeof SupportView>> {
  return snapshot(sql, portfolioId, async (reads) => {
    const businessDate = await reads.businessDate()
    const stages = (await reads.stageLineage(portfolioId)).map(({ reflects, ...s }) => ({
      ...s,
      state:
        reflects === null
          ? ('never-run' as const)
          : !reflects
            ? ('pending' as const)
            : s.stage !== 'positions' && businessDate !== null && (s.throughDate ?? '') < businessDate
              ? ('lagging' as const)
              : ('current' as const),
    }))
    return {
      portfolioId,
      businessDate,
      stages,
      rejectedTransactions: await reads.rejections(portfolioId),
      unvaluedDays: await reads.unvaluedCount(portfolioId),
      deadLetters: await reads.deadLetters(portfolioId),
    }
  })
}
