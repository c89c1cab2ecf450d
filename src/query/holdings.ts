import { centsOf, ratio, toScaled } from '../domain/money.ts'
import type { Classification } from '../domain/records.ts'
import type { Context } from './context.ts'
import type { InstrumentView, PositionView } from './views.ts'

/** A portfolio's open positions with their instruments' classification, and how they group and weigh. */

/** `value`: the market value in base currency, scaled (src/domain/money.ts); 0 when unvalued. */
export type Holding = { position: Omit<PositionView, 'weight'>; instrument: InstrumentView | undefined; value: bigint }

/** The holdings' market values summed, exactly (scaled). */
export const totalValue = (holdings: readonly Holding[]): bigint => holdings.reduce((total, h) => total + h.value, 0n)

/** Open positions on asOf with their instrument's classification. */
export async function holdingsOf(ctx: Context): Promise<Holding[]> {
  const [positions, held] = await Promise.all([
    ctx.reads.positions(ctx.portfolio.portfolioId, ctx.asOf, false),
    ctx.reads.instrumentsHeld(ctx.portfolio.portfolioId),
  ])
  return holdingsFrom(positions, held)
}

/** Positions with their instruments (those of `held`) and market values; unvalued count 0. */
export function holdingsFrom(positions: readonly Omit<PositionView, 'weight'>[], held: readonly InstrumentView[]) {
  const instruments = new Map(held.map((i) => [i.securityId, i]))
  return positions.map(
    (position): Holding => ({
      position,
      instrument: instruments.get(position.positionId),
      value: position.marketValueBase === null ? 0n : toScaled(position.marketValueBase),
    }),
  )
}

/** `total`: the scaled total the weight is a fraction of; null leaves the weight out. */
export function withWeight(p: Omit<PositionView, 'weight'>, total: bigint | null): PositionView {
  const weight =
    total === null || total === 0n || p.marketValueBase === null ? null : ratio(toScaled(p.marketValueBase), total)
  return { ...p, weight }
}

/**
 * The segment of a position by a classification: the label allocation and attribution share. Cash
 * is `Cash` (by currency, its currency); an unknown field is `Unclassified` (`Unrated` for rating);
 * the issuer is the ultimate parent issuer, else the issuer.
 */
export function segmentOf(
  classification: Classification,
  position: { positionId: string; currency: string },
  instrument: InstrumentView | undefined,
): string {
  if (classification === 'currency') return position.currency
  if (position.positionId.startsWith('CASH:')) return 'Cash'
  switch (classification) {
    case 'assetClass':
      return instrument?.assetClass ?? 'Unclassified'
    case 'sector':
      return instrument?.sector ?? 'Unclassified'
    case 'country':
      return instrument?.countryOfRisk ?? 'Unclassified'
    case 'issuer':
      return instrument?.ultimateParentIssuerId ?? instrument?.issuerId ?? 'Unclassified'
    case 'rating':
      return instrument?.rating ?? 'Unrated'
  }
}
const segment = (classification: Classification) => (h: Holding) => segmentOf(classification, h.position, h.instrument)

export const isCash = (h: Holding) => h.position.positionId.startsWith('CASH:')
export const assetClassOf = segment('assetClass')
export const issuerLabel = segment('issuer')
export const issuerOf = (h: Holding) =>
  isCash(h)
    ? { ultimateParentIssuerId: 'Cash' }
    : {
        ...(h.instrument?.issuerId ? { issuerId: h.instrument.issuerId } : {}),
        ...(h.instrument?.ultimateParentIssuerId
          ? { ultimateParentIssuerId: h.instrument.ultimateParentIssuerId }
          : {}),
      }

/** Market values summed exactly per group, weights as fractions of the total, largest first. */
export function allocate(holdings: readonly Holding[], key: (h: Holding) => string, total: bigint) {
  const groups = new Map<string, bigint>()
  for (const h of holdings) {
    const k = key(h)
    groups.set(k, (groups.get(k) ?? 0n) + h.value)
  }
  return [...groups]
    .map(([k, value]) => ({ key: k, value: centsOf(value), weight: total === 0n ? 0 : ratio(value, total) }))
    .sort((a, b) => b.weight - a.weight || a.key.localeCompare(b.key))
}

/**
 * Time to maturity on `asOf`, in whole years counted from the date: `< 1y`, `1-3y`, `3-5y`,
 * `5-10y`, `> 10y`; `matured` once past it; `none` for an instrument without a maturity (shares,
 * perpetuals); Cash for cash. A bucket's lower bound is inclusive: exactly 3 years is `3-5y`.
 */
export function maturityBucket(h: Holding, asOf: string): string {
  if (isCash(h)) return 'Cash'
  const maturity = h.instrument?.maturityDate
  if (maturity === undefined) return 'none'
  if (maturity < asOf) return 'matured'
  const years = [1, 3, 5, 10].find((n) => maturity < yearsAfter(asOf, n))
  return years === undefined
    ? '> 10y'
    : ({ 1: '< 1y', 3: '1-3y', 5: '3-5y', 10: '5-10y' } as const)[years as 1 | 3 | 5 | 10]
}

/** The same calendar date `n` years later (29 February → 28 February in a common year). */
function yearsAfter(date: string, n: number): string {
  const [y, m, d] = date.split('-')
  const year = Number(y) + n
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  return `${year}-${m}-${m === '02' && d === '29' && !leap ? '28' : d}`
}

export function allocations(holdings: readonly Holding[], total: bigint, asOf: string) {
  return {
    assetClass: allocate(holdings, segment('assetClass'), total),
    sector: allocate(holdings, segment('sector'), total),
    country: allocate(holdings, segment('country'), total),
    currency: allocate(holdings, segment('currency'), total),
    rating: allocate(holdings, segment('rating'), total),
    maturity: allocate(holdings, (h) => maturityBucket(h, asOf), total),
  }
}
