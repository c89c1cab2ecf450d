import { ALL_DAYS, fromEpochDay, toEpochDay } from '../domain/dates.ts'
import type { Tx } from './pg-client.ts'

/**
 * The days a replacing write of a per-day, per-portfolio table takes away before it adds its rows
 * (`unvalued_days` here; the day sums and the series, stored by month, in pg-day-months.ts): bounded
 * ranges by exact (portfolio, day), open ones by range. Keyed exactly, a portfolio whose late
 * prices gave it hundreds of short ranges is one equality join, not a range test per range and row.
 */
export class ReplacedDays {
  readonly #days: (readonly [string, string])[] = []
  readonly #keys = new Set<string>()
  /** Per portfolio, the earliest `from` of its open ranges. */
  readonly #open = new Map<string, string>()

  /**
   * Every day from `from` to `to`, both inclusive, whatever the calendar: a portfolio that changed
   * its calendar may still have rows on days the new one has not (until they are replaced).
   */
  add(portfolioId: string, from: string, to: string): void {
    for (const day of ALL_DAYS.days(toEpochDay(from), toEpochDay(to))) {
      const date = fromEpochDay(day)
      this.#days.push([portfolioId, date])
      this.#keys.add(`${portfolioId}\u0000${date}`)
    }
  }

  /** Every row from `from` on, whatever its date (a business date moved back leaves rows after it). */
  addOpen(portfolioId: string, from: string): void {
    const seen = this.#open.get(portfolioId)
    if (seen === undefined || from < seen) this.#open.set(portfolioId, from)
  }

  /** Whether the write takes the portfolio's row of `date` away. */
  covers(portfolioId: string, date: string): boolean {
    const open = this.#open.get(portfolioId)
    return (open !== undefined && date >= open) || this.#keys.has(`${portfolioId}\u0000${date}`)
  }

  /** The bounded days, as (portfolio, date). */
  days(): readonly (readonly [string, string])[] {
    return this.#days
  }

  /** The open ranges: each portfolio's earliest `from`. */
  opens(): ReadonlyMap<string, string> {
    return this.#open
  }

  async delete(tx: Tx, table: 'unvalued_days'): Promise<void> {
    const [ids, days] = [this.#days.map(([id]) => id), this.#days.map(([, d]) => d)]
    const [openIds, froms] = [[...this.#open.keys()], [...this.#open.values()]]
    // Both in one round trip (the connection pipelines them, in order).
    await Promise.all([
      tx`delete from ${tx(table)} v using unnest(${ids}::text[], ${days}::date[]) as w(portfolio_id, date)
        where v.portfolio_id = w.portfolio_id and v.date = w.date`.execute(),
      tx`delete from ${tx(table)} v using unnest(${openIds}::text[], ${froms}::date[]) as w(portfolio_id, from_date)
        where v.portfolio_id = w.portfolio_id and v.date >= w.from_date`.execute(),
    ])
  }
}
