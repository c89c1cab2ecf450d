import { AppError } from '../errors.ts'
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

/**
 * The entries of one stage run: the portfolio as a whole ('') and, with `positionIdsOf`, each
 * position it wrote. Valuation and series write the portfolio's only: each run covers every
 * position of the portfolio over its days, so a position's row would repeat the portfolio's (the
 * lineage read takes the portfolio's row for them); a price fanned out to 50 portfolios upserted
 * 1,200 rows per stage.
 */
export function lineageOf<
  R extends { job: { portfolioId: string; fromDate: string }; businessDate: string; inputsAsOf: string },
>(results: readonly R[], positionIdsOf: (result: R) => Iterable<string> = () => []): LineageEntry[] {
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

/**
 * ONE WRITER PER PORTFOLIO, AND NEVER AN OLDER ONE. Called first in a stage's replacing write:
 * 1. It takes a transaction-scoped advisory lock per portfolio of the write (keyed by stage and
 *    portfolio, taken in one fixed order so that two writers of overlapping sets cannot deadlock).
 *    A second writer of the same portfolio (a partition that moved while its old owner was still
 *    in a batch, or two processes given the same job) waits for the first to commit, so their
 *    deletes and COPYs never interleave (interleaved, the second COPY collided with the first's
 *    rows on the primary key, and a refused COPY never settles in postgres.js).
 * 2. Under the lock, if a portfolio's last write of this stage was computed from inputs read after
 *    this one's (`inputsAsOf`), this write is stale: it throws WRITE_CONFLICT (retryable), and the
 *    runner retries the batch, which loads the inputs again and computes from the newer state.
 * Serializing was chosen over fencing on partition ownership because it needs nothing from the
 * transport: it holds for the pg log and Kafka alike, and for a job delivered to two groups.
 */
export async function lockPortfolios(
  tx: Tx,
  stage: string,
  writes: readonly { portfolioId: string; inputsAsOf: string }[],
): Promise<void> {
  if (writes.length === 0) return
  const ids = writes.map((w) => w.portfolioId)
  // Sent together: the server takes the locks before it reads the lineage, in one round trip.
  const [, newer] = await Promise.all([
    tx`select pg_advisory_xact_lock(k) from (
         select distinct hashtextextended(${stage} || ':' || p, 0) as k from unnest(${ids}::text[]) as p order by k
       ) as keys`.execute(),
    tx<{ portfolio_id: string }[]>`
      select l.portfolio_id from lineage l
      join unnest(${ids}::text[], ${writes.map((w) => w.inputsAsOf)}::timestamptz[]) as w(portfolio_id, as_of) using (portfolio_id)
      where l.stage = ${stage} and l.position_id = '' and l.inputs_as_of > w.as_of`.execute(),
  ])
  if (newer.length > 0) {
    const names = newer.map((n) => n.portfolio_id).join(', ')
    throw new AppError('WRITE_CONFLICT', `${stage}: ${names} already written from newer inputs; recomputing`, true)
  }
}
