import { afterAll, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type EmbeddedPg, startEmbeddedPg } from './adapters/embedded-pg.ts'
import { createPgClient } from './adapters/pg-client.ts'
import { rdkafkaAvailable } from './adapters/rdkafka/ffi.ts'
import { inCI, kafkaTestsEnabled } from './testing/infra.ts'
import { freePort, ownKafka, scratchDatabase } from './testing/local-infra.ts'
import { type PasProcess, spawnPas } from './testing/processes.ts'
import { book, dailyCloses, expectedPositions, post, storedPositions } from './testing/workload.ts'

// A PostgreSQL of this test's own, so it can be stopped and started again while pas runs on it.
const dataDir = join(resolve(import.meta.dir, '..'), '.pas', `outage-${process.pid}`)
const port = freePort()
const startPg = () => startEmbeddedPg({ dataDir, port, database: 'pas' })
let pg: EmbeddedPg = await startPg()
const sql = createPgClient({ url: pg.url, max: 2, applicationName: 'pas-outage-test' })
const running: PasProcess[] = []
afterAll(async () => {
  for (const p of running) if (p.proc.exitCode === null) p.proc.kill('SIGKILL') // a failed test leaves none behind
  await sql.end({ timeout: 1 })
  await pg.stop()
  rmSync(dataDir, { recursive: true, force: true })
})

const workload = book(40, 100)
const businessDate = '2025-03-31'
const prices = dailyCloses(workload)

type Outage = {
  /** Extra environment for pas (the transport). */
  env: Record<string, string>
  /** The database pas and the checks use. */
  db: { url: string; sql: typeof sql }
  stop(): Promise<void>
  start(): Promise<void>
}

/**
 * The scenario both outages share: load the book, take the dependency away as soon as positions
 * are being written, check that pas says so and stays up for 12 s (longer than the pg log's leases
 * and Kafka's session timeout), bring it back, and expect the final tables to equal the engine's
 * on the same inputs, with nothing restarted by hand and a clean exit on SIGTERM.
 */
async function survives(outage: Outage) {
  const { db } = outage
  const want = expectedPositions(workload)
  const pas = await spawnPas(
    ['bun', 'src/main.ts', '--role', 'all', '--port', '0', '--partitions', '4', '--batch-max-records', '200'],
    { DATABASE_URL: db.url, ...outage.env },
  )
  running.push(pas)
  await post(pas.url, 'portfolios', workload.portfolios)
  await post(pas.url, 'instruments', workload.instruments)
  await post(pas.url, 'prices', prices)
  await post(pas.url, 'business-dates', [{ date: businessDate }])
  await post(pas.url, 'transactions', workload.transactions)

  const stopBy = Date.now() + 60_000
  while (Date.now() < stopBy && (await storedPositions(db.sql)).rows === 0) await Bun.sleep(5)
  await outage.stop()
  const down = Date.now()

  expect((await fetch(`${pas.url}/ready`)).status).toBe(503)
  const refused = await fetch(`${pas.url}/v1/ingest/business-dates`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([{ date: businessDate }]),
  })
  expect(refused.status).toBe(503)
  expect(refused.headers.get('retry-after')).toBe('5')
  while (Date.now() - down < 12_000) await Bun.sleep(250)
  const health = (await (await fetch(`${pas.url}/health`)).json()) as { status: string; dependencies: string }
  expect(health.status).toBe('degraded')
  expect(health.dependencies).toStartWith('unreachable')
  expect(pas.proc.exitCode).toBeNull()

  await outage.start()
  const seriesComplete = async () => {
    const [row] =
      await db.sql`select count(*)::int as n from portfolio_series where date = ${businessDate} and complete`
    return workload.portfolios.length - (row?.n as number)
  }
  const deadline = Date.now() + 120_000
  let now = await storedPositions(db.sql)
  while (Date.now() < deadline && !(Bun.deepEquals(now, want) && (await seriesComplete()) === 0)) {
    await Bun.sleep(250)
    now = await storedPositions(db.sql)
  }
  if (!Bun.deepEquals(now, want)) {
    // Not resumed: say why, from pas's own warnings and errors, before the assertion fails.
    const problems = pas
      .logs()
      .split('\n')
      .filter((l) => l.includes('"level":"warn"') || l.includes('"level":"error"'))
    process.stderr.write(`pas did not catch up; its last warnings and errors:\n${problems.slice(-20).join('\n')}\n`)
  }
  expect({ rows: now.rows, cashflows: now.cashflows, rejections: now.rejections }).toEqual({
    rows: want.rows,
    cashflows: want.cashflows,
    rejections: want.rejections,
  })
  expect(now.finals).toEqual(want.finals)
  expect(await seriesComplete()).toBe(0)
  // A stage idle in its back-off (at most 5 s) retries, finds the dependency, and is running again.
  const readyBy = Date.now() + 15_000
  while (Date.now() < readyBy && (await fetch(`${pas.url}/ready`)).status !== 200) await Bun.sleep(250)
  expect((await fetch(`${pas.url}/ready`)).status).toBe(200)
  expect(((await (await fetch(`${pas.url}/health`)).json()) as { status: string }).status).toBe('ok')
  // No stage failed on the way: the process was never restarted.
  expect(pas.logs()).not.toContain('"msg":"service failed"')

  pas.proc.kill('SIGTERM')
  expect(await pas.proc.exited).toBe(0)
}

describe('an outage in the middle of processing: every role stays up, says so, and resumes by itself', () => {
  test('PostgreSQL (the embedded default: pg log and tables) stopped for 12 s', async () => {
    await survives({
      env: {},
      db: { url: pg.url, sql },
      stop: () => pg.stop(),
      start: async () => {
        pg = await startPg()
      },
    })
  }, 240_000)

  for (const client of ['platformatic', 'rdkafka'] as const) {
    const enabled = kafkaTestsEnabled && (client === 'platformatic' || inCI || rdkafkaAvailable())
    test.if(enabled)(
      `the Kafka broker stopped for 12 s (client ${client})`,
      async () => {
        // A broker of this test's own; the tables live in a database of their own on the test's PostgreSQL.
        const kafka = await ownKafka()
        const db = await scratchDatabase(pg.url, `pas_outage_kafka_${client}_${process.pid}`)
        try {
          await survives({
            env: {
              KAFKA_BROKERS: kafka.brokers.join(','),
              PAS_KAFKA_CLIENT: client,
              PAS_KAFKA_CLIENT_ID: `outage-${client}-${process.pid}`,
            },
            db,
            stop: () => kafka.pause(),
            start: () => kafka.resume(),
          })
        } finally {
          await kafka.stop()
          await db.drop()
        }
      },
      300_000,
    )
  }
})
