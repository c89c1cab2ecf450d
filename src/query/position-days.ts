import { businessDate } from '../adapters/pg-business-date.ts'
import type { Sql } from '../adapters/pg-client.ts'
import { loadValuationWork } from '../adapters/pg-valuation-store.ts'
import { type Calendar, calendarOf, toEpochDay } from '../domain/dates.ts'
import { FX_PIVOT, FxTable, PriceTable } from '../domain/market-data.ts'
import type { FxRate, Portfolio, Price, Valuation } from '../domain/records.ts'
import { isCashPosition } from '../domain/transactions.ts'
import { type HeldRow, type PositionDay, valuationOf, valueDays } from '../domain/valuation.ts'

/**
 * POSITION-DAYS ON READ. Nothing stores a row per position-day: a position-day is valued when it
 * is asked for, by the valuation stage's own function over the same stored inputs (position
 * history, prices, FX rates), so the answer is the one the stage computes. Values run to the
 * business date at most.
 *
 * The load reads the history from before `from` (pg-valuation-store.ts HELD_BEFORE_DAYS), so the
 * state the first day inherits (held on the valuation day before or not, which decides whether a
 * closing day is shown) is the real one, whatever the calendar. Rows come
 * sorted by date, then position, unless `bySort` is false (each position's days stay in date
 * order, positions one after another). `positionIds` limits the positions valued.
 */
export async function positionDays(
  sql: Sql,
  portfolioId: string,
  from: string,
  to: string,
  positionIds?: readonly string[],
  bySort = true,
): Promise<PositionDay[]> {
  const through = minDate(to, await businessDate(sql))
  const start = from < FIRST_DAY ? FIRST_DAY : from
  if (through < start) return []
  const [work] = await loadValuationWork(sql, [{ portfolioId, fromDate: start }], through)
  if (!work) return []
  const ctx = {
    portfolio: work.portfolio,
    prices: work.prices,
    fx: FxTable.of(work.fx),
    calendar: calendarOf(work.portfolio, work.holidays),
  }
  const wanted = positionIds ? new Set(positionIds) : undefined
  const [first, last] = [toEpochDay(start), toEpochDay(through)]
  const days = work.histories
    .filter((h) => !wanted || wanted.has((h[0] as { positionId: string }).positionId))
    .flatMap((h) => valueDays(h, first, last, ctx))
  return bySort ? days.sort((a, b) => a.day - b.day || (a.row.positionId < b.row.positionId ? -1 : 1)) : days
}

/** positionDays in record form (decimal text), sorted by date, then position. */
export async function positionValuations(
  sql: Sql,
  portfolioId: string,
  from: string,
  to: string,
  positionIds?: readonly string[],
): Promise<Valuation[]> {
  return (await positionDays(sql, portfolioId, from, to, positionIds)).map(valuationOf)
}

/**
 * The position-days of `day` for positions whose history rows in force that day are `rows` (each
 * dated on or before it, quantity not zero): what the latest-positions views need, with the
 * latest price of each security and the latest rate of each pair on or before the day, one index
 * probe each, instead of the history and market data of a range. The same valuation as
 * positionDays gives for that day.
 */
export async function heldOn(
  sql: Sql,
  portfolio: Portfolio,
  rows: readonly HeldRow[],
  day: string,
  calendar: Calendar,
): Promise<PositionDay[]> {
  if (rows.length === 0) return []
  const securities = rows.map((r) => r.positionId).filter((id) => !isCashPosition(id))
  // Every pair FxTable may read among these currencies: direct, inverse or through the pivot.
  const ratesAmong = (currencies: readonly string[]) => {
    const pairs = currencies.flatMap((a) => currencies.filter((b) => b !== a).map((b) => [a, b] as const))
    return sql<FxRate[]>`
      select f.from_currency as "from", f.to_currency as "to", f.date::text as date, f.rate::text as rate
      from unnest(${pairs.map((p) => p[0])}::text[], ${pairs.map((p) => p[1])}::text[]) as w(a, b)
      cross join lateral (select * from fx_rates where from_currency = w.a and to_currency = w.b and date <= ${day}::date
                          order by date desc limit 1) as f`.execute()
  }
  // The positions' own currencies are known before their prices: their rates are read meanwhile.
  const known = [...new Set([...rows.map((r) => r.currency), portfolio.baseCurrency, FX_PIVOT])]
  const [prices, rates] = await Promise.all([
    sql<Price[]>`
      select p.security_id as "securityId", p.date::text as date, p.price::text as price, p.currency
      from unnest(${securities}::text[]) as s(id)
      cross join lateral (select * from prices where security_id = s.id and date <= ${day}::date
                          order by date desc limit 1) as p`.execute(),
    ratesAmong(known),
  ])
  // A price quoted in another currency: read again with it among them.
  const quoted = prices.map((p) => p.currency).filter((c) => !known.includes(c))
  const fx = quoted.length === 0 ? rates : await ratesAmong([...known, ...new Set(quoted)])
  const ctx = { portfolio, prices: PriceTable.of(prices), fx: FxTable.of(fx), calendar }
  const d = toEpochDay(day)
  return rows.flatMap((r) => valueDays([r], d, d, ctx))
}

const minDate = (a: string, b: string) => (a < b ? a : b)
/** No record is dated before 1970 (docs/domain.md, Limits): an open range starts there. */
const FIRST_DAY = '1970-01-05'
