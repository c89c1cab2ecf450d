import { afterAll, describe, expect, test } from 'bun:test'
import { rdkafkaAvailable } from './adapters/rdkafka/ffi.ts'
import { freshDatabase, inCI, kafkaTestsEnabled, testKafkaBrokers } from './testing/infra.ts'
import { dropKafkaTopics, type ScratchDatabase } from './testing/local-infra.ts'
import { spawnPas } from './testing/processes.ts'
import { book, expectedPositions, post, storedPositions } from './testing/workload.ts'

// pas as an operator runs it, from source here (the binary is smoke-tested in main.it.test.ts):
// one process with every role, small batches so there are many of them, on each transport: the
// Postgres-backed log, and Kafka through each of its two clients.
type Transport = {
  name: string
  enabled: boolean
  env(): Promise<{ env: Record<string, string>; cleanup(): Promise<void> }>
}
const onKafka = (client: 'platformatic' | 'rdkafka') => async () => {
  const brokers = await testKafkaBrokers()
  const prefix = `crash-${client}-${Date.now().toString(36)}.`
  return {
    env: { KAFKA_BROKERS: brokers.join(','), PAS_KAFKA_PREFIX: prefix, PAS_KAFKA_CLIENT: client },
    cleanup: () => dropKafkaTopics(brokers, prefix),
  }
}
const transports: Transport[] = [
  { name: 'pg log', enabled: true, env: async () => ({ env: {}, cleanup: async () => {} }) },
  { name: 'Kafka, @platformatic/kafka', enabled: kafkaTestsEnabled, env: onKafka('platformatic') },
  {
    name: 'Kafka, librdkafka',
    enabled: kafkaTestsEnabled && (inCI || rdkafkaAvailable()),
    env: onKafka('rdkafka'),
  },
]

// 100 portfolios × 200 transactions over 10 instruments (src/testing/workload.ts).
const workload = book(100, 200)
const { portfolios, instruments, transactions } = workload
const expected = () => expectedPositions(workload)

describe.each(transports)('crash recovery: $name', (transport) => {
  let db: ScratchDatabase
  let cleanup = async () => {}
  afterAll(async () => {
    await cleanup()
    await db?.drop()
  })
  const stored = () => storedPositions(db.sql)

  test.if(transport.enabled)(
    'SIGKILL in the middle of processing, then a restart: nothing lost, nothing doubled',
    async () => {
      db = await freshDatabase('crash')
      const setup = await transport.env()
      cleanup = setup.cleanup
      const startPas = () =>
        spawnPas(
          ['bun', 'src/main.ts', '--role', 'all', '--port', '0', '--partitions', '4', '--batch-max-records', '200'],
          { DATABASE_URL: db.url, ...setup.env },
        )
      const want = expected()
      const first = await startPas()
      await post(first.url, 'portfolios', portfolios)
      await post(first.url, 'instruments', instruments)
      await post(first.url, 'business-dates', [{ date: '2025-03-31' }])
      await post(first.url, 'transactions', transactions) // acknowledged: durable in the log

      // Kill it as soon as positions are being written, well before they are all there.
      let atKill = 0
      const killBy = Date.now() + 60_000
      while (Date.now() < killBy) {
        atKill = (await stored()).rows
        if (atKill > 0) break
        await Bun.sleep(5)
      }
      first.proc.kill('SIGKILL')
      await first.proc.exited
      expect(atKill).toBeGreaterThan(0)
      expect(atKill).toBeLessThan(want.rows)

      const second = await startPas()
      const deadline = Date.now() + 120_000
      let now = await stored()
      while (Date.now() < deadline && !(now.rows === want.rows && Bun.deepEquals(now.finals, want.finals))) {
        await Bun.sleep(250)
        now = await stored()
      }
      expect({ rows: now.rows, cashflows: now.cashflows, rejections: now.rejections }).toEqual({
        rows: want.rows,
        cashflows: want.cashflows,
        rejections: want.rejections,
      })
      expect(now.finals).toEqual(want.finals)

      // By hand, P0's S1 (FIFO; the generator's trades i ≡ 1 mod 10, fee 1.25 each), in January:
      //   Jan 2 buy 14 @ 53.01 (cost 743.39), Jan 4 buy 4 @ 93.31 (374.49), Jan 6 buy 34 @ 83.61 (2,843.99),
      //   Jan 12 sell 24 @ 83.11, Jan 14 sell 14 @ 73.41, Jan 22 buy 34 @ 63.21, Jan 24 buy 24 @ 53.51.
      // Jan 12: proceeds 24 × 83.11 − 1.25 = 1,993.39; cost 743.39 + 374.49 + 2,843.99 × 6/34 (501.8805882353)
      // = 1,619.7605882353; realized 373.6294117647. Quantity after the quarter's 19 trades in S1:
      // 14 + 4 + 34 − 24 − 14 + 34 + 24 | + 24 + 14 − 4 − 34 − 24 + 14 + 4 + 34 + 24 + 4 + 34 | − 14 − 4 = 144.
      const s1 = await db.sql`select date::text as d, quantity::text as q, realized_local::text as r
      from position_history where portfolio_id = 'P0' and position_id = 'S1' order by date, seq`
      expect(s1.slice(0, 7).map((r) => r.q)).toEqual(['14', '18', '52', '28', '14', '48', '72'])
      expect(s1[3]).toMatchObject({ d: '2025-01-12', r: '373.6294117647' })
      expect(s1.at(-1)?.q).toBe('144')
      second.proc.kill('SIGTERM')
      expect(await second.proc.exited).toBe(0)
    },
    240_000,
  )
})
