import type { Sql } from './pg-client.ts'

/** The system's business date (sql/0004_valuations.sql); today (UTC) until one has been ingested. */
export async function businessDate(sql: Sql): Promise<string> {
  const [row] = await sql<
    { date: string }[]
  >`select coalesce((select date from business_date), current_date)::text as date`
  return row?.date as string
}
