import { afterAll } from 'bun:test'
import { join, resolve } from 'node:path'
import { type EmbeddedPg, startEmbeddedPg } from '../adapters/embedded-pg.ts'
import { createPgClient, type Sql } from '../adapters/pg-client.ts'
import { migrate } from '../adapters/pg-migrate.ts'

/**
 * Real infrastructure for integration tests, started on first use and stopped after the run:
 * - PostgreSQL: TEST_DATABASE_URL, else an embedded server in .pas/test (port 54321).
 * - Kafka: TEST_KAFKA_BROKERS, else a broker from tools/kafka.sh on port 19092 (needs java and mvn).
 * Under CI=true nothing may be skipped: a missing Kafka fails the run instead.
 * PAS_TEST_KEEP_INFRA=1 leaves what was started running, for fast local iteration.
 */
const repo = resolve(import.meta.dir, '../..')
export const inCI = process.env.CI === 'true'
const keep = process.env.PAS_TEST_KEEP_INFRA === '1'
const KAFKA_TEST_PORT = '19092'

/** Whether the Kafka integration tests run here. Always true in CI, where a missing broker is a failure. */
export const kafkaTestsEnabled =
  inCI || Boolean(process.env.TEST_KAFKA_BROKERS) || (Bun.which('java') !== null && Bun.which('mvn') !== null)

let pg: Promise<{ url: string; server?: EmbeddedPg }> | undefined
let kafka: Promise<{ brokers: string[]; started: boolean }> | undefined

export function testPgUrl(): Promise<string> {
  pg ??= (async () => {
    const given = process.env.TEST_DATABASE_URL
    if (given) return { url: given }
    const server = await startEmbeddedPg({ dataDir: join(repo, '.pas', 'test'), port: 54_321, database: 'postgres' })
    return { url: server.url, server }
  })()
  return pg.then((p) => p.url)
}

/** A new, migrated database for one test file; dropped by `drop()`. */
export async function freshDatabase(label: string): Promise<{ url: string; sql: Sql; drop(): Promise<void> }> {
  const base = new URL(await testPgUrl())
  const name = `pas_test_${label.replace(/\W/g, '_')}_${process.pid}_${Math.random().toString(36).slice(2, 7)}`
  const admin = createPgClient({ url: base.href, max: 1, applicationName: 'pas-test' })
  await admin`create database ${admin(name)}`
  const url = new URL(base.href)
  url.pathname = `/${name}`
  const sql = createPgClient({ url: url.href, max: 10, applicationName: 'pas-test' })
  await migrate(sql)
  return {
    url: url.href,
    sql,
    drop: async () => {
      await sql.end({ timeout: 5 })
      await admin`drop database if exists ${admin(name)} with (force)`
      await admin.end({ timeout: 5 })
    },
  }
}

export function testKafkaBrokers(): Promise<string[]> {
  kafka ??= (async () => {
    const given = process.env.TEST_KAFKA_BROKERS
    if (given) return { brokers: given.split(','), started: false }
    const proc = Bun.spawn(['bash', join(repo, 'tools', 'kafka.sh'), 'start'], {
      env: { ...process.env, KAFKA_PORT: KAFKA_TEST_PORT },
      stdout: 'inherit',
      stderr: 'inherit',
    })
    if ((await proc.exited) !== 0) throw new Error('could not start Kafka with tools/kafka.sh (see its output above)')
    return { brokers: [`127.0.0.1:${KAFKA_TEST_PORT}`], started: true }
  })()
  return kafka.then((k) => k.brokers)
}

afterAll(async () => {
  if (keep) return
  const k = await kafka?.catch(() => undefined)
  if (k?.started) {
    await Bun.spawn(['bash', join(repo, 'tools', 'kafka.sh'), 'stop'], {
      env: { ...process.env, KAFKA_PORT: KAFKA_TEST_PORT },
    }).exited
  }
  const p = await pg?.catch(() => undefined)
  await p?.server?.stop()
})
