import type postgres from 'postgres'
import type { FxRate } from '../domain/records.ts'
import type { Sql } from './pg-client.ts'

/** A piece of SQL made by the client's tag, to be nested in a query. */
type Fragment = postgres.PendingQuery<postgres.Row[]>

/**
 * The rates of the pairs `wanted` selects (a condition on fx_rates' columns) that answer for days
 * from `since` to `upTo`: each pair's latest before `since`, then every one up to `upTo`, read as
 * one row per pair (the query API's reads of a range; the stages keep every rate, FxRates).
 */
export async function fxRatesFrom(sql: Sql, wanted: Fragment, since: string, upTo: string): Promise<FxRate[]> {
  const pairs = await sql<{ from: string; to: string; dates: string; rates: string }[]>`
    select f.from_currency as "from", f.to_currency as "to",
           string_agg(f.date::text, ',' order by f.date) as dates, string_agg(f.rate::text, ',' order by f.date) as rates
    from ((select distinct on (from_currency, to_currency) from_currency, to_currency, date, rate
           from fx_rates where ${wanted} and date < ${since}::date
           order by from_currency, to_currency, date desc)
          union all
          (select from_currency, to_currency, date, rate from fx_rates
           where ${wanted} and date >= ${since}::date and date <= ${upTo}::date)) as f
    group by f.from_currency, f.to_currency`
  return unpacked(pairs)
}

/** Rates read one row per pair, back to one per rate. */
const unpacked = (pairs: readonly { from: string; to: string; dates: string; rates: string }[]): FxRate[] =>
  pairs.flatMap(({ from, to, dates, rates }) => {
    const rate = rates.split(',')
    return dates.split(',').map((date, i) => ({ from, to, date, rate: rate[i] as string }))
  })

/**
 * Every FX rate, kept in memory and read again only when fx_rates changed: each statement that
 * writes it adds a row to fx_rates_changes (sql/0023), so a count that moved means new rates. The
 * positions and valuation stages read the rates of their portfolios' pairs on every load: ten
 * years of three pairs are 7,800 rates, which a correction's two loads read again each time.
 *
 * The count is read before the rates: rates committed in between are then read with the older
 * count, and read again next time; never the other way round (new count, old rates). The rates
 * are read as one row per pair, dates and rates comma-joined (a row per rate cost more to decode
 * than using it).
 */
export class FxRates {
  #changes = -1
  #rates: readonly FxRate[] = []
  #picked = new Map<string, readonly FxRate[]>()

  async all(sql: Sql): Promise<readonly FxRate[]> {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from fx_rates_changes`
    const changes = row?.n ?? 0
    if (changes === this.#changes) return this.#rates
    const pairs = await sql<{ from: string; to: string; dates: string; rates: string }[]>`
      select from_currency as "from", to_currency as "to",
             string_agg(date::text, ',' order by date) as dates, string_agg(rate::text, ',' order by date) as rates
      from fx_rates group by from_currency, to_currency`
    this.#rates = unpacked(pairs)
    this.#picked.clear()
    this.#changes = changes
    return this.#rates
  }

  /**
   * The rates `wanted` keeps, as read by the last `all`: the same array while they are unchanged
   * (for `key`, which names what `wanted` keeps), so that what is built from it (an FxTable) can
   * be kept with it.
   */
  picked(key: string, wanted: (rate: FxRate) => boolean): readonly FxRate[] {
    let rates = this.#picked.get(key)
    if (rates === undefined) {
      rates = this.#rates.filter(wanted)
      this.#picked.set(key, rates)
    }
    return rates
  }
}
