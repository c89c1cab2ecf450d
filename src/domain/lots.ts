import { atScale, type Decimal, sum, ZERO } from './money.ts'
import type { CostMethod } from './records.ts'

/**
 * Lots hold signed quantities: a long lot has quantity > 0 and cost > 0 (money paid); a short
 * lot has quantity < 0 and cost < 0 (money received). All lots of a position share one sign.
 */
export type LotState = {
  readonly openDate: string
  readonly quantity: Decimal
  readonly costLocal: Decimal
  readonly costBase: Decimal
}

export const lotsQuantity = (lots: readonly LotState[]): Decimal => sum(lots.map((l) => l.quantity))

/** Adds a lot in the position's direction: a new lot under FIFO, merged into the pool under AVCO. */
export function openLot(lots: readonly LotState[], lot: LotState, method: CostMethod): LotState[] {
  const pool = lots[0]
  if (method === 'FIFO' || pool === undefined) return [...lots, lot]
  return [
    {
      openDate: pool.openDate,
      quantity: pool.quantity.plus(lot.quantity),
      costLocal: pool.costLocal.plus(lot.costLocal),
      costBase: pool.costBase.plus(lot.costBase),
    },
  ]
}

export type Closed = { lots: LotState[]; costLocal: Decimal; costBase: Decimal }

/**
 * Removes `quantity` (positive, at most the position's size) from the lots, oldest first (under
 * AVCO there is one pooled lot, so this is quantity × average cost). A lot closed in part gives up
 * cost × taken / lot quantity, rounded at scale, and keeps the exact remainder, so the costs of
 * the remaining lots plus the cost removed always equal the cost before.
 */
export function closeLots(lots: readonly LotState[], quantity: Decimal): Closed {
  let left = quantity
  let costLocal = ZERO
  let costBase = ZERO
  const kept: LotState[] = []
  for (const lot of lots) {
    const size = lot.quantity.abs()
    if (left.isZero()) {
      kept.push(lot)
    } else if (size.lte(left)) {
      costLocal = costLocal.plus(lot.costLocal)
      costBase = costBase.plus(lot.costBase)
      left = left.minus(size)
    } else {
      const takeLocal = atScale(lot.costLocal.times(left).div(size))
      const takeBase = atScale(lot.costBase.times(left).div(size))
      costLocal = costLocal.plus(takeLocal)
      costBase = costBase.plus(takeBase)
      const remaining = lot.quantity.isNegative() ? lot.quantity.plus(left) : lot.quantity.minus(left)
      kept.push({
        openDate: lot.openDate,
        quantity: remaining,
        costLocal: lot.costLocal.minus(takeLocal),
        costBase: lot.costBase.minus(takeBase),
      })
      left = ZERO
    }
  }
  return { lots: kept, costLocal, costBase }
}

/** A split multiplies every lot's quantity by `ratio`; costs are unchanged. */
export const splitLots = (lots: readonly LotState[], ratio: Decimal): LotState[] =>
  lots.map((l) => ({ ...l, quantity: atScale(l.quantity.times(ratio)) }))
