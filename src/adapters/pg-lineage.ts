import type { Sql, Tx } from './pg-client.ts'

/** One lineage entry: `positionId` '' for the portfolio as a whole. */
export type LineageEntry = {
  portfolioId: string
  positionId: string
  fromDate: string
  throughDate: string | null
  /** The database time when the stage started reading its inputs: everything committed before is reflected. */
  inputsAsOf: string
}

/** The database clock, read before a stage loads its inputs (see LineageEntry.inputsAsOf). */
export async function inputsAsOf(sql: Sql): Promise<string> {
  const [row] = await sql<{ now: string }[]>`select clock_timestamp()::text as now`
  return row?.now as string
}

/** Upserts lineage entries of `stage` inside the stage's write transaction. */
export async function writeLineage(tx: Tx, stage: string, entries: readonly LineageEntry[]): Promise<void> {
  if (entries.length === 0) return
  await tx`
    insert into lineage (portfolio_id, position_id, stage, completed_at, from_date, through_date, inputs_as_of)
    select "portfolioId", "positionId", ${stage}, clock_timestamp(), "fromDate", "throughDate", "inputsAsOf"
    from jsonb_to_recordset(${JSON.stringify(entries)}::text::jsonb)
      as x("portfolioId" text, "positionId" text, "fromDate" date, "throughDate" date, "inputsAsOf" timestamptz)
    on conflict (portfolio_id, position_id, stage) do update set completed_at = excluded.completed_at,
      from_date = excluded.from_date, through_date = excluded.through_date, inputs_as_of = excluded.inputs_as_of`
}

/** The entries of one stage run: the portfolio as a whole ('') and each position it wrote. */
export function lineageOf<
  R extends { job: { portfolioId: string; fromDate: string }; businessDate: string; inputsAsOf: string },
>(results: readonly R[], positionIdsOf: (result: R) => Iterable<string>): LineageEntry[] {
  return results.flatMap((r) =>
    ['', ...new Set(positionIdsOf(r))].map((positionId) => ({
      portfolioId: r.job.portfolioId,
      positionId,
      fromDate: r.job.fromDate,
      throughDate: r.businessDate,
      inputsAsOf: r.inputsAsOf,
    })),
  )
}
