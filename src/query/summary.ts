import type { Static } from '@sinclair/typebox'
import type { Sql } from '../adapters/pg-client.ts'
import { fromEpochDay, toEpochDay } from '../domain/dates.ts'
import { centsOf, type Decimal, dec, sum, toCents, ZERO } from '../domain/money.ts'
import { TransactionTypes } from '../domain/records.ts'
import { completeSeries, inPortfolio, type PeriodRequest, QueryError, summaryPeriod } from './context.ts'
import { allocate, allocations, holdingsFrom, isCash, issuerLabel, totalValue } from './holdings.ts'
import type { CashflowView, PositionView, SummaryView } from './views.ts'

/**
 * THE PORTFOLIO SUMMARY of a period (default YTD): wealth at both ends, the money that came in or
 * left, and the P&L split so that it reconciles:
 *
 *   P&L = end value − start value − net new money
 *       = realized + change in unrealized + income − fees − taxes + other
 *
 * The first line is the definition, from the daily series (its values chain: a day's bmv is the
 * day before's emv). The second splits it from the position history and the cashflows: a
 * position's value is its cost plus its unrealized P&L, and cost moves only with money in or out
 * of the portfolio, realized P&L, income, fees and taxes, except for accrued interest (cash only,
 * no cost), securities transferred at a value other than the cost they take with them, and OTHER
 * transactions (cash only). Those are `other`, with the lines' rounding to the cent; every line is rounded once, at the end
 * (money.ts), and `other` is what makes the rounded lines add up to the rounded total.
 *
 * The start is the close of the valuation day before the period's first one: cashflows dated after
 * it (a Saturday trade before a Monday start included) are in the period, as the series counts
 * them.
 */
export async function summary(
  sql: Sql,
  portfolioId: string,
  request: PeriodRequest,
): Promise<Static<typeof SummaryView>> {
  return inPortfolio(sql, portfolioId, request.to, async (ctx) => {
    const { from, to } = summaryPeriod(ctx, request)
    const rows = await completeSeries(ctx, { from, to })
    const first = rows[0]
    const last = rows.at(-1)
    if (!first || !last) {
      throw new QueryError(422, { error: `no series in ${from}..${to}`, field: 'from' })
    }
    const start = fromEpochDay(ctx.calendar.before(toEpochDay(first.date)))
    const [before, after, held, cashflows] = await Promise.all([
      start < ctx.inception ? [] : ctx.reads.positions(portfolioId, start, true),
      ctx.reads.positions(portfolioId, to, true),
      ctx.reads.instrumentsHeld(portfolioId),
      ctx.reads.cashflows(portfolioId, { from: fromEpochDay(toEpochDay(start) + 1), to }),
    ])

    const startValue = dec(first.bmvBase)
    const endValue = dec(last.emvBase)
    const flows = moneyIn(cashflows)
    const income = incomeOf(cashflows)
    const costs = costsOf(cashflows)
    const realized = totalOf(after, (p) => p.realizedBase).minus(totalOf(before, (p) => p.realizedBase))
    const unrealizedChange = unrealized(after).minus(unrealized(before))

    // Rounded once, each line; the total from the rounded ends so the identity holds to the cent.
    const c = (d: Decimal) => dec(toCents(d))
    const total = c(endValue).minus(c(startValue)).minus(c(flows.total))
    const lines = {
      realized: c(realized),
      unrealizedChange: c(unrealizedChange),
      income: c(income.dividends.plus(income.interest)),
      fees: c(costs.fees).neg(),
      taxes: c(costs.taxes).neg(),
    }
    const other = total.minus(sum(Object.values(lines)))

    const holdings = holdingsFrom(
      after.filter((p) => !dec(p.quantity).isZero()),
      held,
    )
    const wealth = totalValue(holdings)
    return {
      portfolioId,
      from: first.date,
      to: last.date,
      currency: ctx.portfolio.baseCurrency,
      wealth: {
        start: toCents(startValue),
        end: toCents(endValue),
        cashEnd: centsOf(totalValue(holdings.filter(isCash))),
      },
      netNewMoney: {
        total: toCents(flows.total),
        deposits: toCents(flows.deposits),
        withdrawals: toCents(flows.withdrawals),
        transfersIn: toCents(flows.transfersIn),
        transfersOut: toCents(flows.transfersOut),
      },
      pnl: {
        total: toCents(total),
        realized: toCents(lines.realized),
        unrealizedChange: toCents(lines.unrealizedChange),
        income: toCents(lines.income),
        fees: toCents(lines.fees),
        taxes: toCents(lines.taxes),
        other: toCents(other),
      },
      income: {
        dividends: toCents(income.dividends),
        interest: toCents(income.interest),
        withholding: toCents(income.withholding),
      },
      costs: { fees: toCents(costs.fees), taxes: toCents(costs.taxes), tradingFees: toCents(costs.trading) },
      activity: activityOf(cashflows),
      allocation: {
        ...allocations(holdings, wealth, last.date),
        issuer: allocate(holdings, issuerLabel, wealth),
      },
      conventions:
        'Base currency. P&L = end − start − net new money; the lines sum to it to the cent (other: accrued interest, transfers at a value other than cost, rounding). Each amount rounded to the cent, half-even, once. Start: the close of the business day before `from`; flows dated after it count in the period.',
    }
  })
}

type Cashflow = Static<typeof CashflowView>
type Position = Omit<PositionView, 'weight'>

const totalOf = (positions: readonly Position[], pick: (p: Position) => string) =>
  sum(positions.map((p) => dec(pick(p))))

/** Σ market value − cost over open positions (every one valued: the series was complete). */
const unrealized = (positions: readonly Position[]) =>
  sum(
    positions
      .filter((p) => !dec(p.quantity).isZero())
      .map((p) => dec(p.marketValueBase ?? p.costBase).minus(p.costBase)),
  )

/** External money: deposits and withdrawals, transfers of cash or securities at their value. */
function moneyIn(cashflows: readonly Cashflow[]) {
  const of = (cls: string, positive: boolean) =>
    sum(
      cashflows
        .filter((f) => f.class === cls)
        .map((f) => dec(f.amountBase))
        .filter((a) => (positive ? a.gt(0) : a.lt(0))),
    )
  const deposits = of('EXTERNAL', true)
  const withdrawals = of('EXTERNAL', false)
  const transfersIn = of('TRANSFER', true)
  const transfersOut = of('TRANSFER', false)
  return {
    deposits,
    withdrawals,
    transfersIn,
    transfersOut,
    total: deposits.plus(withdrawals).plus(transfersIn).plus(transfersOut),
  }
}

function incomeOf(cashflows: readonly Cashflow[]) {
  const typed = (type: string) => sum(cashflows.filter((f) => f.type === type).map((f) => dec(f.amountBase)))
  return {
    dividends: typed('DIVIDEND'),
    interest: typed('INTEREST'),
    withholding: sum(cashflows.filter((f) => f.class === 'INCOME').map((f) => dec(f.feeBase))),
  }
}

function costsOf(cashflows: readonly Cashflow[]) {
  const paid = (type: string) => sum(cashflows.filter((f) => f.type === type).map((f) => dec(f.amountBase).neg()))
  return {
    fees: paid('FEE'),
    taxes: paid('TAX'),
    trading: sum(cashflows.filter((f) => f.class === 'INVESTMENT').map((f) => dec(f.feeBase))),
  }
}

/** Count, amount and fees per transaction type, in the order of TransactionTypes. */
function activityOf(cashflows: readonly Cashflow[]) {
  const byType = Map.groupBy(cashflows, (f) => f.type)
  return TransactionTypes.flatMap((type) => {
    const flows = byType.get(type)
    if (!flows) return []
    return [
      {
        type,
        count: flows.length,
        amount: toCents(sum(flows.map((f) => dec(f.amountBase)))),
        fees: toCents(flows.reduce((acc, f) => acc.plus(f.feeBase), ZERO)),
      },
    ]
  })
}
