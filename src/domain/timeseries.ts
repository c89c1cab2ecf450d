import type { SeriesDay } from '../analytics/returns.ts'
import { type Calendar, fromEpochDay, toEpochDay, WEEKDAYS } from './dates.ts'
import { type Decimal, dec, fromScaled, str, toFloat, ZERO } from './money.ts'
import { type Cashflow, isExternal, type PortfolioSeriesPoint, type PositionSeriesPoint } from './records.ts'
import { isCashPosition } from './transactions.ts'
import type { PositionDay } from './valuation.ts'

/**
 * DAILY SERIES, in base currency, one point per day of the portfolio's calendar (dates.ts; under
 * WEEKDAYS a flow dated on a weekend counts on the next Monday, under ALL_DAYS on its own day).
 *   bmv  = the previous business day's emv (`openingEmv` before the first day computed)
 *   emv  = market value at the end of the day
 *   sodFlow / eodFlow = flows at the start / end of the day, signed: into the position or
 *          portfolio positive
 *   fees = fees paid that day, positive: trading fees and FEE/TAX expenses (what gross-of-fee
 *          returns add back); income = income received, net of withholding
 *
 * Position flows (money into the position): a BUY's cost (−amount of its INVESTMENT cashflow), a
 * SELL's proceeds out, and security transfers at their value. A cash position's flows are every
 * movement of its cash (its return is then its FX return). Portfolio flows are the external ones
 * only: DEPOSIT, WITHDRAWAL and transfers in and out; buying, selling, income and fees happen
 * inside the portfolio and show in its value.
 */

type Day = { sod: Decimal; eod: Decimal; fees: Decimal; income: Decimal }
const emptyDay = (): Day => ({ sod: ZERO, eod: ZERO, fees: ZERO, income: ZERO })

function byDay(cashflows: readonly Cashflow[], flowOf: (c: Cashflow) => Decimal, calendar: Calendar): Map<number, Day> {
  const days = new Map<number, Day>()
  for (const c of cashflows) {
    const day = calendar.onOrAfter(toEpochDay(c.date))
    const d = days.get(day) ?? emptyDay()
    const amount = flowOf(c)
    if (c.timing === 'SOD') d.sod = d.sod.plus(amount)
    else d.eod = d.eod.plus(amount)
    if (c.class === 'INVESTMENT' || c.class === 'EXPENSE') d.fees = d.fees.plus(dec(c.feeBase))
    if (c.class === 'INCOME') d.income = d.income.plus(dec(c.amountBase))
    days.set(day, d)
  }
  return days
}

/** Money into one position from a cashflow attached to it (or, for cash, moving its currency). */
export function positionFlow(c: Cashflow, positionId: string): Decimal {
  if (isCashPosition(positionId))
    return c.class === 'TRANSFER' && !isCashPosition(c.positionId) ? ZERO : dec(c.amountBase)
  if (c.class === 'INVESTMENT') return dec(c.amountBase).neg()
  if (c.class === 'TRANSFER') return dec(c.amountBase)
  return ZERO
}

/** Money crossing the portfolio's boundary. */
export const portfolioFlow = (c: Cashflow): Decimal => (isExternal(c) ? dec(c.amountBase) : ZERO)

/** A position series point before its money takes a form: values in scaled integers, flows as decimals. */
type PositionPoint = { day: number; v: PositionDay; bmv: bigint; f: Day | undefined }

/**
 * The position's points from `fromDay` to `toDay`, from its days (in date order) and cashflows
 * (for cash: every cashflow in its currency). Days the position was not valued are left out; the
 * portfolio series marks them incomplete. bmv is the previous point's emv, as valued (nothing
 * before `fromDay`: 0).
 */
function positionPoints(
  positionId: string,
  days: readonly PositionDay[],
  cashflows: readonly Cashflow[],
  fromDay: number,
  toDay: number,
  calendar: Calendar,
): PositionPoint[] {
  const flows = byDay(cashflows, (c) => positionFlow(c, positionId), calendar)
  const out: PositionPoint[] = []
  let bmv = 0n
  let next = 0
  for (const day of calendar.days(fromDay, toDay)) {
    while (next < days.length && (days[next] as PositionDay).day < day) next++
    const v = days[next]?.day === day ? days[next] : undefined
    const f = flows.get(day)
    if (v?.status !== 'VALUED') {
      if (f) bmv = 0n // flows without a value: the next day starts from nothing known
      continue
    }
    out.push({ day, v, bmv, f })
    bmv = v.mvBase
  }
  return out
}

/** A position's series with its money as decimal text (the API's form): see positionPoints. */
export function positionSeries(
  portfolioId: string,
  positionId: string,
  days: readonly PositionDay[],
  cashflows: readonly Cashflow[],
  fromDay: number,
  toDay: number,
  calendar: Calendar = WEEKDAYS,
): PositionSeriesPoint[] {
  let last = { scaled: 0n, text: '0' } // a day's emv is the next day's bmv: formatted once
  return positionPoints(positionId, days, cashflows, fromDay, toDay, calendar).map(({ day, v, bmv, f }) => {
    const bmvBase = bmv === last.scaled ? last.text : fromScaled(bmv)
    last = { scaled: v.mvBase, text: fromScaled(v.mvBase) }
    return {
      portfolioId,
      positionId,
      date: fromEpochDay(day),
      bmvBase,
      emvBase: last.text,
      sodFlowBase: f ? str(f.sod) : '0',
      eodFlowBase: f ? str(f.eod) : '0',
      feesBase: f ? str(f.fees) : '0',
      incomeBase: f ? str(f.income) : '0',
      quantity: v.row.quantity,
      costBase: v.row.costBase,
    }
  })
}

/** A position series point in float64: a day of the return analytics, with its position. */
export type PositionSeriesFloats = SeriesDay & {
  positionId: string
  income: number
  /** The rate its value was converted at, base per unit of its currency; NaN on a closing day. */
  fx: number
  /** `fx` of the point before (its bmv's rate), computed before the range too; NaN when none. */
  fxBefore: number
}

/**
 * A position's series in float64 for the analytics (contribution): the same points as
 * positionSeries, each number the nearest double to its decimal text, without making the text.
 */
export function positionSeriesFloats(
  positionId: string,
  days: readonly PositionDay[],
  cashflows: readonly Cashflow[],
  fromDay: number,
  toDay: number,
  calendar: Calendar = WEEKDAYS,
): PositionSeriesFloats[] {
  const flow = (d: Decimal) => Number(str(d))
  let fxBefore = Number.NaN
  // A day's emv is the next day's bmv, and a rate often the day before's: each converted once.
  const float = () => {
    let last = { scaled: 0n, value: 0 }
    return (n: bigint) => {
      if (n !== last.scaled) last = { scaled: n, value: toFloat(n) }
      return last.value
    }
  }
  const [money, rate] = [float(), float()]
  return positionPoints(positionId, days, cashflows, fromDay, toDay, calendar).map(({ day, v, bmv, f }) => {
    const fx = v.priced ? rate(v.priced.fxRate) : Number.NaN
    const point = {
      positionId,
      date: fromEpochDay(day),
      bmv: money(bmv),
      emv: money(v.mvBase),
      sod: f ? flow(f.sod) : 0,
      eod: f ? flow(f.eod) : 0,
      fees: f ? flow(f.fees) : 0,
      income: f ? flow(f.income) : 0,
      fx,
      fxBefore,
    }
    fxBefore = fx
    return point
  })
}

/** A series point's money, in the order the series tables store it. */
export const seriesMoney = (p: PortfolioSeriesPoint | PositionSeriesPoint): string[] => [
  p.bmvBase,
  p.emvBase,
  p.sodFlowBase,
  p.eodFlowBase,
  p.feesBase,
  p.incomeBase,
]

/**
 * One day of a portfolio's valuations: the sum of the valued positions, how many positions had a
 * valuation that day, and whether all were valued.
 */
export type DayTotal = { date: string; emvBase: string; positions: number; complete: boolean }

/** Position-days (any order) summed per day, in scaled integers (money.ts): exact, as decimal addition is. */
export function dailyTotals(days: Iterable<PositionDay>): DayTotal[] {
  return summarize(days).totals
}

/**
 * What the valuation stage keeps of a portfolio's position-days, in one pass: the day sums
 * (dailyTotals) and the days it could not value. `days` may be a
 * generator, so that no more than one position's days exist at a time.
 */
export function summarize(days: Iterable<PositionDay>): {
  totals: DayTotal[]
  unvalued: PositionDay[]
} {
  const byDay = new Map<number, { emv: bigint; positions: number; complete: boolean }>()
  const unvalued: PositionDay[] = []
  for (const v of days) {
    let acc = byDay.get(v.day)
    if (!acc) {
      acc = { emv: 0n, positions: 0, complete: true }
      byDay.set(v.day, acc)
    }
    acc.positions++
    if (v.status === 'VALUED') acc.emv += v.mvBase
    else {
      acc.complete = false
      unvalued.push(v)
    }
  }
  const totals = [...byDay].map(([day, t]) => ({
    date: fromEpochDay(day),
    emvBase: fromScaled(t.emv),
    positions: t.positions,
    complete: t.complete,
  }))
  return { totals, unvalued }
}

/**
 * Portfolio points for every day of `calendar` from `fromDay` to `toDay`: emv sums the valued
 * positions; `complete` is false when any position held that day could not be valued. Days before
 * the portfolio first holds anything or sees a flow are left out (nothing to measure yet).
 * `openingEmv`: the emv of the point before `fromDay`; none when the series has no point before
 * (then it starts at the first day with a value or a flow; after a point it has every day).
 */
export function portfolioSeries(
  portfolioId: string,
  days: readonly PositionDay[],
  cashflows: readonly Cashflow[],
  fromDay: number,
  toDay: number,
  openingEmv?: Decimal,
  calendar: Calendar = WEEKDAYS,
): PortfolioSeriesPoint[] {
  return seriesOfTotals(portfolioId, dailyTotals(days), cashflows, fromDay, toDay, openingEmv, calendar)
}

/** portfolioSeries from the days' totals (which the store sums where the valuations are). */
export function seriesOfTotals(
  portfolioId: string,
  totals: readonly DayTotal[],
  cashflows: readonly Cashflow[],
  fromDay: number,
  toDay: number,
  openingEmv?: Decimal,
  calendar: Calendar = WEEKDAYS,
): PortfolioSeriesPoint[] {
  return seriesOfWindows(portfolioId, totals, cashflows, [{ fromDay, toDay, openingEmv }], calendar)
}

/**
 * seriesOfTotals over several windows of days (each with the emv of the point before it, if any),
 * the totals and flows indexed once: a portfolio whose late prices revalued hundreds of short
 * spans would otherwise index its whole history once per span.
 */
export function seriesOfWindows(
  portfolioId: string,
  totals: readonly DayTotal[],
  cashflows: readonly Cashflow[],
  windows: readonly { fromDay: number; toDay: number; openingEmv?: Decimal | undefined }[],
  calendar: Calendar = WEEKDAYS,
): PortfolioSeriesPoint[] {
  const flows = byDay(cashflows, portfolioFlow, calendar)
  const values = new Map(totals.map((t) => [toEpochDay(t.date), t]))
  const out: PortfolioSeriesPoint[] = []
  for (const { fromDay, toDay, openingEmv } of windows) {
    let started = openingEmv !== undefined
    let bmv = str(openingEmv ?? ZERO)
    for (const day of calendar.days(fromDay, toDay)) {
      const value = values.get(day)
      const d = flows.get(day) ?? emptyDay()
      if (!started && !value && !flows.has(day)) continue
      started = true
      const emv = value?.emvBase ?? '0'
      out.push({
        portfolioId,
        date: fromEpochDay(day),
        bmvBase: bmv,
        emvBase: emv,
        sodFlowBase: str(d.sod),
        eodFlowBase: str(d.eod),
        feesBase: str(d.fees),
        incomeBase: str(d.income),
        complete: value?.complete ?? true,
      })
      bmv = emv
    }
  }
  return out
}
