import type { Batch, ConsumerOptions, EventLog, LogConsumer, PartitionOffset } from '../ports/event-log.ts'
import type { TopicSpec } from '../topology.ts'

/**
 * An EventLog whose topics and consumer groups are `prefix` + their name on the log beneath, so
 * several deployments (or test runs) share one Kafka cluster without seeing each other's records
 * or offsets. Callers keep using the plain names; records and offsets come back with them.
 */
export function namespaced(log: EventLog, prefix: string): EventLog {
  if (prefix === '') return log
  const outside = (topic: string) => topic.slice(prefix.length)
  const inside = (offsets: readonly PartitionOffset[]) => offsets.map((o) => ({ ...o, topic: prefix + o.topic }))
  return {
    kind: log.kind,
    ensureTopics: (specs: readonly TopicSpec[]) =>
      log.ensureTopics(specs.map((s) => ({ ...s, name: prefix + s.name }))),
    append: (topic, records) => log.append(prefix + topic, records),
    consumer(options: ConsumerOptions): LogConsumer {
      const consumer = log.consumer({
        ...options,
        group: prefix + options.group,
        topics: options.topics.map((t) => prefix + t),
      })
      return {
        async poll(): Promise<Batch> {
          const batch = await consumer.poll()
          return {
            records: batch.records.map((r) => ({ ...r, topic: outside(r.topic) })),
            nextOffsets: batch.nextOffsets.map((o) => ({ ...o, topic: outside(o.topic) })),
          }
        },
        commit: (offsets) => consumer.commit(inside(offsets)),
        assignment: () => consumer.assignment().map(outside),
        close: () => consumer.close(),
      }
    },
    ...(log.ping ? { ping: () => (log.ping as () => Promise<void>)() } : {}),
    lag: async (group, topics) =>
      (
        await log.lag(
          prefix + group,
          topics.map((t) => prefix + t),
        )
      ).map((l) => ({ ...l, topic: outside(l.topic) })),
    close: () => log.close(),
  }
}
