import { ALL_DAYS, fromEpochDay, toEpochDay } from '../domain/dates.ts'
import type { Tx } from './pg-client.ts'

/**
 * The rows a replacing write of a per-day, per-portfolio table (`portfolio_values`,
 * `unvalued_days`, `portfolio_series`; rows on the days of the portfolio's calendar) takes away
 * before its COPY: bounded ranges by exact (portfolio, day), open ones by range. Keyed exactly, a
 * portfolio whose late prices gave it hundreds of short ranges is one equality join, not a range
 * test per range and row.
 */
export class ReplacedDays {
  readonly #days: (readonly [string, string])[] = []
  readonly #open: (readonly [string, string])[] = []

  /**
   * Every day from `from` to `to`, both inclusive, whatever the calendar: a portfolio that changed
   * its calendar may still have rows on days the new one has not (until they are replaced).
   */
  add(portfolioId: string, from: string, to: string): void {
    for (const day of ALL_DAYS.days(toEpochDay(from), toEpochDay(to))) this.#days.push([portfolioId, fromEpochDay(day)])
  }

  /** Every row from `from` on, whatever its date (a business date moved back leaves rows after it). */
  addOpen(portfolioId: string, from: string): void {
    this.#open.push([portfolioId, from])
  }

  async delete(tx: Tx, table: 'portfolio_values' | 'unvalued_days' | 'portfolio_series'): Promise<void> {
    const [ids, days] = [this.#days.map(([id]) => id), this.#days.map(([, d]) => d)]
    const [openIds, froms] = [this.#open.map(([id]) => id), this.#open.map(([, d]) => d)]
    // Both in one round trip (the connection pipelines them, in order).
    await Promise.all([
      tx`delete from ${tx(table)} v using unnest(${ids}::text[], ${days}::date[]) as w(portfolio_id, date)
        where v.portfolio_id = w.portfolio_id and v.date = w.date`.execute(),
      tx`delete from ${tx(table)} v using unnest(${openIds}::text[], ${froms}::date[]) as w(portfolio_id, from_date)
        where v.portfolio_id = w.portfolio_id and v.date >= w.from_date`.execute(),
    ])
  }
}
