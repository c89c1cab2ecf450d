import type { Static } from '@sinclair/typebox'
import type { Sql } from '../adapters/pg-client.ts'
import { currencyReturns } from '../analytics/currency.ts'
import { fromEpochDay, toEpochDay } from '../domain/dates.ts'
import { type Decimal, dec, ratio, sum, toCents, ZERO } from '../domain/money.ts'
import { completeSeries, inPortfolio, type PeriodRequest, summaryPeriod } from './context.ts'
import { assetClassOf, holdingsFrom, totalValue } from './holdings.ts'
import type { CashflowView, PositionAnalyticsView } from './views.ts'

/**
 * POSITION ANALYTICS over a period (default YTD): per position held at any time in it, the holding
 * on the last day (quantity, cost, market value, unrealized P&L, weight, held since), the income
 * and fees of the period, and its TWR in base and in its own currency (analytics/currency.ts), the
 * FX part being the difference. Money rounded to the cent once; returns float64.
 */
export async function positionAnalytics(
  sql: Sql,
  portfolioId: string,
  request: PeriodRequest,
): Promise<Static<typeof PositionAnalyticsView>> {
  return inPortfolio(sql, portfolioId, request.to, async (ctx) => {
    const period = summaryPeriod(ctx, request)
    const { to } = period
    const rows = await completeSeries(ctx, period) // 422 naming the days without complete data
    const first = rows[0]?.date ?? period.from
    const start = fromEpochDay(ctx.calendar.before(toEpochDay(first)))
    const [positions, held, series, cashflows, since] = await Promise.all([
      ctx.reads.positions(portfolioId, to, true),
      ctx.reads.instrumentsHeld(portfolioId),
      ctx.reads.positionSeriesFloats(portfolioId, period),
      ctx.reads.cashflows(portfolioId, { from: fromEpochDay(toEpochDay(start) + 1), to }),
      ctx.reads.heldSince(portfolioId, to),
    ])
    const seriesOf = Map.groupBy(series, (p) => p.positionId)
    const open = (p: (typeof positions)[number]) => !dec(p.quantity).isZero()
    const shown = holdingsFrom(
      positions.filter((p) => open(p) || seriesOf.has(p.positionId)),
      held,
    )
    const complete = shown.every((h) => !open(h.position) || h.position.marketValueBase !== null)
    const total = totalValue(shown.filter((h) => open(h.position)))
    const flowsOf = Map.groupBy(cashflows, (c) => c.positionId)

    return {
      portfolioId,
      from: first,
      to,
      currency: ctx.portfolio.baseCurrency,
      positions: shown.map((h) => {
        const p = h.position
        const isOpen = open(p)
        const days = (seriesOf.get(p.positionId) ?? []).sort((a, b) => (a.date < b.date ? -1 : 1))
        // A cash position's income comes as 0 from the read: a flow of that cash, not its return.
        const r = days.length > 0 ? currencyReturns(days) : null
        const mvLocal = isOpen && p.marketValueLocal !== null ? dec(p.marketValueLocal) : isOpen ? null : ZERO
        const mvBase = isOpen && p.marketValueBase !== null ? dec(p.marketValueBase) : isOpen ? null : ZERO
        const cost = { local: isOpen ? dec(p.costLocal) : ZERO, base: isOpen ? dec(p.costBase) : ZERO }
        const flows = flowsOf.get(p.positionId) ?? []
        const income = flows.filter((c) => c.class === 'INCOME')
        const feesPaid = flows.filter((c) => c.class === 'INVESTMENT' || c.class === 'EXPENSE')
        return {
          positionId: p.positionId,
          name: h.instrument?.name ?? null,
          assetClass: assetClassOf(h),
          currency: p.currency,
          heldSince: isOpen ? (since.get(p.positionId) ?? null) : null,
          quantity: p.quantity,
          costLocal: toCents(cost.local),
          costBase: toCents(cost.base),
          marketValueLocal: mvLocal === null ? null : toCents(mvLocal),
          marketValueBase: mvBase === null ? null : toCents(mvBase),
          unrealizedLocal: mvLocal === null ? null : toCents(mvLocal.minus(cost.local)),
          unrealizedBase: mvBase === null ? null : toCents(mvBase.minus(cost.base)),
          incomeLocal: inOwnCurrency(income, p.currency, (c) => c.amountLocal),
          incomeBase: toCents(sum(income.map((c) => dec(c.amountBase)))),
          feesLocal: inOwnCurrency(feesPaid, p.currency, (c) => c.feeLocal),
          feesBase: toCents(sum(feesPaid.map((c) => dec(c.feeBase)))),
          weight: !complete || total === 0n || mvBase === null ? null : ratio(isOpen ? h.value : 0n, total),
          twrBase: r?.base ?? null,
          twrLocal: r?.local ?? null,
          twrFx: r ? r.base - r.local : null,
        }
      }),
      conventions:
        'Holdings on `to` (a weekend ends on the Friday before); income and fees of the cashflows after the close before `from` through `to`. TWR over the days held in the period, flows as recorded, income included, net of fees; in its own currency: 1 + r_base = (1 + r_local)(1 + r_fx) each day, r_fx the move of the rate its value converts at. Money to the cent, half-even, once.',
    }
  })
}

type Cashflow = Static<typeof CashflowView>

/** Σ of a local amount when every cashflow is in the position's currency; null when one is not. */
function inOwnCurrency(flows: readonly Cashflow[], currency: string, pick: (c: Cashflow) => string): string | null {
  if (flows.some((c) => c.currency !== currency)) return null
  return toCents(flows.reduce((acc: Decimal, c) => acc.plus(pick(c)), ZERO))
}
