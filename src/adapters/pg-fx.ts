import type postgres from 'postgres'
import type { FxRate } from '../domain/records.ts'
import type { Sql } from './pg-client.ts'

/** A piece of SQL made by the client's tag, to be nested in a query. */
type Fragment = postgres.PendingQuery<postgres.Row[]>

/**
 * The rates of the pairs `wanted` selects (a condition on fx_rates' columns) that answer for days
 * from `since` on: each pair's latest before `since`, then every one from it (up to `upTo` when
 * given). Read as one row per pair with the dates and rates comma-joined: ten years of three pairs
 * are 7,800 rates, and decoding a row per rate cost more than using them.
 */
export async function fxRatesFrom(sql: Sql, wanted: Fragment, since: string, upTo?: string): Promise<FxRate[]> {
  const until = upTo === undefined ? sql`` : sql`and date <= ${upTo}::date`
  const pairs = await sql<{ from: string; to: string; dates: string; rates: string }[]>`
    select f.from_currency as "from", f.to_currency as "to",
           string_agg(f.date::text, ',' order by f.date) as dates, string_agg(f.rate::text, ',' order by f.date) as rates
    from ((select distinct on (from_currency, to_currency) from_currency, to_currency, date, rate
           from fx_rates where ${wanted} and date < ${since}::date
           order by from_currency, to_currency, date desc)
          union all
          (select from_currency, to_currency, date, rate from fx_rates
           where ${wanted} and date >= ${since}::date ${until})) as f
    group by f.from_currency, f.to_currency`
  return pairs.flatMap(({ from, to, dates, rates }) => {
    const rate = rates.split(',')
    return dates.split(',').map((date, i) => ({ from, to, date, rate: rate[i] as string }))
  })
}
