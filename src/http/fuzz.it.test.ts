import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { PgInputStore } from '../adapters/pg-input-store.ts'
import { PgKeyStore } from '../adapters/pg-keys.ts'
import { PgLog } from '../adapters/pg-log.ts'
import type { IngestKind } from '../domain/records.ts'
import { validateRecord } from '../domain/validate.ts'
import { createLogger } from '../runtime/logger.ts'
import { StageRunner } from '../runtime/run-stage.ts'
import { persistStage } from '../stages/persist.ts'
import { freshDatabase } from '../testing/infra.ts'
import type { ScratchDatabase } from '../testing/local-infra.ts'
import { until } from '../testing/pipeline.ts'
import { topicSpecs } from '../topology.ts'
import { createApp } from './app.ts'
import { createGuard } from './auth.ts'
import { ingestRoutes } from './ingest.ts'
import { queryRoutes } from './query.ts'

/**
 * Fuzzing every ingest and query route, with requests built from the routes' own OpenAPI schemas
 * and a library of hostile values (the inputs that once took pas down, and more), through the real
 * ingest → log → persist path on PostgreSQL. Bounded: a fixed number of runs per route, a fixed seed.
 * Nothing may answer 5xx, the persist stage must not fail, and every stored row must be one the API
 * itself would accept.
 */
type Schema = {
  type?: string
  pattern?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  enum?: unknown[]
  const?: unknown
  anyOf?: Schema[]
  properties?: Record<string, Schema>
  required?: string[]
  items?: Schema
}
type Operation = {
  parameters?: { name: string; in: 'path' | 'query'; schema: Schema }[]
  requestBody?: { content: Record<string, { schema: Schema }> }
}

const HOSTILE: unknown[] = [
  '',
  ' ',
  '\u0000',
  'A\u0000B',
  '\ud800',
  'x\udfff',
  'x'.repeat(5000),
  '0000-01-01',
  '2025-13-01',
  '2025-00-10',
  '2025-02-30',
  '1900-01-01',
  '9999-12-31',
  'QQQ',
  'usd',
  '1e20',
  '100000000000000000000',
  '-0',
  'NaN',
  'Infinity',
  "'; drop table portfolios; --",
  '%00',
  '../../etc/passwd',
  '\u202eevil',
  '🍫',
  'CASH:',
  null,
  0,
  -1,
  1e308,
  true,
  [],
  {},
  { $ne: 1 },
]

const CURRENCY = '^[A-Z]{3}$'

/**
 * Values for a schema: from its pattern where fast-check can, else plain strings of its length.
 * Objects come clean (every field valid by its schema) or dirty (some fields hostile).
 */
function valid(schema: Schema): fc.Arbitrary<unknown> {
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map(valid))
  if (schema.const !== undefined) return fc.constant(schema.const)
  if (schema.enum) return fc.constantFrom(...schema.enum)
  switch (schema.type) {
    case 'string':
      if (schema.pattern === CURRENCY) return fc.constantFrom('USD', 'EUR', 'CHF', 'JPY', 'XYZ')
      if (schema.pattern) {
        try {
          const regex = new RegExp(schema.pattern)
          const max = schema.maxLength ?? 64
          return fc.stringMatching(regex).filter((s) => s.length <= max && s.length >= (schema.minLength ?? 0))
        } catch {
          // Lookarounds (ids): printable ASCII without surrounding spaces matches the id rule.
          return fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ._:-]{0,20}[A-Za-z0-9]$/)
        }
      }
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 30, 30) })
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1_000_000 })
    case 'number':
      return fc.double({ min: schema.minimum ?? -10, max: schema.maximum ?? 10, noNaN: true })
    case 'boolean':
      return fc.boolean()
    case 'array':
      return fc.array(valid(schema.items ?? {}), { maxLength: 4 })
    case 'object': {
      const fields = (of: (s: Schema) => fc.Arbitrary<unknown>) =>
        fc.record(Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, of(v)])), {
          requiredKeys: schema.required ?? [],
        })
      return fc.oneof({ weight: 2, arbitrary: fields(valid) }, { weight: 1, arbitrary: fields(field) })
    }
    default:
      return fc.constantFrom(...HOSTILE)
  }
}
/** A field: mostly valid, sometimes hostile. */
const field = (schema: Schema) =>
  fc.oneof({ weight: 4, arbitrary: valid(schema) }, { weight: 1, arbitrary: fc.constantFrom(...HOSTILE) })
const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v))

let db: ScratchDatabase
let app: { handle(request: Request): Promise<Response> }
let persist: StageRunner
let requests = 0
const statuses = new Map<number, number>()

async function send(request: Request) {
  const res = await app.handle(request)
  requests++
  statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
  if (res.status >= 500) throw new Error(`${request.method} ${request.url} answered ${res.status}: ${await res.text()}`)
  await res.arrayBuffer()
}

beforeAll(async () => {
  db = await freshDatabase('fuzz')
  const log = new PgLog(db.sql, { heartbeatMs: 100 })
  await log.ensureTopics(topicSpecs(2))
  persist = new StageRunner(
    persistStage({ store: new PgInputStore(db.sql), log }),
    log,
    { maxRecords: 500, maxWaitMs: 50 },
    createLogger('error'),
  )
  await persist.start()
  app = createApp({
    role: 'fuzz',
    transport: 'pg',
    version: 'test',
    startedAtMs: Date.now(),
    health: () => [persist.health()],
    checkDependencies: async () => {},
    maxBodyBytes: 1 << 20,
    guard: createGuard({
      mode: 'auto',
      keys: new PgKeyStore(db.sql),
      bindHost: '127.0.0.1',
      allowedHosts: [],
      allowedOrigins: [],
      rateLimit: 1_000_000,
    }),
  })
    .use(ingestRoutes({ log, maxRecordsPerRequest: 50 }))
    .use(queryRoutes(db.sql))
  // Something to read: one portfolio with a trade, so query routes reach their analytics.
  await send(
    new Request('http://127.0.0.1/v1/ingest/portfolios', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ portfolioId: 'FZ', baseCurrency: 'EUR', openDate: '2025-01-01', clientId: 'C1' }]),
    }),
  )
}, 60_000)
afterAll(async () => {
  await persist?.stop()
  await db?.drop()
})

describe('fuzzing the API from its OpenAPI document and hostile values', () => {
  let paths: Record<string, Record<string, Operation>>
  beforeAll(async () => {
    const res = await app.handle(new Request('http://127.0.0.1/openapi.json'))
    paths = ((await res.json()) as { paths: typeof paths }).paths
  })

  test('every ingest route, JSON bodies from its request schema: no 5xx', async () => {
    const routes = Object.entries(paths).filter(([p, ops]) => p.startsWith('/v1/ingest/') && ops.post)
    expect(routes.length).toBe(9)
    for (const [path, ops] of routes) {
      const schema = ops.post?.requestBody?.content['application/json']?.schema as Schema
      const body = fc.oneof(
        { weight: 6, arbitrary: fc.array(valid(schema.items ?? {}), { maxLength: 5 }) },
        { weight: 1, arbitrary: fc.constantFrom(...HOSTILE) },
      )
      await fc.assert(
        fc.asyncProperty(body, async (records) => {
          await send(
            new Request(`http://127.0.0.1${path}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(records),
            }),
          )
        }),
        { numRuns: 200, seed: 4242 },
      )
    }
  }, 120_000)

  test('CSV bodies with hostile headers, cells, quotes and line ends: no 5xx', async () => {
    const cell = fc.oneof(
      fc.constantFrom(...HOSTILE.map(text)),
      fc.string({ maxLength: 8 }),
      fc.constantFrom('"', '""', ',', '\r', '\n'),
    )
    const csv = fc
      .tuple(
        fc.array(fc.oneof(fc.constantFrom('securityId', 'date', 'price', 'currency', 'colour', '\uFEFFdate')), {
          maxLength: 6,
        }),
        fc.array(fc.array(cell, { maxLength: 7 }), { maxLength: 6 }),
      )
      .map(([header, rows]) => [header, ...rows].map((r) => r.join(',')).join('\n'))
    for (const path of ['/v1/ingest/transactions', '/v1/ingest/prices', '/v1/ingest/benchmarks']) {
      await fc.assert(
        fc.asyncProperty(csv, async (body) => {
          await send(
            new Request(`http://127.0.0.1${path}`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body }),
          )
        }),
        { numRuns: 100, seed: 4243 },
      )
    }
  }, 120_000)

  test('every query route, path and query parameters from their schemas and hostile values: no 5xx', async () => {
    const routes = Object.entries(paths).filter(([p, ops]) => p.startsWith('/v1/') && ops.get)
    expect(routes.length).toBeGreaterThan(15)
    for (const [path, ops] of routes) {
      const parameters = ops.get?.parameters ?? []
      const values = fc.record(
        Object.fromEntries(
          parameters.map((p) => [
            p.name,
            p.in === 'path'
              ? fc.oneof(fc.constant('FZ'), field(p.schema))
              : fc.option(field(p.schema), { nil: undefined }),
          ]),
        ),
      )
      await fc.assert(
        fc.asyncProperty(values, async (v) => {
          let url = path
          const query = new URLSearchParams()
          for (const p of parameters) {
            const value = v[p.name]
            if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(text(value)))
            else if (value !== undefined) query.set(p.name, text(value))
          }
          await send(new Request(`http://127.0.0.1${url}${query.size ? `?${query}` : ''}`))
        }),
        { numRuns: 60, seed: 4244 },
      )
    }
  }, 120_000)

  test('afterwards: persist never failed, and every stored row is one the API accepts', async () => {
    // Wait until persist has read everything appended.
    await until(
      async () => {
        const [lag] = await db.sql`select coalesce(sum(p.next_offset - coalesce(o.next_offset, 0)), 0)::int as n
        from log_partitions p left join log_group_offsets o
          on o.grp = 'pas.persist' and o.topic = p.topic and o.partition = p.partition
        where p.topic like 'raw.%'`
        return lag?.n === 0 ? true : undefined
      },
      'persist to catch up',
      60_000,
    )
    expect(persist.health().state).toBe('running')
    const rows: [IngestKind, unknown][] = [
      ...(await db.sql`select record from portfolios`).map((r): [IngestKind, unknown] => ['portfolio', r.record]),
      ...(await db.sql`select record from instruments`).map((r): [IngestKind, unknown] => ['instrument', r.record]),
      ...(await db.sql`select record from transactions`).map((r): [IngestKind, unknown] => ['transaction', r.record]),
      ...(
        await db.sql`select security_id as "securityId", date::text as date, price::text as price, currency from prices`
      ).map((r): [IngestKind, unknown] => ['price', { ...r }]),
      ...(
        await db.sql`select from_currency as "from", to_currency as "to", date::text as date, rate::text as rate from fx_rates`
      ).map((r): [IngestKind, unknown] => ['fx', { ...r }]),
      ...(
        await db.sql`select benchmark_id as "benchmarkId", date::text as date, classification, segment,
          weight::text as weight, return::text as return from benchmark_segments`
      ).map((r): [IngestKind, unknown] => ['benchmarkSegment', { ...r }]),
      ...(await db.sql`select calendar_id as "calendarId", date::text as date, name from holidays`).map(
        (r): [IngestKind, unknown] => ['holiday', Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null))],
      ),
    ]
    const refused = rows.filter(([kind, record]) => validateRecord(kind, record).length > 0)
    console.info(
      `fuzz: ${requests} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}, ${rows.length} rows stored`,
    )
    expect(refused).toEqual([])
    expect(rows.length).toBeGreaterThan(50) // the fuzzing stored valid records too, not only refusals
  }, 120_000)
})
