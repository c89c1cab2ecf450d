import { afterAll, describe, expect, test } from 'bun:test'
import { AppError } from '../errors.ts'
import { eventLogContract } from '../ports/event-log.contract.ts'
import { freshDatabase } from '../testing/infra.ts'
import { PgLog } from './pg-log.ts'

const db = await freshDatabase('pg_log')
afterAll(() => db.drop())

eventLogContract('pg', {
  open: async () => new PgLog(db.sql, { sessionTimeoutMs: 2_000, heartbeatMs: 200 }),
  rebalanceTimeoutMs: 10_000,
})

describe('PgLog', () => {
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
})
