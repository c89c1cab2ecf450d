import { afterAll, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type EmbeddedPg, startEmbeddedPg } from './adapters/embedded-pg.ts'
import { createPgClient } from './adapters/pg-client.ts'
import { freePort } from './testing/local-infra.ts'
import { spawnPas } from './testing/processes.ts'
import { book, expectedPositions, post, storedPositions } from './testing/workload.ts'

// A PostgreSQL of this test's own, so it can be stopped and started again while pas runs on it.
const dataDir = join(resolve(import.meta.dir, '..'), '.pas', `outage-${process.pid}`)
const port = freePort()
const startPg = () => startEmbeddedPg({ dataDir, port, database: 'pas' })
let pg: EmbeddedPg = await startPg()
const sql = createPgClient({ url: pg.url, max: 2, applicationName: 'pas-outage-test' })
afterAll(async () => {
  await sql.end({ timeout: 1 })
  await pg.stop()
  rmSync(dataDir, { recursive: true, force: true })
})

const workload = book(40, 100)
const businessDate = '2025-03-31'
// Daily closes for every instrument, so valuations and series run to the business date.
const prices = workload.instruments.flatMap((i, n) =>
  Array.from({ length: 90 }, (_, d) => ({
    securityId: i.securityId,
    date: new Date(Date.UTC(2025, 0, 1 + d)).toISOString().slice(0, 10),
    price: `${60 + n + (d % 7)}.50`,
    currency: 'USD',
  })),
)

/** Every portfolio's series complete through the business date, or how many are not yet. */
async function seriesComplete(): Promise<number> {
  const [row] = await sql`select count(*)::int as n from portfolio_series
    where date = ${businessDate} and complete`
  return workload.portfolios.length - (row?.n as number)
}

describe('a PostgreSQL outage in the middle of processing', () => {
  test('every role stays up, says so on /health and /ready, answers ingest 503, and resumes by itself', async () => {
    const want = expectedPositions(workload)
    const pas = await spawnPas(
      ['bun', 'src/main.ts', '--role', 'all', '--port', '0', '--partitions', '4', '--batch-max-records', '200'],
      { DATABASE_URL: pg.url },
    )
    await post(pas.url, 'portfolios', workload.portfolios)
    await post(pas.url, 'instruments', workload.instruments)
    await post(pas.url, 'prices', prices)
    await post(pas.url, 'business-dates', [{ date: businessDate }])
    await post(pas.url, 'transactions', workload.transactions)

    // Stop PostgreSQL as soon as positions are being written.
    const stopBy = Date.now() + 60_000
    while (Date.now() < stopBy && (await storedPositions(sql)).rows === 0) await Bun.sleep(5)
    await pg.stop()
    const down = Date.now()

    const ready = await fetch(`${pas.url}/ready`)
    expect(ready.status).toBe(503)
    const refused = await fetch(`${pas.url}/v1/ingest/business-dates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ date: businessDate }]),
    })
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe('5')
    // Longer than the log's 10 s leases: every member loses its partitions and must win them back.
    while (Date.now() - down < 12_000) await Bun.sleep(250)
    const health = (await (await fetch(`${pas.url}/health`)).json()) as { status: string; dependencies: string }
    expect(health.status).toBe('degraded')
    expect(health.dependencies).toStartWith('unreachable')
    expect(pas.proc.exitCode).toBeNull()

    pg = await startPg()
    const deadline = Date.now() + 120_000
    let now = await storedPositions(sql)
    while (Date.now() < deadline && !(Bun.deepEquals(now, want) && (await seriesComplete()) === 0)) {
      await Bun.sleep(250)
      now = await storedPositions(sql)
    }
    expect({ rows: now.rows, cashflows: now.cashflows, rejections: now.rejections }).toEqual({
      rows: want.rows,
      cashflows: want.cashflows,
      rejections: want.rejections,
    })
    expect(now.finals).toEqual(want.finals)
    expect(await seriesComplete()).toBe(0)
    // A stage idle in its back-off (at most 5 s) retries, finds the database, and is running again.
    const readyBy = Date.now() + 15_000
    while (Date.now() < readyBy && (await fetch(`${pas.url}/ready`)).status !== 200) await Bun.sleep(250)
    expect((await fetch(`${pas.url}/ready`)).status).toBe(200)
    expect(((await (await fetch(`${pas.url}/health`)).json()) as { status: string }).status).toBe('ok')
    // No stage failed on the way: the process was never restarted.
    expect(pas.logs()).not.toContain('"msg":"service failed"')

    pas.proc.kill('SIGTERM')
    expect(await pas.proc.exited).toBe(0)
  }, 240_000)
})
