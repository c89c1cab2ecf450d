import { type Calendar, calendarOf, fromEpochDay, toEpochDay } from './dates.ts'
import type { FxTable, PriceTable, Quote } from './market-data.ts'
import { fromScaled, mulScaled, toScaled } from './money.ts'
import type { Portfolio, PositionRow, Valuation, ValuationStatus } from './records.ts'
import { isCashPosition } from './transactions.ts'

export type ValuationContext = {
  readonly portfolio: Portfolio
  readonly prices: PriceTable
  readonly fx: FxTable
  /** The portfolio's calendar with its holidays (dates.ts `calendarOf`); its own without them. */
  readonly calendar?: Calendar
}

/** What valuation reads of a position's history row. */
export type HeldRow = Pick<
  PositionRow,
  'portfolioId' | 'positionId' | 'date' | 'currency' | 'quantity' | 'costLocal' | 'costBase'
>

/** A history row with its quantity and costs in scaled integers (money.ts, rule 3). */
type Held = { row: HeldRow; quantity: bigint; costLocal: bigint; costBase: bigint }

/** Where one position's prices and rates come from: its tables' lookups, found once per position. */
type Lookups = {
  price: (day: number) => Quote | undefined
  /** Instrument currency → base. */
  fx: (day: number) => Quote | undefined
  ctx: ValuationContext
}

const SCALED_ONE = toScaled('1')

/**
 * A position-day as valuation computes it: money in scaled integers (money.ts, rule 3), the
 * history row in force that day, and what priced it. `valuationOf` gives its record form (decimal
 * text); sums and series read the integers directly, so no text is made for a day nobody shows.
 * A day is VALUED with `priced` undefined when the position closed that day (valued at zero).
 */
export type PositionDay = {
  readonly row: HeldRow
  readonly day: number
  readonly status: ValuationStatus
  readonly costLocal: bigint
  readonly costBase: bigint
  /** 0n unless VALUED */
  readonly mvLocal: bigint
  readonly mvBase: bigint
  /** The price in the instrument currency and its date, and the rate to base (scaled); none on a closing day. */
  readonly priced?: { price: bigint; day: number; fxRate: bigint }
}

/**
 * Position-days of one position on each day of its portfolio's calendar (dates.ts) from `fromDay`
 * to `toDay` (epoch days) on which it is held, plus the day it was closed (valued at zero, so the series sees the value
 * leave). `history` is the position's rows sorted by date, including the last row before `fromDay`.
 */
export function valueDays(
  history: readonly HeldRow[],
  fromDay: number,
  toDay: number,
  ctx: ValuationContext,
): PositionDay[] {
  return valueRanges(history, [[fromDay, toDay]], ctx)
}

/**
 * valueDays over several ranges of days ([first, last] epoch days, sorted and apart), the history
 * read once: a batch of late prices revalues a portfolio on scattered days.
 */
export function valueRanges(
  history: readonly HeldRow[],
  ranges: readonly (readonly [number, number])[],
  ctx: ValuationContext,
): PositionDay[] {
  const out: PositionDay[] = []
  const first = history[0]
  if (!first) return out
  const lookups: Lookups = {
    price: ctx.prices.of(first.positionId),
    fx: ctx.fx.pair(first.currency, ctx.portfolio.baseCurrency),
    ctx,
  }
  let next = 0
  let held: Held | undefined
  // Each row's date parsed once, not once per day it is checked against.
  const rowDays = history.map((r) => toEpochDay(r.date))
  const apply = (through: number) => {
    while (next < history.length && (rowDays[next] as number) <= through) {
      const row = history[next++] as HeldRow
      held = {
        row,
        quantity: toScaled(row.quantity),
        costLocal: toScaled(row.costLocal),
        costBase: toScaled(row.costBase),
      }
    }
  }
  const calendar = ctx.calendar ?? calendarOf(ctx.portfolio)
  for (const [fromDay, toDay] of ranges) {
    const days = calendar.days(Math.max(fromDay, rowDays[0] as number), toDay)
    if (days.length === 0) continue
    // Whether it was held on the valuation day before the first: a recompute that starts on the
    // day a position closed must still value that closing day, as a run from the start does.
    apply(calendar.before(days[0] as number))
    let heldYesterday = held !== undefined && held.quantity !== 0n
    for (const day of days) {
      apply(day)
      if (!held) continue
      const isHeld = held.quantity !== 0n
      if (isHeld || heldYesterday) out.push(valueDay(held, day, lookups))
      heldYesterday = isHeld
    }
  }
  return out
}

/** valueDays in record form (valuationOf each day). */
export function valuePosition(
  history: readonly PositionRow[],
  fromDay: number,
  toDay: number,
  ctx: ValuationContext,
): Valuation[] {
  return valueDays(history, fromDay, toDay, ctx).map(valuationOf)
}

/** A position-day's record form: its money as canonical decimal text. */
export function valuationOf(p: PositionDay): Valuation {
  const { row, priced } = p
  const base: Valuation = {
    portfolioId: row.portfolioId,
    positionId: row.positionId,
    date: fromEpochDay(p.day),
    status: p.status,
    quantity: row.quantity,
    costLocal: row.costLocal,
    costBase: row.costBase,
  }
  if (p.status !== 'VALUED') return base
  // Closed that day: nothing left to price; the value (and the cost) left through the sale.
  if (!priced)
    return { ...base, marketValueLocal: '0', marketValueBase: '0', unrealizedLocal: '0', unrealizedBase: '0' }
  return {
    ...base,
    price: fromScaled(priced.price),
    priceDate: fromEpochDay(priced.day),
    fxRate: fromScaled(priced.fxRate),
    marketValueLocal: fromScaled(p.mvLocal),
    marketValueBase: fromScaled(p.mvBase),
    unrealizedLocal: fromScaled(p.mvLocal - p.costLocal),
    unrealizedBase: fromScaled(p.mvBase - p.costBase),
  }
}

/**
 * One position-day. Price: the latest on or before the day, converted into the instrument currency
 * at that day's FX when quoted in another; cash is priced 1. Market value local = quantity × price;
 * base = local × FX (instrument currency → base, latest on or before the day). Unrealized P&L =
 * market value − cost, in each currency. No price or FX: the day is reported unvalued, never zero.
 * Products are rounded by rule 3 (money.ts), in scaled integers.
 */
function valueDay(held: Held, day: number, lookups: Lookups): PositionDay {
  const { row, quantity, costLocal, costBase } = held
  const unvalued = (status: ValuationStatus): PositionDay => ({
    row,
    day,
    status,
    costLocal,
    costBase,
    mvLocal: 0n,
    mvBase: 0n,
  })
  if (quantity === 0n) return { row, day, status: 'VALUED', costLocal, costBase, mvLocal: 0n, mvBase: 0n }
  let price: bigint = SCALED_ONE
  let priceDay = day
  if (!isCashPosition(row.positionId)) {
    const quote = lookups.price(day)
    if (!quote) return unvalued('MISSING_PRICE')
    price = quote.scaled
    priceDay = quote.day
    if (quote.currency !== row.currency) {
      const conversion = lookups.ctx.fx.rate(quote.currency, row.currency, day)
      if (!conversion) return unvalued('MISSING_FX')
      price = mulScaled(price, conversion.scaled)
    }
  }
  const fx = lookups.fx(day)
  if (!fx) return unvalued('MISSING_FX')
  const mvLocal = mulScaled(quantity, price)
  const fxRate = fx.scaled
  return {
    row,
    day,
    status: 'VALUED',
    costLocal,
    costBase,
    mvLocal,
    mvBase: mulScaled(mvLocal, fxRate),
    priced: { price, day: priceDay, fxRate },
  }
}
