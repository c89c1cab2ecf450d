import type { Static } from '@sinclair/typebox'
import type { Sql } from '../adapters/pg-client.ts'
import { concentration as concentrationOf } from '../analytics/concentration.ts'
import { centsOf, toFloat } from '../domain/money.ts'
import { inPortfolio, QueryError } from './context.ts'
import { allocate, allocations, holdingsOf, issuerLabel, issuerOf, totalValue } from './holdings.ts'
import type { ConcentrationView } from './views.ts'

/** Concentration: HHI, largest positions and issuers, allocation. */

export async function concentration(
  sql: Sql,
  portfolioId: string,
  /** `top`: each N of a top-N share asked for (the first is also `topN`). */
  request: { asOf?: string | undefined; top: readonly number[] },
): Promise<Static<typeof ConcentrationView>> {
  return inPortfolio(sql, portfolioId, request.asOf, async (ctx) => {
    const holdings = await holdingsOf(ctx)
    const missing = holdings.filter((h) => h.position.marketValueBase === null)
    if (missing.length > 0) {
      throw new QueryError(422, {
        error: `${missing.length} position(s) have no market value on ${ctx.asOf}`,
        field: 'asOf',
        missingDays: [{ date: ctx.asOf, reason: 'UNVALUED', positionIds: missing.map((h) => h.position.positionId) }],
        missingDaysTotal: 1,
      })
    }
    const c = concentrationOf(
      holdings.map((h) => ({ positionId: h.position.positionId, value: toFloat(h.value), ...issuerOf(h) })),
    )
    const total = totalValue(holdings)
    const share = (n: number) => ({ n, share: c.weights.slice(0, n).reduce((s, w) => s + w.weight, 0) })
    // Each issuer's exposure as an exact amount too (weights are float64 fractions of the total).
    const amounts = new Map(allocate(holdings, issuerLabel, total).map((a) => [a.key, a.value]))
    return {
      portfolioId,
      asOf: ctx.asOf,
      total: centsOf(total),
      hhi: c.hhi,
      largest: c.largest,
      top5: c.top5,
      top10: c.top10,
      topN: share(request.top[0] ?? 5),
      tops: request.top.map(share),
      positions: allocate(holdings, (h) => h.position.positionId, total),
      issuers: c.issuers.map((i) => ({ ...i, value: amounts.get(i.issuer) ?? '0.00' })),
      allocation: allocations(holdings, total, ctx.asOf),
      conventions:
        'weights = market value / total (net: a short weighs negative); HHI = Σ w² over positions; issuer = ultimate parent issuer, else issuer, Cash for cash, Unclassified (flagged) when unknown',
    }
  })
}
