import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { AppError } from '../errors.ts'
import { partitionFor } from '../runtime/partitioner.ts'
import type { EventLog, LogConsumer, LogRecord } from './event-log.ts'

export type ContractTarget = {
  /** A connected log; called once per suite. */
  open(): Promise<EventLog>
  /** How long a group may take to hand partitions to a new or surviving member. */
  rebalanceTimeoutMs: number
  /** False where the adapter's server is not available here; the suite then shows as skipped. */
  enabled?: boolean
}

type Payload = { key: string; seq: number }
/** Per-test limit: the first test may start a broker, and group rebalances take seconds. */
const SLOW_MS = 120_000
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
const payload = (r: LogRecord) => JSON.parse(r.value) as Payload
const idOf = (r: LogRecord) => `${r.key}#${payload(r).seq}`

/** Appends `perKey` records for each key, interleaved across keys, in chunks of `chunk` per append call. */
async function appendSequences(log: EventLog, topic: string, keys: string[], perKey: number, chunk = 97) {
  const all = []
  for (let seq = 0; seq < perKey; seq++) for (const key of keys) all.push({ key, value: JSON.stringify({ key, seq }) })
  for (let i = 0; i < all.length; i += chunk) await log.append(topic, all.slice(i, i + chunk))
  return all.length
}

/**
 * Polls and commits until `want` records were committed or the deadline passes. Records of a batch
 * whose commit failed with PARTITION_LOST are dropped, as a real stage rolls its writes back.
 */
async function consumeCommitted(consumer: LogConsumer, want: number, timeoutMs: number, into: LogRecord[] = []) {
  const deadline = Date.now() + timeoutMs
  while (into.length < want && Date.now() < deadline) await pollOnce(consumer, into)
  return into
}

/** One poll; its records join `into` only if their commit succeeded. */
async function pollOnce(consumer: LogConsumer, into: LogRecord[]) {
  const batch = await consumer.poll()
  if (batch.records.length === 0) return
  try {
    await consumer.commit(batch.nextOffsets)
    into.push(...batch.records)
  } catch (error) {
    if (!(error instanceof AppError && error.code === 'PARTITION_LOST')) throw error
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
  }
}

const expectNoDuplicates = (records: readonly LogRecord[]) => {
  const ids = records.map(idOf)
  expect(new Set(ids).size).toBe(ids.length)
}

/** The behaviour every EventLog adapter must show. Each test uses its own topic and group. */
export function eventLogContract(name: string, target: ContractTarget) {
  describe.if(target.enabled ?? true)(`EventLog contract: ${name}`, () => {
    let log: EventLog
    const opts = (group: string, topic: string, maxRecords = 100) => ({
      group,
      topics: [topic],
      maxRecords,
      maxWaitMs: 200,
    })

    beforeAll(async () => {
      log = await target.open()
    }, SLOW_MS)
    afterAll(async () => {
      await log?.close()
    })

    test(
      'records of one key arrive on one partition, in append order, offsets dense from 0',
      async () => {
        const topic = unique('order')
        await log.ensureTopics([{ name: topic, partitions: 4 }])
        const keys = ['P1', 'P2', 'P3', 'P4', 'P5']
        const total = await appendSequences(log, topic, keys, 60)
        const consumer = log.consumer(opts(unique('g'), topic, 64))
        const got = await consumeCommitted(consumer, total, 30_000)
        await consumer.close()

        expect(got.length).toBe(total)
        for (const key of keys) {
          const mine = got.filter((r) => r.key === key)
          expect(mine.map((r) => payload(r).seq)).toEqual([...Array(60).keys()])
          expect(new Set(mine.map((r) => r.partition))).toEqual(new Set([partitionFor(key, 4)]))
        }
        const byPartition = Map.groupBy(got, (r) => r.partition)
        for (const records of byPartition.values()) {
          const offsets = records.map((r) => r.offset).sort((a, b) => (a < b ? -1 : 1))
          expect(offsets).toEqual(offsets.map((_, i) => BigInt(i)))
        }
      },
      SLOW_MS,
    )

    test(
      'concurrent appenders keep offsets dense and each key in order',
      async () => {
        const topic = unique('concurrent')
        await log.ensureTopics([{ name: topic, partitions: 3 }])
        // Four writers at once, each owning its keys and appending them in ten sequential calls.
        const writers = [0, 1, 2, 3].map((w) => [`w${w}-a`, `w${w}-b`, `w${w}-c`])
        await Promise.all(writers.map((keys) => appendSequences(log, topic, keys, 50, 15)))
        const total = 4 * 3 * 50
        const consumer = log.consumer(opts(unique('g'), topic, 200))
        const got = await consumeCommitted(consumer, total, 30_000)
        await consumer.close()

        expect(got.length).toBe(total)
        for (const key of writers.flat()) {
          expect(got.filter((r) => r.key === key).map((r) => payload(r).seq)).toEqual([...Array(50).keys()])
        }
        for (const records of Map.groupBy(got, (r) => r.partition).values()) {
          const offsets = records.map((r) => r.offset).sort((a, b) => (a < b ? -1 : 1))
          expect(offsets).toEqual(offsets.map((_, i) => BigInt(i)))
        }
      },
      SLOW_MS,
    )

    test(
      'lag counts, per partition, the records a group has not committed: all before it commits, none once it has read them',
      async () => {
        const topic = unique('lag')
        await log.ensureTopics([{ name: topic, partitions: 2 }])
        const keys = ['K1', 'K2', 'K3', 'K4']
        await appendSequences(log, topic, keys, 5) // 20 records, 5 per key
        const group = unique('g')
        const onPartition = (p: number) => 5 * keys.filter((k) => partitionFor(k, 2) === p).length
        const lag = async () =>
          (await log.lag(group, [topic])).sort((a, b) => a.partition - b.partition).map((l) => [l.partition, l.lag])
        expect(await lag()).toEqual([
          [0, onPartition(0)],
          [1, onPartition(1)],
        ])
        const consumer = log.consumer(opts(group, topic, 100))
        await consumeCommitted(consumer, 20, 30_000)
        expect(await lag()).toEqual([
          [0, 0],
          [1, 0],
        ])
        await appendSequences(log, topic, ['K1'], 3)
        expect((await lag()).find(([p]) => p === partitionFor('K1', 2))).toEqual([partitionFor('K1', 2), 3])
        await consumer.close()
      },
      SLOW_MS,
    )

    test(
      'a restarted consumer resumes after its last commit: no gaps, no duplicates',
      async () => {
        const topic = unique('restart')
        const group = unique('g')
        await log.ensureTopics([{ name: topic, partitions: 3 }])
        const total = await appendSequences(log, topic, ['A', 'B', 'C', 'D', 'E', 'F'], 100)

        const first = log.consumer(opts(group, topic, 50))
        const before = await consumeCommitted(first, total / 2, 30_000)
        await first.close()
        const second = log.consumer(opts(group, topic, 50))
        const after = await consumeCommitted(second, total - before.length, 30_000)
        await second.close()

        expect(before.length).toBeGreaterThan(0)
        expect(before.length).toBeLessThan(total)
        const all = [...before, ...after]
        expect(all.length).toBe(total)
        expectNoDuplicates(all)
      },
      SLOW_MS,
    )

    test(
      'records polled but not committed are delivered again after a restart',
      async () => {
        const topic = unique('redeliver')
        const group = unique('g')
        await log.ensureTopics([{ name: topic, partitions: 1 }])
        await appendSequences(log, topic, ['K'], 30)

        const first = log.consumer(opts(group, topic, 10))
        const committed = await consumeCommitted(first, 10, 30_000)
        let uncommitted: readonly LogRecord[] = []
        await until(
          async () => {
            uncommitted = (await first.poll()).records
            return uncommitted.length > 0
          },
          30_000,
          'a second batch',
        )
        await first.close()

        const second = log.consumer(opts(group, topic, 10))
        const again = await consumeCommitted(second, 20, 30_000)
        await second.close()

        expect(committed.map((r) => payload(r).seq)).toEqual([...Array(10).keys()])
        expect(uncommitted.map((r) => payload(r).seq)[0]).toBe(10)
        expect(again.map((r) => payload(r).seq)).toEqual([...Array(20).keys()].map((i) => i + 10))
      },
      SLOW_MS,
    )

    test(
      'two members of a group split the partitions, and the survivor takes over when one stops',
      async () => {
        const topic = unique('group')
        const group = unique('g')
        await log.ensureTopics([{ name: topic, partitions: 4 }])
        const a = log.consumer(opts(group, topic, 50))
        const b = log.consumer(opts(group, topic, 50))
        const got: LogRecord[] = [] // the topic is still empty: nothing lands here
        // Both members poll (the rebalance runs inside poll for some adapters) until each owns some partitions.
        await until(
          async () => {
            await pollOnce(a, got)
            await pollOnce(b, got)
            return a.assignment().length > 0 && b.assignment().length > 0
          },
          target.rebalanceTimeoutMs,
          'both members to own partitions',
        )
        expect(a.assignment().length + b.assignment().length).toBe(4)
        expect(a.assignment().filter((tp) => b.assignment().includes(tp))).toEqual([])

        const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`)
        const firstHalf = await appendSequences(log, topic, keys, 10)
        const fromA: LogRecord[] = []
        const fromB: LogRecord[] = []
        await until(
          async () => {
            await pollOnce(a, fromA)
            await pollOnce(b, fromB)
            return fromA.length + fromB.length >= firstHalf
          },
          30_000,
          'both members to consume the first half',
        )
        expect(fromA.length).toBeGreaterThan(0)
        expect(fromB.length).toBeGreaterThan(0)

        await a.close()
        const secondHalf = keys.map((key) => ({ key, value: JSON.stringify({ key, seq: 10 }) }))
        await log.append(topic, secondHalf)
        await consumeCommitted(
          b,
          firstHalf + secondHalf.length - fromA.length,
          target.rebalanceTimeoutMs + 30_000,
          fromB,
        )
        expect(b.assignment().length).toBe(4)
        await b.close()

        const all = [...fromA, ...fromB]
        expect(all.length).toBe(firstHalf + secondHalf.length)
        expectNoDuplicates(all)
      },
      SLOW_MS,
    )

    test(
      'appending to a topic that does not exist is rejected with UNKNOWN_TOPIC',
      async () => {
        const error = await log.append(unique('missing'), [{ key: 'k', value: '{}' }]).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(AppError)
        expect((error as AppError).code).toBe('UNKNOWN_TOPIC')
      },
      SLOW_MS,
    )

    test(
      'ensureTopics is idempotent and keeps existing records',
      async () => {
        const topic = unique('idem')
        await log.ensureTopics([{ name: topic, partitions: 2 }])
        await log.append(topic, [{ key: 'k', value: JSON.stringify({ key: 'k', seq: 0 }) }])
        await log.ensureTopics([{ name: topic, partitions: 2 }])
        const consumer = log.consumer(opts(unique('g'), topic))
        const got = await consumeCommitted(consumer, 1, 30_000)
        await consumer.close()
        expect(got.map(idOf)).toEqual(['k#0'])
      },
      SLOW_MS,
    )
  })
}
