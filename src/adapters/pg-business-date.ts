import type { Sql } from './pg-client.ts'

/**
 * The holidays of the holiday calendar a portfolio names (sql/0022; dates.ts `calendarOf`), as a
 * sorted array of ISO dates, or null: an expression on a `portfolios` row aliased `p`.
 */
export const HOLIDAYS_OF_P = `(select array_agg(h.date::text order by h.date) from holidays h
  where h.calendar_id = p.record->>'calendar')`

/** The system's business date (sql/0004_valuations.sql); today (UTC) until one has been ingested. */
export async function businessDate(sql: Sql): Promise<string> {
  const [row] = await sql<
    { date: string }[]
  >`select coalesce((select date from business_date), current_date)::text as date`
  return row?.date as string
}
