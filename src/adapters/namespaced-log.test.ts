import { expect, test } from 'bun:test'
import { eventLogContract } from '../ports/event-log.contract.ts'
import { MemoryLog } from './memory-log.ts'
import { namespaced } from './namespaced-log.ts'

// The decorator keeps every promise of the port.
eventLogContract('memory, namespaced', {
  open: async () => namespaced(new MemoryLog(), 'ns.'),
  rebalanceTimeoutMs: 2_000,
})

test('topics and groups live under the prefix on the log beneath; callers see plain names', async () => {
  const beneath = new MemoryLog()
  const a = namespaced(beneath, 'a.')
  const b = namespaced(beneath, 'b.')
  for (const log of [a, b]) await log.ensureTopics([{ name: 'raw', partitions: 1 }])
  await a.append('raw', [{ key: 'k', value: 'from a' }])
  await b.append('raw', [{ key: 'k', value: 'from b' }])

  const options = { group: 'g', topics: ['raw'], maxRecords: 10, maxWaitMs: 50 }
  const fromA = a.consumer(options)
  const batch = await fromA.poll()
  expect(batch.records.map((r) => [r.topic, r.value])).toEqual([['raw', 'from a']])
  expect(batch.nextOffsets).toEqual([{ topic: 'raw', partition: 0, offset: 1n }])
  await fromA.commit(batch.nextOffsets)
  expect(fromA.assignment()).toEqual(['raw/0'])
  await fromA.close()

  // The same group name under b is another group: it starts from b's first record.
  const fromB = b.consumer(options)
  expect((await fromB.poll()).records.map((r) => r.value)).toEqual(['from b'])
  await fromB.close()
  // Beneath, the names carry the prefix, and a's group committed past its record.
  const raw = beneath.consumer({ ...options, group: 'a.g', topics: ['a.raw'] })
  expect((await raw.poll()).records).toEqual([])
  await raw.close()
  expect(namespaced(beneath, '')).toBe(beneath)
})
