import { businessDays, fromEpochDay, isBusinessDay, toEpochDay } from './dates.ts'
import type { FxTable, PriceTable, Quote } from './market-data.ts'
import { fromScaled, mulScaled, toScaled } from './money.ts'
import type { Instrument, Portfolio, PositionRow, Valuation } from './records.ts'
import { isCashPosition } from './transactions.ts'

export type ValuationContext = {
  readonly portfolio: Portfolio
  readonly instruments: ReadonlyMap<string, Instrument>
  readonly prices: PriceTable
  readonly fx: FxTable
}

/** A history row with its quantity and costs in scaled integers (money.ts, rule 3). */
type Held = { row: PositionRow; quantity: bigint; costLocal: bigint; costBase: bigint }

const SCALED_ONE = toScaled('1')

/**
 * Prices and rates are shared by every position-day that uses them (a table hands out the same
 * quote object each time): each is scaled, and its canonical text made, once.
 */
const scaledQuotes = new WeakMap<Quote, { scaled: bigint; text: string }>()
function scaled(quote: Quote): { scaled: bigint; text: string } {
  let s = scaledQuotes.get(quote)
  if (s === undefined) {
    const n = toScaled(quote.text)
    s = { scaled: n, text: fromScaled(n) }
    scaledQuotes.set(quote, s)
  }
  return s
}

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
  const apply = (through: number) => {
    while (next < history.length && toEpochDay((history[next] as PositionRow).date) <= through) {
      const row = history[next++] as PositionRow
      held = {
        row,
        quantity: toScaled(row.quantity),
        costLocal: toScaled(row.costLocal),
        costBase: toScaled(row.costBase),
      }
    }
  }
  const days = businessDays(Math.max(fromDay, toEpochDay(first.date)), toDay)
  // Whether it was held on the business day before the first: a recompute that starts on the day
  // a position closed must still value that closing day, as a run from the start does.
  let before = (days[0] ?? toDay) - 1
  while (!isBusinessDay(before)) before--
  apply(before)
  let heldYesterday = held !== undefined && held.quantity !== 0n
  for (const day of days) {
    apply(day)
    if (!held) continue
    const isHeld = held.quantity !== 0n
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
 * Products are rounded by rule 3 (money.ts), in scaled integers.
 */
function valueDay(held: Held, day: number, ctx: ValuationContext): Valuation {
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
  if (quantity === 0n) {
    // Closed that day: nothing left to price; the value (and the cost) left through the sale.
    return { ...base, marketValueLocal: '0', marketValueBase: '0', unrealizedLocal: '0', unrealizedBase: '0' }
  }
  let price: bigint = SCALED_ONE
  let priceText = '1'
  let priceDate = base.date
  if (!isCashPosition(row.positionId)) {
    const quote = ctx.prices.latest(row.positionId, day)
    if (!quote) return { ...base, status: 'MISSING_PRICE' }
    const own = scaled(quote)
    price = own.scaled
    priceText = own.text
    priceDate = fromEpochDay(quote.day)
    if (quote.currency !== row.currency) {
      const conversion = ctx.fx.rate(quote.currency, row.currency, day)
      if (!conversion) return { ...base, status: 'MISSING_FX' }
      price = mulScaled(price, scaled(conversion).scaled)
      priceText = fromScaled(price)
    }
  }
  const fx = ctx.fx.rate(row.currency, ctx.portfolio.baseCurrency, day)
  if (!fx) return { ...base, status: 'MISSING_FX' }
  const mvLocal = mulScaled(quantity, price)
  const rate = scaled(fx)
  const mvBase = mulScaled(mvLocal, rate.scaled)
  return {
    ...base,
    price: priceText,
    priceDate,
    fxRate: rate.text,
    marketValueLocal: fromScaled(mvLocal),
    marketValueBase: fromScaled(mvBase),
    unrealizedLocal: fromScaled(mvLocal - costLocal),
    unrealizedBase: fromScaled(mvBase - costBase),
  }
}
