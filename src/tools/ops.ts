import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import type { Sql } from '../adapters/pg-client.ts'
import { isIsoDate } from '../domain/dates.ts'
import { parseCsv } from '../http/csv.ts'
import type { EventLog } from '../ports/event-log.ts'
import { scheduleReprocess } from '../stages/reprocess.ts'
import { topicSpecs } from '../topology.ts'

/**
 * Operator tools, run as `pas <tool>` against the database and log the configuration names (see
 * README "Operator tools"). Each prints what it did and returns an exit code: 0 done, 1 failed,
 * 2 bad arguments.
 */
export type Out = (line: string) => void

/** `pas topics`: creates every topic with --partitions partitions; existing topics are left as they are. */
export async function createTopics(log: EventLog, partitions: number, out: Out): Promise<number> {
  const specs = topicSpecs(partitions)
  await log.ensureTopics(specs)
  for (const s of specs) out(`${s.name.padEnd(22)} ${s.partitions} partitions`)
  return 0
}

const KINDS = [
  'portfolios',
  'instruments',
  'transactions',
  'prices',
  'fx-rates',
  'benchmarks',
  'benchmark-segments',
  'business-dates',
  'holidays',
] as const

/** The kind a file holds: --kind, else the first known kind its name starts with (transactions-2025.csv). */
export function kindOf(file: string, given: string | undefined): string | undefined {
  if (given !== undefined) return KINDS.find((k) => k === given)
  const name = basename(file).toLowerCase()
  return KINDS.find((k) => name.startsWith(k))
}

/**
 * `pas ingest FILE... [--kind K] [--url U]`: posts JSON arrays or CSV files (header row) to a
 * running ingest API in chunks, printing progress and every rejected record with its file and row.
 */
export async function ingestFiles(
  files: readonly string[],
  options: { kind?: string | undefined; url: string; chunk: number; key?: string | undefined },
  out: Out,
): Promise<number> {
  if (files.length === 0) {
    out('pas ingest: name at least one file (JSON array or CSV with a header row)')
    return 2
  }
  let failed = false
  for (const file of files) {
    const kind = kindOf(file, options.kind)
    if (!kind) {
      out(`${file}: unknown kind; name the file after one of ${KINDS.join(', ')} or pass --kind`)
      return 2
    }
    const text = readFileSync(file, 'utf8')
    const records: unknown[] = file.toLowerCase().endsWith('.csv') ? parseCsv(text) : JSON.parse(text)
    if (!Array.isArray(records)) {
      out(`${file}: not a JSON array`)
      return 2
    }
    let accepted = 0
    for (let i = 0; i < records.length; i += options.chunk) {
      const res = await fetch(`${options.url}/v1/ingest/${kind}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
        },
        body: JSON.stringify(records.slice(i, i + options.chunk)),
      })
      if (res.status !== 202 && res.status !== 422) {
        out(`${file}: ${kind} answered ${res.status}: ${await res.text()}`)
        return 1
      }
      const body = (await res.json()) as {
        accepted: number
        rejected: { index: number; field: string; message: string }[]
      }
      accepted += body.accepted
      for (const r of body.rejected) {
        failed = true
        // CSV row numbers count the header as row 1; JSON indexes from 0.
        const where = file.toLowerCase().endsWith('.csv') ? `row ${i + r.index + 2}` : `index ${i + r.index}`
        out(`${file}: ${where}: ${r.field || 'record'}: ${r.message}`)
      }
      out(`${file}: ${Math.min(i + options.chunk, records.length)}/${records.length} sent`)
    }
    out(`${file}: ${accepted} ${kind} accepted, ${records.length - accepted} rejected`)
  }
  return failed ? 1 : 0
}

type Letter = {
  id: string
  stage: string
  topic: string
  key: string
  payload: string
  code: string
  reason: string
  createdAt: string
  replayedAt: string | null
}

async function letters(sql: Sql, filter: { ids?: string[]; stage?: string | undefined; all: boolean }) {
  return sql<Letter[]>`
    select id::text as id, stage, topic, key, payload, code, reason, created_at::text as "createdAt",
           replayed_at::text as "replayedAt"
    from dead_letters
    where (${filter.all} or replayed_at is null)
      and (${filter.stage ?? null}::text is null or stage = ${filter.stage ?? null})
      and (${filter.ids === undefined} or id::text = any(${filter.ids ?? []}::text[]))
    order by id`
}

/** `pas dead-letters list [--stage S] [--all]`: the letters not replayed yet (--all: every one). */
export async function listDeadLetters(
  sql: Sql,
  filter: { stage?: string | undefined; all: boolean },
  out: Out,
): Promise<number> {
  const rows = await letters(sql, filter)
  for (const l of rows) {
    out(
      `${l.id}\t${l.stage}\t${l.topic}\t${l.key}\t${l.code}\t${l.reason}\t${l.createdAt}${l.replayedAt ? `\treplayed ${l.replayedAt}` : ''}`,
    )
  }
  out(`${rows.length} dead letter(s)`)
  return 0
}

/**
 * `pas dead-letters replay (--id N[,N...] | --all) [--stage S]`: appends each letter's payload to
 * its topic again, with its key, then marks it replayed. After a fix, the stage takes the record
 * like any other; a letter that fails again becomes a new dead letter. A crash between the
 * append and the mark replays it twice, which the stages' idempotent merges absorb.
 */
export async function replayDeadLetters(
  sql: Sql,
  log: EventLog,
  filter: { ids?: string[] | undefined; stage?: string | undefined },
  out: Out,
): Promise<number> {
  if (filter.ids === undefined && filter.stage === undefined) {
    out(
      'pas dead-letters replay: name the letters with --id N[,N...], or --stage S (or --stage any) for all of a stage',
    )
    return 2
  }
  const stage = filter.stage === 'any' ? undefined : filter.stage
  const rows = await letters(sql, { ids: filter.ids, stage, all: false })
  for (const [topic, group] of Map.groupBy(rows, (l) => l.topic)) {
    await log.append(
      topic,
      group.map((l) => ({ key: l.key, value: l.payload })),
    )
    await sql`update dead_letters set replayed_at = now() where id::text = any(${group.map((l) => l.id)}::text[])`
  }
  out(`${rows.length} dead letter(s) replayed`)
  return 0
}

/**
 * `pas reprocess PORTFOLIO --from DATE [--security S]`: recomputes a portfolio's positions from
 * DATE and revalues it from DATE (which rebuilds its series). Positions are computed a portfolio at
 * a time (one cash ledger), so --security checks the position exists and scopes nothing further.
 */
export async function reprocess(
  sql: Sql,
  log: EventLog,
  request: { portfolioId: string | undefined; from: string | undefined; security?: string | undefined },
  out: Out,
): Promise<number> {
  const { portfolioId, from, security } = request
  if (!portfolioId || !from || !isIsoDate(from)) {
    out('pas reprocess: give a portfolio id and --from YYYY-MM-DD (and optionally --security S)')
    return 2
  }
  const [portfolio] = await sql`select 1 from portfolios where portfolio_id = ${portfolioId}`
  if (!portfolio) {
    out(`pas reprocess: no portfolio ${portfolioId}`)
    return 2
  }
  if (security) {
    const [held] =
      await sql`select 1 from position_history where portfolio_id = ${portfolioId} and position_id = ${security} limit 1`
    if (!held) {
      out(`pas reprocess: portfolio ${portfolioId} has no position ${security}`)
      return 2
    }
  }
  await scheduleReprocess(log, [{ portfolioId, fromDate: from }])
  out(
    `reprocessing ${portfolioId}${security ? ` (position ${security}: the whole portfolio is recomputed)` : ''} from ${from}: positions, valuations and series`,
  )
  return 0
}
