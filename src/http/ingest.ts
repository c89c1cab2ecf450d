import { Elysia, t } from 'elysia'
import type { IngestKind } from '../domain/records.ts'
import { keyOf, recordSchemas, validateRecord } from '../domain/validate.ts'
import { worthRetrying } from '../errors.ts'
import type { EventLog } from '../ports/event-log.ts'
import type { Logger } from '../runtime/logger.ts'
import { type Topic, Topics } from '../topology.ts'
import { principalOf } from './auth.ts'
import { CsvError, readCsv } from './csv.ts'
import { correlationIdOf, ErrorBody, errorBody, errorResponse } from './errors.ts'

type Endpoint = { path: string; kind: IngestKind; topic: Topic; csv: boolean; summary: string }

/** The ingest endpoints: one per kind of record, each appending to its raw topic. */
const endpoints: readonly Endpoint[] = [
  {
    path: '/portfolios',
    kind: 'portfolio',
    topic: Topics.rawReference,
    csv: false,
    summary: 'Portfolios',
  },
  {
    path: '/instruments',
    kind: 'instrument',
    topic: Topics.rawReference,
    csv: false,
    summary: 'Instruments',
  },
  {
    path: '/transactions',
    kind: 'transaction',
    topic: Topics.rawTransactions,
    csv: true,
    summary: 'Transactions',
  },
  { path: '/prices', kind: 'price', topic: Topics.rawPrices, csv: true, summary: 'Prices' },
  { path: '/fx-rates', kind: 'fx', topic: Topics.rawFx, csv: false, summary: 'FX rates' },
  {
    path: '/benchmarks',
    kind: 'benchmark',
    topic: Topics.rawPrices,
    csv: true,
    summary: 'Benchmarks',
  },
  {
    path: '/benchmark-segments',
    kind: 'benchmarkSegment',
    topic: Topics.rawPrices,
    csv: true,
    summary: 'Benchmark segments (weights and returns per classification, for attribution)',
  },
  {
    path: '/business-dates',
    kind: 'businessDate',
    topic: Topics.rawReference,
    csv: false,
    summary: 'Business dates',
  },
  {
    path: '/holidays',
    kind: 'holiday',
    topic: Topics.rawReference,
    csv: false,
    summary: 'Holidays of a holiday calendar (portfolios naming it in `calendar` are not valued on them)',
  },
]

const Rejected = t.Object({
  index: t.Integer({ description: 'Position of the record in the request, from 0' }),
  field: t.String({ description: "The field at fault ('' for the record as a whole)" }),
  message: t.String(),
})
const IngestResult = t.Object({
  ingestId: t.String({
    description:
      'Correlation id of this request (the X-Correlation-ID header when given, else a new one); it travels with every accepted record',
  }),
  accepted: t.Integer({ description: 'Records appended durably to the log' }),
  rejected: t.Array(Rejected),
})

export type IngestOptions = {
  log: EventLog
  maxRecordsPerRequest: number
  /** Whether an append failed because the log is unreachable (answered 503 with Retry-After). */
  isTransient?: (error: unknown) => boolean
  /** The client of each portfolio that exists: keys limited to some clients write only theirs. */
  clientsOf?: (portfolioIds: readonly string[]) => Promise<Map<string, string | undefined>>
  /**
   * One line per request with its ingest id (the caller's X-Correlation-ID): `info` when records
   * were rejected, `debug` when all were accepted (PAS_LOG_LEVEL=debug shows every request).
   */
  logger?: Logger
}
/** Seconds a client is asked to wait when the log is unreachable. */
const RETRY_AFTER_S = 5
/** The body of a text/csv request, handed to the route unread so it is parsed as a stream. */
type CsvBody = { csv: ReadableStream<Uint8Array> | string }
const isCsvBody = (body: unknown): body is CsvBody => typeof body === 'object' && body !== null && 'csv' in body

/**
 * POST /v1/ingest/{portfolios|instruments|transactions|prices|fx-rates|benchmarks|business-dates|holidays}: a JSON
 * array of records (`application/json`), or for transactions, prices and benchmarks `text/csv` with a header
 * row; any other content type is 415.
 *
 * Per record, not all or nothing: the valid records are appended to the raw topic, keyed by
 * portfolio, security or pair, and the answer comes once the log holds them durably: 202 when all
 * were valid, 422 when some were not, listing each rejected record's index and field (the valid
 * ones are accepted all the same). More records than the per-request limit: 413, nothing appended.
 * A key limited to some clients writes only their portfolios and transactions; market data,
 * instruments, the business date and holidays need a key for every client (403).
 */
export function ingestRoutes({
  log,
  maxRecordsPerRequest,
  isTransient = () => false,
  clientsOf,
  logger,
}: IngestOptions) {
  const app = new Elysia({ prefix: '/v1/ingest' })
    .onRequest(({ request }) => {
      const path = new URL(request.url).pathname
      const endpoint = endpoints.find((e) => `/v1/ingest${e.path}` === path)
      if (!endpoint || request.method !== 'POST') return
      const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase()
      if (type === 'application/json' || (type === 'text/csv' && endpoint.csv)) return
      const accepts = endpoint.csv ? 'application/json or text/csv' : 'application/json'
      return errorResponse(request, 415, `content-type ${type || '(none)'}: this route takes ${accepts}`, {
        accept: accepts,
      })
    })
    .onParse(({ request }, contentType) =>
      contentType.startsWith('text/csv') ? ({ csv: request.body ?? '' } satisfies CsvBody) : undefined,
    )
  for (const endpoint of endpoints) {
    const schema = recordSchemas[endpoint.kind]
    const columns = Object.keys(schema.properties)
    app.post(
      endpoint.path,
      async ({ body, status, set, request }) => {
        let records: unknown = body
        if (isCsvBody(body)) {
          try {
            records = await readCsv(body.csv, columns, maxRecordsPerRequest)
          } catch (error) {
            if (!(error instanceof CsvError)) throw error
            return status(error.status, errorBody(request, error.status, error.message, { field: error.field }))
          }
        }
        if (!Array.isArray(records)) {
          const message = `the body must be a JSON array of ${endpoint.kind} records${endpoint.csv ? ' or CSV' : ''}`
          return status(400, errorBody(request, 400, message))
        }
        if (records.length > maxRecordsPerRequest) {
          const message = `${records.length} records; at most ${maxRecordsPerRequest} per request`
          return status(413, errorBody(request, 413, message))
        }
        const principal = principalOf(request)
        const limited = principal.clientIds !== null
        if (limited && endpoint.kind !== 'transaction' && endpoint.kind !== 'portfolio') {
          const message = `key ${principal.keyId} is limited to some clients; ${endpoint.summary.toLowerCase()} need a key for every client`
          return status(403, errorBody(request, 403, message))
        }
        // The caller's X-Correlation-ID when it gives a sane one: it travels with every record.
        const ingestId = correlationIdOf(request)
        const rejected: { index: number; field: string; message: string }[] = []
        const valid: { index: number; record: Record<string, unknown> }[] = []
        for (const [index, record] of records.entries()) {
          const problems = validateRecord(endpoint.kind, record)
          if (problems.length === 0) valid.push({ index, record: record as Record<string, unknown> })
          else for (const p of problems) rejected.push({ index, ...p })
        }
        const visible = limited
          ? await visibility(endpoint.kind, valid, principal.clientIds ?? [], clientsOf)
          : undefined
        const accepted = []
        for (const { index, record } of valid) {
          const problem = visible?.(record)
          if (problem) {
            rejected.push({ index, ...problem })
            continue
          }
          const value = JSON.stringify({ kind: endpoint.kind, ingestId, keyId: principal.keyId, record })
          accepted.push({ key: keyOf(endpoint.kind, record), value })
        }
        try {
          await log.append(endpoint.topic, accepted)
        } catch (error) {
          if (!worthRetrying(error, isTransient)) throw error
          set.headers['retry-after'] = String(RETRY_AFTER_S)
          const message = `the log is unreachable; send the request again in ${RETRY_AFTER_S} s (resending what was accepted is harmless)`
          return status(503, errorBody(request, 503, message))
        }
        rejected.sort((a, b) => a.index - b.index)
        const result = { ingestId, accepted: accepted.length, rejected }
        const line = { ingestId, kind: endpoint.kind, keyId: principal.keyId, accepted: accepted.length }
        if (rejected.length > 0)
          logger?.info('ingest rejected records', { ...line, rejected: rejected.length, first: rejected[0] })
        else logger?.debug('ingested', line)
        return rejected.length > 0 ? status(422, result) : status(202, result)
      },
      {
        detail: {
          tags: ['ingest'],
          summary: `Ingest ${endpoint.summary.toLowerCase()}`,
          description: `A JSON array of ${endpoint.kind} records${endpoint.csv ? ', or text/csv with a header row (a byte-order mark is skipped; unknown or repeated columns are refused)' : ''}. Per-record: valid records are kept even when others are rejected.`,
          // The request body is documented here rather than declared as the route's body schema:
          // records are validated one by one in the handler, so valid ones are kept when others are not.
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: { type: 'array', items: schema } },
              ...(endpoint.csv
                ? {
                    'text/csv': {
                      schema: { type: 'string', description: `A header row naming ${columns.join(', ')}` },
                    },
                  }
                : {}),
            },
          },
        },
        response: {
          202: IngestResult,
          422: t.Union([IngestResult, ErrorBody]),
          400: ErrorBody,
          403: ErrorBody,
          413: ErrorBody,
          503: ErrorBody,
        },
      },
    )
  }
  return app
}

/**
 * For a key limited to `clients`: a function naming what is wrong with a record it may not write
 * (a portfolio of another client, a transaction of a portfolio that is not theirs or not known yet).
 */
async function visibility(
  kind: IngestKind,
  valid: readonly { record: Record<string, unknown> }[],
  clients: readonly string[],
  clientsOf: IngestOptions['clientsOf'],
) {
  const allowed = new Set(clients)
  if (kind === 'portfolio') {
    return (r: Record<string, unknown>) =>
      allowed.has(String(r.clientId))
        ? undefined
        : { field: 'clientId', message: 'not a client this key may write for' }
  }
  const ids = [...new Set(valid.map((v) => String(v.record.portfolioId)))]
  const owners = (await clientsOf?.(ids)) ?? new Map<string, string | undefined>()
  return (r: Record<string, unknown>) => {
    const owner = owners.get(String(r.portfolioId))
    return owner !== undefined && allowed.has(owner)
      ? undefined
      : { field: 'portfolioId', message: `no portfolio ${String(r.portfolioId)} this key may write to` }
  }
}
