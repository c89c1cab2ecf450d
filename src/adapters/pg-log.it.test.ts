import { afterAll, describe, expect, test } from 'bun:test'
import { AppError } from '../errors.ts'
import { eventLogContract } from '../ports/event-log.contract.ts'
import { freshDatabase } from '../testing/infra.ts'
import { createPgClient } from './pg-client.ts'
import { PgLog } from './pg-log.ts'

const db = await freshDatabase('pg_log')
afterAll(() => db.drop())

eventLogContract('pg', {
  open: async () => new PgLog(db.sql, { sessionTimeoutMs: 2_000, heartbeatMs: 200 }),
  rebalanceTimeoutMs: 10_000,
})

describe('PgLog', () => {
  test('an append heard while a consumer fetched ends its wait at once; without it, the wait runs on', async () => {
    const log = new PgLog(db.sql, { heartbeatMs: 100 })
    const topics = ['heard.while.fetching']
    await log.ensureTopics([{ name: 'heard.while.fetching', partitions: 1 }])
    await log.listening()
    // The consumer's mark, taken before its fetch; then a record appended and heard before anyone
    // waits, as when it commits after the fetch's snapshot.
    const heard = log.appendsHeard(topics)
    await log.append('heard.while.fetching', [{ key: 'k', value: 'v' }])
    const deadline = Date.now() + 10_000
    while (log.appendsHeard(topics) === heard && Date.now() < deadline) await Bun.sleep(10)
    expect(log.appendsHeard(topics)).toBe(heard + 1)
    const waited = (wait: Promise<void>) =>
      Promise.race([wait.then(() => 'returned'), Bun.sleep(2_000).then(() => 'still waiting')])
    // A minute's wait given the mark returns; the same wait without it (as before) does not.
    expect(await waited(log.waitForAppend(topics, 60_000, heard))).toBe('returned')
    expect(await waited(log.waitForAppend(topics, 60_000))).toBe('still waiting')
    await log.close() // wakes the wait left behind
  })

  test('retention deletes old records every group has read, and keeps the rest', async () => {
    const log = new PgLog(db.sql, { heartbeatMs: 100, retentionMs: 60_000 })
    await log.ensureTopics([
      { name: 'kept.read', partitions: 1 },
      { name: 'kept.unread', partitions: 1 },
    ])
    await log.append(
      'kept.read',
      [0, 1, 2, 3, 4].map((n) => ({ key: 'k', value: String(n) })),
    )
    await log.append('kept.unread', [{ key: 'k', value: 'nobody reads me' }])
    // Group a read offsets 0–3 of kept.read, group b only 0–1: b holds 2 and 3 back.
    const commit = async (group: string, upTo: number) => {
      const c = log.consumer({ group, topics: ['kept.read'], maxRecords: upTo, maxWaitMs: 2_000 })
      const batch = await c.poll()
      expect(batch.records.length).toBe(upTo)
      await c.commit(batch.nextOffsets)
      await c.close()
    }
    await commit('g-a', 4)
    await commit('g-b', 2)
    expect(await log.prune()).toBe(0) // nothing is older than a minute yet
    // Age every record by two minutes, as if appended then.
    await db.sql`update log_records set appended_at = appended_at - interval '2 minutes' where topic like 'kept.%'`
    expect(await log.prune()).toBe(2)
    const left = async (topic: string) =>
      (await db.sql`select "offset" from log_records where topic = ${topic} order by "offset"`).map((r) =>
        Number(r.offset),
      )
    expect(await left('kept.read')).toEqual([2, 3, 4]) // read by a alone, read by none
    expect(await left('kept.unread')).toEqual([0]) // no group committed on it
    // A fresh record is not old enough even once every group has read it.
    await commit('g-b', 3)
    await log.append('kept.read', [{ key: 'k', value: '5' }])
    await commit('g-a', 2)
    await commit('g-b', 1)
    // Both groups have read through offset 5 now: 2, 3 and 4 are old and go; 5 is new and stays.
    expect(await log.prune()).toBe(3)
    expect(await left('kept.read')).toEqual([5])
    // Without a retention nothing is ever deleted.
    await db.sql`update log_records set appended_at = appended_at - interval '1 day' where topic like 'kept.%'`
    expect(await new PgLog(db.sql).prune()).toBe(0)
    await log.close()
  })

  test('commitWithin makes the consumer write and its progress one transaction', async () => {
    const log = new PgLog(db.sql, { heartbeatMs: 100 })
    await log.ensureTopics([{ name: 'tx.topic', partitions: 1 }])
    await log.append(
      'tx.topic',
      [1, 2, 3].map((n) => ({ key: 'k', value: String(n) })),
    )
    await db.sql`create table sink (value text primary key)`

    const consumer = log.consumer({ group: 'g-tx', topics: ['tx.topic'], maxRecords: 10, maxWaitMs: 2_000 })
    const batch = await consumer.poll()
    expect(batch.records.map((r) => r.value)).toEqual(['1', '2', '3'])
    // A failure after the write and the commit rolls both back: nothing is half-done.
    const failed = await db.sql
      .begin(async (tx) => {
        await tx`insert into sink select unnest(${batch.records.map((r) => r.value)}::text[])`
        await consumer.commitWithin(tx, batch.nextOffsets)
        throw new Error('crash before commit')
      })
      .catch((e: Error) => e.message)
    expect(failed).toBe('crash before commit')
    expect((await db.sql`select * from sink`).length).toBe(0)
    expect((await db.sql`select * from log_group_offsets where grp = 'g-tx'`).length).toBe(0)

    await db.sql.begin(async (tx) => {
      await tx`insert into sink select unnest(${batch.records.map((r) => r.value)}::text[])`
      await consumer.commitWithin(tx, batch.nextOffsets)
    })
    const [committed] = await db.sql`select next_offset from log_group_offsets where grp = 'g-tx'`
    expect(committed?.next_offset).toBe(3n)
    expect((await db.sql`select value from sink order by value`).map((r) => r.value)).toEqual(['1', '2', '3'])
    await consumer.close()
  })

  test('a member whose lease expired cannot commit: the new owner gets the records', async () => {
    const log = new PgLog(db.sql, { sessionTimeoutMs: 300, heartbeatMs: 100 })
    await log.ensureTopics([{ name: 'lease.topic', partitions: 1 }])
    await log.append('lease.topic', [{ key: 'k', value: 'x' }])
    const stale = log.consumer({ group: 'g-lease', topics: ['lease.topic'], maxRecords: 10, maxWaitMs: 2_000 })
    const batch = await stale.poll()
    expect(batch.records.length).toBe(1)
    // Simulate a frozen process: its lease lapses and another member claims the partition.
    await db.sql`update log_partition_leases set expires_at = clock_timestamp() - interval '1 second' where grp = 'g-lease'`
    const fresh = log.consumer({ group: 'g-lease', topics: ['lease.topic'], maxRecords: 10, maxWaitMs: 2_000 })
    const taken = await fresh.poll()
    expect(taken.records.map((r) => r.value)).toEqual(['x'])

    const error = await stale.commit(batch.nextOffsets).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AppError)
    expect((error as AppError).code).toBe('PARTITION_LOST')
    await fresh.commit(taken.nextOffsets)
    await stale.close()
    await fresh.close()
  })

  test('a member whose lease lapsed with nobody taking it over reads its uncommitted records again', async () => {
    const log = new PgLog(db.sql, { sessionTimeoutMs: 300, heartbeatMs: 100 })
    await log.ensureTopics([{ name: 'lapse.topic', partitions: 1 }])
    await log.append('lapse.topic', [
      { key: 'k', value: 'a' },
      { key: 'k', value: 'b' },
    ])
    const consumer = log.consumer({ group: 'g-lapse', topics: ['lapse.topic'], maxRecords: 10, maxWaitMs: 500 })
    const batch = await consumer.poll()
    expect(batch.records.map((r) => r.value)).toEqual(['a', 'b'])
    // A batch longer than the session: the lease lapses before the commit, which is refused.
    await db.sql`update log_partition_leases set expires_at = clock_timestamp() - interval '1 second' where grp = 'g-lapse'`
    const error = await consumer.commit(batch.nextOffsets).catch((e: unknown) => e)
    expect((error as AppError).code).toBe('PARTITION_LOST')
    // It claims the partition again and starts from the committed offset: the batch comes again.
    const again = await consumer.poll()
    expect(again.records.map((r) => r.value)).toEqual(['a', 'b'])
    await consumer.commit(again.nextOffsets)
    const [committed] = await db.sql<{ next_offset: bigint }[]>`
      select next_offset from log_group_offsets where grp = 'g-lapse'`
    expect(committed?.next_offset).toBe(2n)
    await consumer.close()
  })

  test('a member keeps its leases while the log client is busy: renewals have a connection of their own', async () => {
    // A pool of one held by a query three sessions long, as the stages' loads may hold a pool.
    const pool = createPgClient({ url: db.url, max: 1, applicationName: 'pas-test-busy' })
    const leases = createPgClient({ url: db.url, max: 1, applicationName: 'pas-test-leases' })
    const log = new PgLog(pool, { sessionTimeoutMs: 500, heartbeatMs: 100, leases })
    await log.ensureTopics([{ name: 'busy.topic', partitions: 1 }])
    await log.append('busy.topic', [{ key: 'k', value: 'x' }])
    const consumer = log.consumer({ group: 'g-busy', topics: ['busy.topic'], maxRecords: 10, maxWaitMs: 500 })
    const batch = await consumer.poll()
    expect(batch.records.map((r) => r.value)).toEqual(['x'])
    await pool`select pg_sleep(1.5)`
    // Renewed meanwhile on its own connection (on the pool, renewals waited behind the sleep, the
    // lease lapsed and the commit was refused: PARTITION_LOST).
    await consumer.commit(batch.nextOffsets)
    const [committed] = await db.sql<{ next_offset: bigint }[]>`
      select next_offset from log_group_offsets where grp = 'g-busy'`
    expect(committed?.next_offset).toBe(1n)
    await consumer.close()
    await Promise.all([pool.end(), leases.end()])
  })
})
