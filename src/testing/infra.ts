import { afterAll } from 'bun:test'
import {
  type LocalKafka,
  type LocalPg,
  localKafka,
  localPg,
  type ScratchDatabase,
  scratchDatabase,
} from './local-infra.ts'

/**
 * Real infrastructure for integration tests, started on first use and stopped after the run:
 * - PostgreSQL: TEST_DATABASE_URL, else an embedded server in .pas/test.
 * - Kafka: TEST_KAFKA_BROKERS, else this checkout's `test` broker from tools/kafka.sh (needs java and mvn).
 * Both on ports the OS picks; each suite has its own database, and on Kafka its own topics and groups.
 * Under CI=true nothing may be skipped: a missing Kafka fails the run instead.
 * PAS_TEST_KEEP_INFRA=1 leaves what was started running, for fast local iteration.
 */
export const inCI = process.env.CI === 'true'
const keep = process.env.PAS_TEST_KEEP_INFRA === '1'

/** Whether the Kafka integration tests run here. Always true in CI, where a missing broker is a failure. */
export const kafkaTestsEnabled =
  inCI || Boolean(process.env.TEST_KAFKA_BROKERS) || (Bun.which('java') !== null && Bun.which('mvn') !== null)

let pg: Promise<LocalPg> | undefined
let kafka: Promise<LocalKafka> | undefined

export function testPgUrl(): Promise<string> {
  pg ??= localPg('test', process.env.TEST_DATABASE_URL)
  return pg.then((p) => p.url)
}

export function testKafkaBrokers(): Promise<string[]> {
  kafka ??= localKafka('test', process.env.TEST_KAFKA_BROKERS)
  return kafka.then((k) => k.brokers)
}

/** A new, migrated database for one test file; dropped by `drop()`. */
export async function freshDatabase(label: string): Promise<ScratchDatabase> {
  const name = `pas_test_${label.replace(/\W/g, '_')}_${process.pid}_${Math.random().toString(36).slice(2, 7)}`
  return scratchDatabase(await testPgUrl(), name)
}

// The stops take longer than a test's default 5 s at times: the broker's controlled shutdown
// (tools/kafka.sh waits up to 30 s for it, then kills it), and PostgreSQL's checkpoint on the way
// out. Past the hook's timeout bun kills what is left and fails the run, so the hook allows both.
const STOP_TIMEOUT_MS = 60_000

afterAll(async () => {
  if (keep) return
  const [startedKafka, startedPg] = [kafka, pg]
  // Forgotten once stopped: a rerun (`bun test --rerun-each N`) starts them again.
  kafka = undefined
  pg = undefined
  await Promise.all([
    startedKafka?.catch(() => undefined).then((k) => k?.stop()),
    startedPg?.catch(() => undefined).then((p) => p?.server?.stop()),
  ])
}, STOP_TIMEOUT_MS)
