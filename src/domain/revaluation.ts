import { fromEpochDay } from './dates.ts'
import { toScaled } from './money.ts'
import type { HeldRow, PositionDay } from './valuation.ts'

/**
 * Revaluing one position instead of its portfolio. A day's sum (timeseries.ts `summarize`) adds
 * each position's value independently, so when only a few positions' history changed, the sum
 * from the new history is the stored sum minus what those positions added with the rows they
 * were valued with, plus what they add now. Exact: the values are scaled integers (money.ts rule
 * 3), rounded per position-day before they are summed either way.
 */

/** What a position-day contributes to its day's sum: its value (0 unless VALUED) and one position. */
export type DayDelta = { date: string; emvBase: bigint; positions: number }

/**
 * The positions whose rows, as valuation reads them (date, currency and quantity, in order),
 * differ between `before` and `after` (rows of one portfolio from one date on, each position's in
 * date and seq order). A position missing from one side is changed; costs and realized figures
 * are not valued, so a change in them alone is not.
 */
export function changedPositions(before: readonly HeldRow[], after: readonly HeldRow[]): Set<string> {
  const old = Map.groupBy(before, (r) => r.positionId)
  const now = Map.groupBy(after, (r) => r.positionId)
  const changed = new Set<string>()
  for (const id of new Set([...old.keys(), ...now.keys()])) {
    const a = old.get(id) ?? []
    const b = now.get(id) ?? []
    if (a.length !== b.length || a.some((row, i) => !sameValued(row, b[i] as HeldRow))) changed.add(id)
  }
  return changed
}

const sameValued = (a: HeldRow, b: HeldRow) =>
  a.date === b.date &&
  a.currency === b.currency &&
  (a.quantity === b.quantity || toScaled(a.quantity) === toScaled(b.quantity))

/**
 * Per day, what a position's days now add to the sums minus what its days as valued added; days
 * where both are the same are left out. Either side may be empty (a position that is new, or gone).
 * Each side is one position's days in day order, a day at most once (valueDays over one range), so
 * the two are walked side by side: a correction ten years back compares 2,600 days of each.
 */
export function dayDeltas(now: readonly PositionDay[], valued: readonly PositionDay[]): DayDelta[] {
  const out: DayDelta[] = []
  const value = (d: PositionDay) => (d.status === 'VALUED' ? d.mvBase : 0n)
  let [i, j] = [0, 0]
  while (i < now.length || j < valued.length) {
    const a = now[i]
    const b = valued[j]
    let day: number
    let emv: bigint
    let positions: number
    if (a !== undefined && (b === undefined || a.day < b.day)) {
      ;[day, emv, positions] = [a.day, value(a), 1]
      i++
    } else if (b !== undefined && (a === undefined || b.day < a.day)) {
      ;[day, emv, positions] = [b.day, -value(b), -1]
      j++
    } else {
      const [x, y] = [a as PositionDay, b as PositionDay]
      ;[day, emv, positions] = [x.day, value(x) - value(y), 0]
      i++
      j++
    }
    if (emv !== 0n || positions !== 0) out.push({ date: fromEpochDay(day), emvBase: emv, positions })
  }
  return out
}

/**
 * The rows a position was valued with, given its history and its pending record: its history
 * before `fromDate`, then the superseded rows (both sorted by date, then seq).
 */
export function valuedRows(history: readonly HeldRow[], fromDate: string, superseded: readonly HeldRow[]): HeldRow[] {
  return [...history.filter((r) => r.date < fromDate), ...superseded]
}
