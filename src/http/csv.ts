import { type Parser, parse } from 'csv-parse'
import { parse as parseSync } from 'csv-parse/sync'

/** Why a CSV was refused as a whole: its header (unknown or repeated columns), its size, or its syntax. */
export class CsvError extends Error {
  override name = 'CsvError'
  constructor(
    readonly status: 413 | 422,
    message: string,
    readonly field?: string,
  ) {
    super(message)
  }
}

/** A cell longer than this is refused: no field of any record is near it. */
const MAX_CELL = 4096
/** A row may stop early (its missing cells are empty, as spreadsheets write them), never run long. */
const dialect = {
  bom: true,
  skip_empty_lines: true,
  relax_column_count_less: true,
  record_delimiter: ['\r\n', '\n', '\r'],
}
const withoutEmpty = (row: Record<string, string>) => {
  const record: Record<string, string> = {}
  for (const [name, cell] of Object.entries(row)) if (cell !== '') record[name] = cell
  return record
}

/**
 * A whole CSV text in memory (the demo's sample files, `pas ingest` on the operator's side), read
 * by the same rules as readCsv; the server judges its columns when the records arrive.
 */
export function parseCsv(text: string): Record<string, string>[] {
  return (
    parseSync(text, { ...dialect, columns: (h: string[]) => h.map((n) => n.trim()) }) as Record<string, string>[]
  ).map(withoutEmpty)
}

/**
 * Reads CSV (RFC 4180: a header row of field names, then one record per row; quoted cells may hold
 * commas, quotes and line breaks; a UTF-8 byte-order mark is skipped) with csv-parse, as a stream:
 * memory stays bounded by `maxRecords`, past which it stops reading and throws 413. A header naming
 * a column not in `columns`, or one column twice, is refused whole (422 naming them). An empty cell
 * leaves its field out of the record.
 */
export async function readCsv(
  body: ReadableStream<Uint8Array> | string,
  columns: readonly string[],
  maxRecords: number,
): Promise<Record<string, string>[]> {
  const known = new Set(columns)
  const parser: Parser = parse({
    ...dialect,
    max_record_size: MAX_CELL * 64,
    columns: (header: string[]) => {
      const names = header.map((h) => h.trim())
      const unknown = names.filter((n) => !known.has(n))
      if (unknown.length > 0) {
        throw new CsvError(422, `unknown column(s): ${unknown.join(', ')}; known: ${columns.join(', ')}`, unknown[0])
      }
      const repeated = names.filter((n, i) => names.indexOf(n) !== i)
      if (repeated.length > 0) throw new CsvError(422, `column(s) given twice: ${repeated.join(', ')}`, repeated[0])
      return names
    },
  })
  const feeding = feed(body, parser)
  const records: Record<string, string>[] = []
  try {
    for await (const row of parser as AsyncIterable<Record<string, string>>) {
      if (records.length === maxRecords) throw new CsvError(413, `more than ${maxRecords} records in one request`)
      records.push(withoutEmpty(row))
    }
    await feeding
  } catch (error) {
    parser.destroy()
    await feeding.catch(() => {})
    if (error instanceof CsvError) throw error
    throw new CsvError(422, `not valid CSV: ${(error as Error).message}`)
  }
  return records
}

async function feed(body: ReadableStream<Uint8Array> | string, parser: Parser): Promise<void> {
  if (typeof body === 'string') {
    parser.end(body)
    return
  }
  const reader = body.getReader()
  try {
    for (;;) {
      if (parser.destroyed) return void (await reader.cancel())
      const { done, value } = await reader.read()
      if (done) break
      if (!parser.write(value)) {
        await new Promise<void>((resolve) => {
          parser.once('drain', resolve)
          parser.once('close', resolve) // destroyed by the reader (too many records, a bad header)
        })
      }
    }
    parser.end()
  } finally {
    reader.releaseLock()
  }
}
