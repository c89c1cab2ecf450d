import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { PgKeyStore } from '../adapters/pg-keys.ts'
import { PgLog } from '../adapters/pg-log.ts'
import { freshDatabase } from '../testing/infra.ts'
import type { ScratchDatabase } from '../testing/local-infra.ts'
import { Topics, topicSpecs } from '../topology.ts'
import { adminRoutes } from './admin.ts'
import { createApp, GZIP_MIN_BYTES } from './app.ts'
import { createGuard, type GuardOptions } from './auth.ts'
import { dashboardRoutes } from './dashboard.ts'
import { ingestRoutes } from './ingest.ts'
import { queryRoutes } from './query.ts'

/**
 * The HTTP edge as served (real PostgreSQL for keys and reads, the pg log, a real socket): who may
 * call what, and what a browser on another site or a rebound DNS name cannot do.
 */
let db: ScratchDatabase
let keys: PgKeyStore
const servers: { stop(): void }[] = []
afterAll(async () => {
  for (const s of servers) s.stop()
  await db?.drop()
})

async function serve(options: Partial<GuardOptions> = {}) {
  const log = new PgLog(db.sql)
  await log.ensureTopics(topicSpecs(2))
  const app = createApp({
    role: 'test',
    transport: 'pg',
    version: 'test',
    startedAtMs: Date.now(),
    health: () => [],
    checkDependencies: async () => {},
    maxBodyBytes: 4096,
    guard: createGuard({
      mode: 'auto',
      keys,
      bindHost: '127.0.0.1',
      allowedHosts: [],
      allowedOrigins: ['https://desk.example'],
      rateLimit: 1000,
      ...options,
    }),
  })
    .use(
      ingestRoutes({
        log,
        maxRecordsPerRequest: 100,
        clientsOf: async (ids) => {
          const rows = await db.sql`select portfolio_id, record->>'clientId' as c from portfolios
            where portfolio_id = any(${ids as string[]})`
          return new Map(rows.map((r) => [r.portfolio_id as string, (r.c as string | null) ?? undefined]))
        },
      }),
    )
    .use(dashboardRoutes())
    .use(queryRoutes(db.sql))
    .use(adminRoutes(db.sql, log))
    .listen({ hostname: '127.0.0.1', port: 0 })
  servers.push(app)
  return { url: `http://127.0.0.1:${app.server?.port}`, log }
}

const portfolio = (id: string, clientId: string) => ({
  portfolioId: id,
  baseCurrency: 'EUR',
  openDate: '2025-01-01',
  clientId,
})
const deposit = (id: string, portfolioId: string) => ({
  transactionId: id,
  portfolioId,
  type: 'DEPOSIT',
  tradeDate: '2025-01-02',
  grossAmount: '100',
  currency: 'EUR',
})

beforeAll(async () => {
  db = await freshDatabase('edge')
  keys = new PgKeyStore(db.sql)
  // Two clients' portfolios, stored as persist stores them.
  for (const p of [portfolio('PA', 'CLIENT-A'), portfolio('PB', 'CLIENT-B')]) {
    await db.sql`insert into portfolios (portfolio_id, base_currency, open_date, cost_method, record)
      values (${p.portfolioId}, 'EUR', '2025-01-01', 'FIFO', ${db.sql.json(p)})`
  }
}, 60_000)

describe('auth off on loopback until the first key exists (auto)', () => {
  test('open: reads and writes pass without a key, and the write is recorded as `open`', async () => {
    const { url, log } = await serve()
    const res = await fetch(`${url}/v1/portfolios`)
    expect(res.status).toBe(200)
    const c = log.consumer({ group: 'edge-open', topics: [Topics.rawTransactions], maxRecords: 10, maxWaitMs: 200 })
    const posted = await fetch(`${url}/v1/ingest/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([deposit('T-open', 'PA')]),
    })
    expect(posted.status).toBe(202)
    const batch = await c.poll()
    expect(JSON.parse(batch.records[0]?.value ?? '{}')).toMatchObject({ keyId: 'open' })
    await c.close()
  })
})

describe('with keys', () => {
  let url: string
  let reader: string
  let ingester: string
  let admin: string
  let clientA: string
  const call = (path: string, token?: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, {
      ...init,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string>) },
    })
  const post = (path: string, token: string | undefined, records: unknown[], type = 'application/json') =>
    call(path, token, { method: 'POST', headers: { 'content-type': type }, body: JSON.stringify(records) })

  beforeAll(async () => {
    reader = await keys.create('reader', ['read'], null)
    ingester = await keys.create('feed', ['ingest'], null)
    admin = await keys.create('ops', ['admin'], null)
    clientA = await keys.create('client A desk', ['read', 'ingest'], ['CLIENT-A'])
    ;({ url } = await serve())
  })

  test('no key is 401 with WWW-Authenticate; a wrong or malformed key is 401; health and docs stay open', async () => {
    const none = await call('/v1/portfolios')
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toContain('Bearer')
    expect(await none.json()).toMatchObject({ code: 'UNAUTHENTICATED', correlationId: expect.any(String) })
    const forged = `${reader.slice(0, -4)}AAAA`
    expect((await call('/v1/portfolios', forged)).status).toBe(401)
    expect((await call('/v1/portfolios', 'pas_nonsense')).status).toBe(401)
    expect((await call('/health')).status).toBe(200)
    expect((await call('/openapi.json')).status).toBe(200)
    // The dashboard's page is open too (its data comes from the API, with a key); unchanged, it is a 304.
    const page = await call('/')
    expect(page.status).toBe(200)
    const etag = page.headers.get('etag') ?? ''
    expect((await call('/', undefined, { headers: { 'if-none-match': etag } })).status).toBe(304)
  })

  test('a long JSON answer is gzip-compressed for a client that takes it, with the same content and headers', async () => {
    // The OpenAPI document is well over GZIP_MIN_BYTES; Bun's fetch asks for gzip and decodes it.
    const plain = await call('/openapi.json', undefined, { headers: { 'accept-encoding': 'identity' } })
    const zipped = await call('/openapi.json')
    expect(plain.headers.get('content-encoding')).toBeNull()
    expect(zipped.headers.get('content-encoding')).toBe('gzip')
    expect(zipped.headers.get('x-correlation-id')).not.toBeNull()
    expect(zipped.headers.get('content-type')).toStartWith('application/json')
    const text = await plain.text()
    expect(text.length).toBeGreaterThan(GZIP_MIN_BYTES)
    expect(await zipped.json()).toEqual(JSON.parse(text))
    // Short answers and errors go as they are.
    expect((await call('/health')).headers.get('content-encoding')).toBeNull()
    expect((await call('/v1/portfolios')).headers.get('content-encoding')).toBeNull() // 401
  })

  test('each scope: read reads, ingest ingests, admin does reference data and the business date; else 403', async () => {
    expect((await call('/v1/portfolios', reader)).status).toBe(200)
    expect((await post('/v1/ingest/transactions', reader, [deposit('T-r', 'PA')])).status).toBe(403)
    expect((await post('/v1/ingest/transactions', ingester, [deposit('T-i', 'PA')])).status).toBe(202)
    expect((await call('/v1/portfolios', ingester)).status).toBe(403)
    const forbidden = await post('/v1/ingest/business-dates', ingester, [{ date: '2025-01-10' }])
    expect(forbidden.status).toBe(403)
    expect(await forbidden.json()).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('admin') })
    expect((await post('/v1/ingest/portfolios', ingester, [portfolio('PC', 'CLIENT-C')])).status).toBe(403)
    expect((await post('/v1/ingest/business-dates', admin, [{ date: '2025-01-10' }])).status).toBe(202)
    expect((await call('/v1/portfolios', admin)).status).toBe(200)
    // Reprocessing is admin only; an unknown portfolio is then 404, and a body the schema refuses is
    // 400 naming the field, through the app's own error handling.
    const reprocess = (token: string, body: unknown) =>
      call('/v1/admin/reprocess', token, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    expect((await reprocess(ingester, { portfolioId: 'PA', from: '2025-01-06' })).status).toBe(403)
    expect((await reprocess(admin, { portfolioId: 'NOPE', from: '2025-01-06' })).status).toBe(404)
    const invalid = await reprocess(admin, { portfolioId: 'PA', transactionIds: ['ok', ''] })
    expect([invalid.status, ((await invalid.json()) as { field: string }).field]).toEqual([400, 'transactionIds.1'])
  })

  test('a key limited to one client sees only its portfolios: another client’s is 404, not 403', async () => {
    const list = (await (await call('/v1/portfolios', clientA)).json()) as { items: { portfolioId: string }[] }
    expect(list.items.map((p) => p.portfolioId)).toEqual(['PA'])
    expect((await call('/v1/portfolios/PA', clientA)).status).toBe(200)
    const other = await call('/v1/portfolios/PB', clientA)
    expect(other.status).toBe(404)
    expect(await other.json()).toMatchObject({ code: 'NOT_FOUND', field: 'portfolioId' })
    expect((await call('/v1/portfolios/PB/transactions', clientA)).status).toBe(404)
    // It writes its own client's transactions, not another's, and no market data.
    const mixed = await post('/v1/ingest/transactions', clientA, [deposit('T-a', 'PA'), deposit('T-b', 'PB')])
    expect(mixed.status).toBe(422)
    expect(await mixed.json()).toMatchObject({ accepted: 1, rejected: [{ index: 1, field: 'portfolioId' }] })
    const price = { securityId: 'S', date: '2025-01-02', price: '1', currency: 'EUR' }
    expect((await post('/v1/ingest/prices', clientA, [price])).status).toBe(403)
  })

  test('CSRF: text/plain, forms and multipart are 415; an Origin outside the allow-list is 403', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      expect((await post('/v1/ingest/transactions', ingester, [deposit('T-c', 'PA')], type)).status).toBe(415)
    }
    const foreign = await call('/v1/portfolios', reader, { headers: { origin: 'https://evil.example' } })
    expect(foreign.status).toBe(403)
    expect(await foreign.json()).toMatchObject({ message: expect.stringContaining('https://evil.example') })
    expect((await call('/v1/portfolios', reader, { headers: { origin: 'https://desk.example' } })).status).toBe(200)
    expect((await call('/v1/portfolios', reader, { headers: { origin: url } })).status).toBe(200) // its own pages
  })

  test('DNS rebinding: a Host that is not a loopback name is 403 on a loopback bind', async () => {
    const rebound = await call('/v1/portfolios', reader, { headers: { host: 'attacker.example' } })
    expect(rebound.status).toBe(403)
    expect((await call('/health', undefined, { headers: { host: 'attacker.example:8080' } })).status).toBe(403)
    expect((await call('/v1/portfolios', reader, { headers: { host: 'localhost' } })).status).toBe(200)
  })

  test('over the rate limit: 429 with Retry-After, for that key only', async () => {
    const limited = await serve({ rateLimit: 5 })
    const statuses: number[] = []
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${limited.url}/v1/portfolios`, { headers: { authorization: `Bearer ${reader}` } })
      statuses.push(res.status)
      if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200)) // a burst of twice the rate
    expect(statuses.slice(10)).toEqual([429, 429])
    const other = await fetch(`${limited.url}/v1/portfolios`, { headers: { authorization: `Bearer ${admin}` } })
    expect(other.status).toBe(200)
  })

  test('a revoked key stops working (within the 10 s cache, here at once on a new server)', async () => {
    const temp = await keys.create('temp', ['read'], null)
    const keyId = temp.split('_')[1] as string
    expect(await keys.revoke(keyId)).toBe(true)
    const fresh = await serve()
    expect((await fetch(`${fresh.url}/v1/portfolios`, { headers: { authorization: `Bearer ${temp}` } })).status).toBe(
      401,
    )
  })

  test('errors share one shape: 404 for no route, 405 for a wrong method, 413 with a body, 400 for bad JSON', async () => {
    const none = await call('/v1/nothing-here', reader)
    expect(none.status).toBe(404)
    expect(await none.json()).toMatchObject({ code: 'NOT_FOUND', correlationId: expect.any(String) })
    const wrong = await call('/v1/ingest/transactions', ingester, { method: 'PUT' })
    expect(wrong.status).toBe(405)
    expect(wrong.headers.get('allow')).toBe('POST')
    const big = await call('/v1/ingest/transactions', ingester, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([deposit('x'.repeat(5000), 'PA')]),
    })
    expect(big.status).toBe(413)
    expect(await big.json()).toMatchObject({ code: 'TOO_LARGE' })
    const bad = await call('/v1/ingest/transactions', ingester, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'my-request-1' },
      body: '[{"transactionId": ',
    })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ code: 'INVALID_REQUEST', correlationId: 'my-request-1' })
  })
})
