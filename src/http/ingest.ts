import { randomUUID } from 'node:crypto'
import { Elysia, t } from 'elysia'
import type { IngestKind } from '../domain/records.ts'
import { keyOf, validateRecord } from '../domain/validate.ts'
import type { EventLog } from '../ports/event-log.ts'
import { type Topic, Topics } from '../topology.ts'
import { parseCsv } from './csv.ts'

type Endpoint = { path: string; kind: IngestKind; topic: Topic; csv: boolean; summary: string }

/** The ingest endpoints: one per kind of record, each appending to its raw topic. */
const endpoints: readonly Endpoint[] = [
  { path: '/portfolios', kind: 'portfolio', topic: Topics.rawReference, csv: false, summary: 'Portfolios' },
  { path: '/instruments', kind: 'instrument', topic: Topics.rawReference, csv: false, summary: 'Instruments' },
  { path: '/transactions', kind: 'transaction', topic: Topics.rawTransactions, csv: true, summary: 'Transactions' },
  { path: '/prices', kind: 'price', topic: Topics.rawPrices, csv: true, summary: 'Prices' },
  { path: '/fx-rates', kind: 'fx', topic: Topics.rawFx, csv: false, summary: 'FX rates' },
  { path: '/benchmarks', kind: 'benchmark', topic: Topics.rawPrices, csv: true, summary: 'Benchmarks' },
  { path: '/business-dates', kind: 'businessDate', topic: Topics.rawReference, csv: false, summary: 'Business dates' },
]

const Rejected = t.Object({
  index: t.Integer({ description: 'Position of the record in the request, from 0' }),
  field: t.String({ description: "The field at fault ('' for the record as a whole)" }),
  message: t.String(),
})
const IngestResult = t.Object({
  ingestId: t.String({ description: 'Correlation id of this request; it travels with every accepted record' }),
  accepted: t.Integer({ description: 'Records appended durably to the log' }),
  rejected: t.Array(Rejected),
})

export type IngestOptions = {
  log: EventLog
  maxRecordsPerRequest: number
  /** Whether an append failed because the log is unreachable (answered 503 with Retry-After). */
  isTransient?: (error: unknown) => boolean
}
/** Seconds a client is asked to wait when the log is unreachable. */
const RETRY_AFTER_S = 5

/**
 * POST /v1/ingest/{portfolios|instruments|transactions|prices|fx-rates|benchmarks|business-dates}: a JSON array of
 * records (or, for transactions, prices and benchmarks, `text/csv` with a header row).
 *
 * Per record, not all or nothing: the valid records are appended to the raw topic, keyed by
 * portfolio, security or pair, and the answer comes once the log holds them durably: 202 when all
 * were valid, 422 when some were not, listing each rejected record's index and field (the valid
 * ones are accepted all the same). More records than the per-request limit: 413, nothing appended.
 */
export function ingestRoutes({ log, maxRecordsPerRequest, isTransient = () => false }: IngestOptions) {
  const app = new Elysia({ prefix: '/v1/ingest' }).onParse(({ request }, contentType) =>
    contentType.startsWith('text/csv') ? request.text() : undefined,
  )
  for (const endpoint of endpoints) {
    app.post(
      endpoint.path,
      async ({ body, status, set }) => {
        const records = typeof body === 'string' && endpoint.csv ? parseCsv(body) : body
        if (!Array.isArray(records)) {
          return status(400, {
            error: `the body must be a JSON array of ${endpoint.kind} records${endpoint.csv ? ' or CSV' : ''}`,
          })
        }
        if (records.length > maxRecordsPerRequest) {
          return status(413, { error: `${records.length} records; at most ${maxRecordsPerRequest} per request` })
        }
        const ingestId = randomUUID()
        const rejected: { index: number; field: string; message: string }[] = []
        const accepted = []
        for (const [index, record] of records.entries()) {
          const problems = validateRecord(endpoint.kind, record)
          if (problems.length === 0) {
            const value = JSON.stringify({ kind: endpoint.kind, ingestId, record })
            accepted.push({ key: keyOf(endpoint.kind, record as Record<string, unknown>), value })
          } else for (const p of problems) rejected.push({ index, ...p })
        }
        try {
          await log.append(endpoint.topic, accepted)
        } catch (error) {
          if (!isTransient(error)) throw error
          set.headers['retry-after'] = String(RETRY_AFTER_S)
          return status(503, {
            error: `the log is unreachable; nothing of this request was stored, send it again in ${RETRY_AFTER_S} s`,
          })
        }
        const result = { ingestId, accepted: accepted.length, rejected }
        return rejected.length > 0 ? status(422, result) : status(202, result)
      },
      {
        detail: {
          tags: ['ingest'],
          summary: `Ingest ${endpoint.summary.toLowerCase()}`,
          description: `A JSON array of ${endpoint.kind} records${endpoint.csv ? ', or text/csv with a header row' : ''}. Per-record: valid records are kept even when others are rejected.`,
        },
        response: {
          202: IngestResult,
          422: IngestResult,
          400: t.Object({ error: t.String() }),
          413: t.Object({ error: t.String() }),
          503: t.Object({ error: t.String() }),
        },
      },
    )
  }
  return app
}
