import { describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { eventLogContract } from '../ports/event-log.contract.ts'
import { inCI, kafkaTestsEnabled, testKafkaBrokers } from '../testing/infra.ts'
import { rdkafkaAvailable } from './rdkafka/ffi.ts'
import { RdKafkaLog } from './rdkafka-log.ts'

// The same contract as the @platformatic/kafka adapter, on librdkafka through bun:ffi, against a
// real broker. Without librdkafka (Debian: librdkafka1) the suite shows as skipped; CI installs it.
eventLogContract('kafka (librdkafka)', {
  enabled: kafkaTestsEnabled && (inCI || rdkafkaAvailable()),
  open: async () =>
    new RdKafkaLog({
      brokers: await testKafkaBrokers(),
      clientId: 'pas-test-rdkafka',
      sessionTimeoutMs: 6_000,
      heartbeatMs: 300,
    }),
  rebalanceTimeoutMs: 30_000,
})

/** The names of this process's threads; librdkafka's are rdk:main, rdk:broker…, rdk:bg. */
const threadNames = () =>
  readdirSync('/proc/self/task').map((id) => readFileSync(`/proc/self/task/${id}/comm`, 'utf8').trim())
const rdkThreads = () => threadNames().filter((name) => name.startsWith('rdk:'))
const rssMb = () => process.memoryUsage().rss / 2 ** 20

describe.if(kafkaTestsEnabled && (inCI || rdkafkaAvailable()))('librdkafka through bun:ffi: memory and handles', () => {
  test("librdkafka's own log lines reach the log sink as events, and an unreachable broker fails the poll", async () => {
    const lines: { level: string; message: string; fields: Record<string, unknown> }[] = []
    // Nothing listens on port 1: every connection attempt fails, which librdkafka logs.
    const log = new RdKafkaLog({
      brokers: ['127.0.0.1:1'],
      clientId: 'pas-test-logs',
      log: (level, message, fields) => lines.push({ level, message, fields }),
    })
    const consumer = log.consumer({ group: 'unreachable', topics: ['nowhere'], maxRecords: 10, maxWaitMs: 200 })
    const errors: unknown[] = []
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline && (lines.length === 0 || errors.length === 0)) {
      await consumer.poll().catch((error: unknown) => errors.push(error))
    }
    expect(lines.some((l) => l.message.startsWith('librdkafka: ') && l.message.includes('127.0.0.1:1'))).toBe(true)
    expect(lines[0]?.fields).toMatchObject({ client: 'consumer unreachable', facility: expect.any(String) })
    expect(errors[0]).toMatchObject({ code: 'LOG_UNAVAILABLE', retryable: true })
    await consumer.close()
    await log.close()
  }, 60_000)

  test('close returns while fetched messages wait in its queue (they are dropped, and read again by the next member)', async () => {
    const brokers = await testKafkaBrokers()
    const log = new RdKafkaLog({ brokers, clientId: 'pas-test-close' })
    const topic = `close-${Date.now().toString(36)}`
    const group = `close-${Date.now().toString(36)}`
    await log.ensureTopics([{ name: topic, partitions: 1 }])
    await log.append(
      topic,
      Array.from({ length: 2000 }, (_, i) => ({ key: 'K', value: String(i) })),
    )
    const options = { group, topics: [topic], maxRecords: 10, maxWaitMs: 2000 }
    const first = log.consumer(options)
    const batch = await first.poll()
    await first.commit(batch.nextOffsets)
    await Bun.sleep(500) // librdkafka prefetches far more than 10 meanwhile
    const closing = performance.now()
    await first.close()
    expect(performance.now() - closing).toBeLessThan(10_000)
    const second = log.consumer(options)
    const next = await second.poll()
    expect(next.records[0]?.value).toBe(String(batch.records.length))
    await second.close()
    await log.close()
  }, 60_000)

  test('RSS stays flat over many produce-and-consume rounds; close leaves no librdkafka thread behind', async () => {
    const brokers = await testKafkaBrokers()
    const log = new RdKafkaLog({ brokers, clientId: 'pas-test-soak' })
    const topic = `soak-${Date.now().toString(36)}`
    await log.ensureTopics([{ name: topic, partitions: 4 }])
    const consumer = log.consumer({
      group: `soak-${Date.now().toString(36)}`,
      topics: [topic],
      maxRecords: 5000,
      maxWaitMs: 500,
    })
    // Records shaped like ingested transactions: about 330 bytes of JSON over 1,000 keys.
    const round = (r: number) =>
      Array.from({ length: 5000 }, (_, i) => ({
        key: `P${(r * 5000 + i) % 1000}`,
        value: JSON.stringify({ r, i, pad: 'x'.repeat(300) }),
      }))
    const rss: number[] = []
    let consumed = 0
    const rounds = 40
    for (let r = 0; r < rounds; r++) {
      await log.append(topic, round(r))
      while (consumed < (r + 1) * 5000) {
        const batch = await consumer.poll()
        await consumer.commit(batch.nextOffsets)
        consumed += batch.records.length
      }
      Bun.gc(true)
      rss.push(rssMb())
    }
    expect(consumed).toBe(rounds * 5000)
    expect(rdkThreads().length).toBeGreaterThan(0) // the producer's and the consumer's, while open
    // 200,000 records (66 MB) went through; after the first rounds warmed the heap and librdkafka's
    // buffers, the resident size may wander but not grow with the traffic.
    const warm = Math.max(...rss.slice(5, 10))
    const last = Math.max(...rss.slice(-5))
    expect(last - warm, `RSS per round (MB): ${rss.map((m) => m.toFixed(0)).join(' ')}`).toBeLessThan(40)

    await consumer.close()
    await log.close()
    // rd_kafka_destroy joins librdkafka's threads (main, brokers, background) before it returns.
    expect(rdkThreads()).toEqual([])
  }, 120_000)
})
