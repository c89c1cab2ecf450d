import { beforeEach, describe, expect, test } from 'bun:test'
import { MemoryLog } from '../adapters/memory-log.ts'
import type { LogRecord } from '../ports/event-log.ts'
import { createLogger } from '../runtime/logger.ts'
import { partitionFor } from '../runtime/partitioner.ts'
import { Topics, topicSpecs } from '../topology.ts'
import { ingestRoutes } from './ingest.ts'

let log: MemoryLog
let app: ReturnType<typeof ingestRoutes>
beforeEach(async () => {
  log = new MemoryLog()
  await log.ensureTopics(topicSpecs(4))
  app = ingestRoutes({ log, maxRecordsPerRequest: 3 })
})

const post = (path: string, body: string, type = 'application/json') =>
  app.handle(new Request(`http://localhost${path}`, { method: 'POST', headers: { 'content-type': type }, body }))
const appended = (topic: string): LogRecord[] => log.partitionsOf(topic).flat()
const buy = (id: string, portfolioId = 'P1') => ({
  transactionId: id,
  portfolioId,
  type: 'BUY',
  tradeDate: '2025-01-02',
  securityId: 'AAPL',
  quantity: '10',
  price: '187.5',
  currency: 'USD',
})

describe('POST /v1/ingest/*', () => {
  test('each request is logged with its ingest id, the caller’s X-Correlation-ID: info when records were rejected', async () => {
    const lines: Record<string, unknown>[] = []
    const logger = createLogger('debug', {}, (line) => lines.push(JSON.parse(line)))
    const logged = ingestRoutes({ log, maxRecordsPerRequest: 3, logger })
    const send = (id: string, records: unknown[]) =>
      logged.handle(
        new Request('http://localhost/v1/ingest/transactions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-correlation-id': id },
          body: JSON.stringify(records),
        }),
      )
    expect((await send('batch-7', [buy('T1')])).status).toBe(202)
    expect((await send('batch-8', [buy('T2'), { ...buy('T3'), quantity: 'ten' }])).status).toBe(422)
    expect(lines.map((l) => [l.level, l.msg, l.ingestId, l.accepted, l.rejected])).toEqual([
      ['debug', 'ingested', 'batch-7', 1, undefined],
      ['info', 'ingest rejected records', 'batch-8', 1, 1],
    ])
    expect(lines[1]?.first).toMatchObject({ index: 1, field: 'quantity' })
  })

  test('valid records are appended to the raw topic, keyed by portfolio, then acknowledged with 202', async () => {
    const res = await post('/v1/ingest/transactions', JSON.stringify([buy('T1'), buy('T2', 'P2')]))
    expect(res.status).toBe(202)
    const body = (await res.json()) as { ingestId: string; accepted: number; rejected: unknown[] }
    expect(body).toMatchObject({ accepted: 2, rejected: [] })
    const records = appended(Topics.rawTransactions)
    expect(records.map((r) => [r.key, r.partition])).toEqual(
      expect.arrayContaining([
        ['P1', partitionFor('P1', 4)],
        ['P2', partitionFor('P2', 4)],
      ]),
    )
    expect(JSON.parse((records[0] as LogRecord).value)).toMatchObject({ kind: 'transaction', ingestId: body.ingestId })
  })

  test('a bad record gets 422 naming its index and field, and the valid ones are still appended', async () => {
    const bad = { ...buy('T2'), quantity: 12, tradeDate: '2025-02-30' }
    const res = await post('/v1/ingest/transactions', JSON.stringify([buy('T1'), bad]))
    expect(res.status).toBe(422)
    const body = (await res.json()) as { accepted: number; rejected: { index: number; field: string }[] }
    expect(body.accepted).toBe(1)
    expect(body.rejected.map((r) => [r.index, r.field])).toEqual([[1, 'quantity']])
    expect(appended(Topics.rawTransactions).map((r) => JSON.parse(r.value).record.transactionId)).toEqual(['T1'])
  })

  test('prices can be uploaded as CSV', async () => {
    const csv = 'securityId,date,price,currency\nAAPL,2025-01-02,187.50,USD\nSAP,2025-01-02,120,EUR\n'
    const res = await post('/v1/ingest/prices', csv, 'text/csv')
    expect(res.status).toBe(202)
    expect(appended(Topics.rawPrices).map((r) => JSON.parse(r.value).record)).toEqual(
      expect.arrayContaining([
        { securityId: 'AAPL', date: '2025-01-02', price: '187.50', currency: 'USD' },
        { securityId: 'SAP', date: '2025-01-02', price: '120', currency: 'EUR' },
      ]),
    )
  })

  test('more records than the per-request limit is 413 and appends nothing', async () => {
    const res = await post('/v1/ingest/transactions', JSON.stringify(['T1', 'T2', 'T3', 'T4'].map((id) => buy(id))))
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ code: 'TOO_LARGE', message: expect.stringContaining('at most 3') })
    expect(appended(Topics.rawTransactions)).toEqual([])
  })

  test('a body that is not an array is 400', async () => {
    const res = await post('/v1/ingest/fx-rates', JSON.stringify({ from: 'EUR' }))
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({
      code: 'INVALID_REQUEST',
      message: expect.stringContaining('JSON array of fx records'),
      correlationId: expect.any(String),
    })
  })

  test('FX rates are keyed by pair and reference data goes to raw.reference', async () => {
    await post('/v1/ingest/fx-rates', JSON.stringify([{ from: 'EUR', to: 'USD', date: '2025-01-02', rate: '1.04' }]))
    await post(
      '/v1/ingest/portfolios',
      JSON.stringify([{ portfolioId: 'P1', baseCurrency: 'EUR', openDate: '2025-01-01' }]),
    )
    expect(appended(Topics.rawFx).map((r) => r.key)).toEqual(['EUR/USD'])
    expect(appended(Topics.rawReference).map((r) => JSON.parse(r.value).kind)).toEqual(['portfolio'])
  })

  test('only application/json, and text/csv where a route takes CSV: anything else is 415 and appends nothing', async () => {
    const body = JSON.stringify([buy('T1')])
    // text/plain is what a cross-site form can send without a preflight.
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await post('/v1/ingest/transactions', body, type)
      expect(res.status).toBe(415)
      expect(await res.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' })
    }
    expect((await post('/v1/ingest/fx-rates', 'from,to,date,rate\nEUR,USD,2025-01-02,1.1\n', 'text/csv')).status).toBe(
      415,
    )
    expect(appended(Topics.rawTransactions)).toEqual([])
  })

  test('a CSV with an unknown or repeated column is refused whole with 422 naming it', async () => {
    const unknown = await post(
      '/v1/ingest/prices',
      'securityId,date,price,currency,colour\nA,2025-01-02,1,USD,red\n',
      'text/csv',
    )
    expect(unknown.status).toBe(422)
    expect(await unknown.json()).toMatchObject({ code: 'UNPROCESSABLE', field: 'colour' })
    const twice = await post(
      '/v1/ingest/prices',
      '\uFEFFsecurityId,date,price,price,currency\nA,2025-01-02,1,2,USD\n',
      'text/csv',
    )
    expect(await twice.json()).toMatchObject({ code: 'UNPROCESSABLE', field: 'price' })
    const many = `securityId,date,price,currency\n${'A,2025-01-02,1,USD\n'.repeat(4)}`
    expect((await post('/v1/ingest/prices', many, 'text/csv')).status).toBe(413)
    expect(appended(Topics.rawPrices)).toEqual([])
  })

  test('an unreachable log is 503 with Retry-After; other append errors are not dressed up as 503', async () => {
    const outage = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    const failing = Object.assign(Object.create(log), { append: () => Promise.reject(outage) })
    const down = ingestRoutes({ log: failing, maxRecordsPerRequest: 3, isTransient: (e) => e === outage })
    const res = await down.handle(
      new Request('http://localhost/v1/ingest/transactions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([buy('T1')]),
      }),
    )
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('5')
    expect(await res.json()).toMatchObject({ code: 'UNAVAILABLE' })
  })
})
