import { businessDays, fromEpochDay, toEpochDay } from './dates.ts'
import type { FxTable, PriceTable } from './market-data.ts'
import { atScale, type Decimal, dec, ONE, str } from './money.ts'
import type { Instrument, Portfolio, PositionRow, Valuation } from './records.ts'
import { isCashPosition } from './transactions.ts'

export type ValuationContext = {
  readonly portfolio: Portfolio
  readonly instruments: ReadonlyMap<string, Instrument>
  readonly prices: PriceTable
  readonly fx: FxTable
}

type Held = { row: PositionRow; quantity: Decimal; costLocal: Decimal; costBase: Decimal }

/**
 * Valuations of one position on each business day from `fromDay` to `toDay` (epoch days) on which
 * it is held, plus the day it was closed (valued at zero, so the series sees the value leave).
 * `history` is the position's rows sorted by date, including the last row before `fromDay`.
 */
export function valuePosition(
  history: readonly PositionRow[],
  fromDay: number,
  toDay: number,
  ctx: ValuationContext,
): Valuation[] {
  const out: Valuation[] = []
  const first = history[0]
  if (!first) return out
  let next = 0
  let held: Held | undefined
  let heldYesterday = false
  for (const day of businessDays(Math.max(fromDay, toEpochDay(first.date)), toDay)) {
    while (next < history.length && toEpochDay((history[next] as PositionRow).date) <= day) {
      const row = history[next++] as PositionRow
      held = { row, quantity: dec(row.quantity), costLocal: dec(row.costLocal), costBase: dec(row.costBase) }
    }
    if (!held) continue
    const isHeld = !held.quantity.isZero()
    if (isHeld || heldYesterday) out.push(valueDay(held, day, ctx))
    heldYesterday = isHeld
  }
  return out
}

/**
 * One position-day. Price: the latest on or before the day, converted into the instrument currency
 * at that day's FX when quoted in another; cash is priced 1. Market value local = quantity × price;
 * base = local × FX (instrument currency → base, latest on or before the day). Unrealized P&L =
 * market value − cost, in each currency. No price or FX: the day is reported unvalued, never zero.
 */
export function valueDay(held: Held, day: number, ctx: ValuationContext): Valuation {
  const { row, quantity, costLocal, costBase } = held
  const base: Valuation = {
    portfolioId: row.portfolioId,
    positionId: row.positionId,
    date: fromEpochDay(day),
    status: 'VALUED',
    quantity: row.quantity,
    costLocal: row.costLocal,
    costBase: row.costBase,
  }
  if (quantity.isZero()) {
    // Closed that day: nothing left to price; the value (and the cost) left through the sale.
    return { ...base, marketValueLocal: '0', marketValueBase: '0', unrealizedLocal: '0', unrealizedBase: '0' }
  }
  let price = ONE
  let priceDate = base.date
  if (!isCashPosition(row.positionId)) {
    const quote = ctx.prices.latest(row.positionId, day)
    if (!quote) return { ...base, status: 'MISSING_PRICE' }
    price = quote.value
    priceDate = fromEpochDay(quote.day)
    if (quote.currency !== row.currency) {
      const conversion = ctx.fx.rate(quote.currency, row.currency, day)
      if (!conversion) return { ...base, status: 'MISSING_FX' }
      price = atScale(price.times(conversion.value))
    }
  }
  const fx = ctx.fx.rate(row.currency, ctx.portfolio.baseCurrency, day)
  if (!fx) return { ...base, status: 'MISSING_FX' }
  const mvLocal = atScale(quantity.times(price))
  const mvBase = atScale(mvLocal.times(fx.value))
  return {
    ...base,
    price: str(price),
    priceDate,
    fxRate: str(fx.value),
    marketValueLocal: str(mvLocal),
    marketValueBase: str(mvBase),
    unrealizedLocal: str(mvLocal.minus(costLocal)),
    unrealizedBase: str(mvBase.minus(costBase)),
  }
}
