import { AppError } from '../errors.ts'
import { createPgClient, type Sql, type Tx } from './pg-client.ts'
import { isPgTransient } from './pg-errors.ts'

/** A COPY cell: text, or null for SQL NULL. */
export type Cell = string | null

/** Characters COPY's text format escapes. Most cells (numbers, dates, ids) have none. */
const SPECIAL = /[\\\t\n\r]/
const escaped: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }

/**
 * COPY text format: tab-separated, \N for null, backslash escapes for \\, tab, newline, return.
 * Only cells that contain one of those are rewritten (escaping every cell was the largest
 * single cost of the pipeline in a CPU profile).
 */
export function copyLine(cells: readonly Cell[]): string {
  let line = ''
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i]
    if (i > 0) line += '\t'
    if (c === null || c === undefined) line += '\\N'
    else if (SPECIAL.test(c)) line += c.replace(/[\\\t\n\r]/g, (ch) => escaped[ch] as string)
    else line += c
  }
  return `${line}\n`
}

/**
 * Writes `rows` into `table` with COPY FROM STDIN inside `tx`. If the server refuses the data,
 * postgres.js 3.4.9 never settles the COPY (upstream #1173): after `timeoutMs` this rejects with
 * COPY_TIMEOUT, and the caller must discard the connection (see PgWriter). If the connection
 * goes away under it (the stream errs or closes before it finished), this rejects at once with
 * a retryable error.
 */
export async function copyRows(
  tx: Tx,
  table: string,
  columns: readonly string[],
  rows: Iterable<readonly Cell[]>,
  timeoutMs: number,
) {
  if (Array.isArray(rows) && rows.length === 0) return
  const writable =
    await tx`copy ${tx(table)} (${tx.unsafe(columns.map((c) => `"${c}"`).join(', '))}) from stdin`.writable()
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new AppError(
          'COPY_TIMEOUT',
          `COPY into ${table} did not finish in ${timeoutMs} ms; the server refused the rows`,
          false,
        ),
      )
    }, timeoutMs)
    writable.on('error', (error: Error) => {
      clearTimeout(timer)
      reject(error)
    })
    let finished = false
    writable.on('finish', () => {
      finished = true
      clearTimeout(timer)
      resolve()
    })
    // Closed before it finished, with or without an error: the connection went away under it.
    writable.on('close', () => {
      if (finished) return
      clearTimeout(timer)
      reject(new AppError('STORE_UNAVAILABLE', `COPY into ${table} was cut off: the connection closed`, true))
    })
    // Chunks of ~1 MB, each written once the socket took the previous one (backpressure): memory
    // stays flat, and the socket layer never piles pending chunks up (copying them as it did).
    // A refused COPY may never drain: its end (close or error) releases the wait too.
    const drained = () =>
      new Promise<void>((done) => {
        const finish = () => {
          for (const event of ['drain', 'close', 'error']) writable.off(event, finish)
          done()
        }
        for (const event of ['drain', 'close', 'error']) writable.on(event, finish)
      })
    void (async () => {
      let chunk = ''
      for (const row of rows) {
        chunk += copyLine(row)
        if (chunk.length > 1 << 20) {
          if (!writable.write(chunk)) await drained()
          chunk = ''
        }
      }
      writable.end(chunk)
    })().catch(reject)
  })
}

/**
 * A single-connection client for a stage's derived writes. A transaction whose COPY timed out, or
 * whose connection failed (a server stopped or restarted under it), is torn down with its
 * connection (the server then rolls it back) and a fresh connection replaces it: postgres.js
 * does not settle a transaction whose COPY stream died, so reusing the client would wait forever.
 * A refused COPY can neither hang the stage nor leak an aborted transaction into a pool.
 */
export class PgWriter {
  #sql: Sql

  constructor(
    private readonly url: string,
    private readonly applicationName: string,
  ) {
    this.#sql = createPgClient({ url, max: 1, applicationName })
  }

  async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const sql = this.#sql
    try {
      return (await sql.begin(work)) as T
    } catch (error) {
      if ((error instanceof AppError && error.code === 'COPY_TIMEOUT') || isPgTransient(error)) {
        this.#sql = createPgClient({ url: this.url, max: 1, applicationName: this.applicationName })
        void sql.end({ timeout: 0 }) // tear the stuck connection down; do not wait for it
      }
      throw error
    }
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 5 })
  }
}
