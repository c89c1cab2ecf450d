import { Admin } from '@platformatic/kafka'
import { AppError } from '../errors.ts'
import type { PartitionLag } from '../ports/event-log.ts'
import type { TopicSpec } from '../topology.ts'

/**
 * The control plane of both Kafka adapters, on @platformatic/kafka's admin client: topics,
 * partition counts, readiness and consumer lag. Kept apart from the data plane (produce, fetch,
 * commit) so that the librdkafka adapter shares it: librdkafka 2.0 (Debian bookworm's) has no
 * ListOffsets admin call, and its metadata and committed-offset calls block the calling thread,
 * which here is the only JavaScript thread.
 */
export class KafkaAdmin {
  readonly #admin: Admin
  readonly #partitionCounts = new Map<string, number>()

  constructor(brokers: readonly string[], clientId: string) {
    this.#admin = new Admin({
      bootstrapBrokers: [...brokers],
      retries: 5,
      retryDelay: 250,
      clientId: `${clientId}-admin`,
    })
  }

  /** Throws when no broker answers a metadata request (readiness). */
  async ping(): Promise<void> {
    await this.#admin.metadata({ topics: [], forceUpdate: true })
  }

  /** End offsets from the partition leaders, committed offsets from the group coordinator. */
  async lag(group: string, topics: readonly string[]): Promise<PartitionLag[]> {
    const counts = await Promise.all(topics.map((t) => this.partitionCount(t)))
    const latest = -1n // ListOffsets: the offset the next record will get
    const [ends, groups] = await Promise.all([
      this.#admin.listOffsets({
        topics: topics.map((name, i) => ({
          name,
          partitions: Array.from({ length: counts[i] ?? 0 }, (_, partitionIndex) => ({
            partitionIndex,
            timestamp: latest,
          })),
        })),
      }),
      this.#admin.listConsumerGroupOffsets({ groups: [group] }),
    ])
    const committed = new Map(
      (groups[0]?.topics ?? []).flatMap((t) =>
        t.partitions.map((p) => [`${t.name}/${p.partitionIndex}`, p.committedOffset] as const),
      ),
    )
    return ends.flatMap((t) =>
      t.partitions.map((p) => {
        const done = committed.get(`${t.name}/${p.partitionIndex}`) ?? 0n
        return { topic: t.name, partition: p.partitionIndex, lag: Number(p.offset - (done < 0n ? 0n : done)) }
      }),
    )
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    const existing = new Set(await this.#admin.listTopics())
    for (const { name, partitions } of specs) {
      if (existing.has(name)) continue
      try {
        // replicas -1: the broker's default.replication.factor (1 on a test broker, 3 in production).
        await this.#admin.createTopics({ topics: [name], partitions, replicas: -1 })
      } catch (error) {
        if (!String((error as Error).message + JSON.stringify(error)).includes('TOPIC_ALREADY_EXISTS')) throw error
      }
      this.#partitionCounts.delete(name)
      await this.#untilLeadersElected(name)
    }
  }

  /** A topic just created has partitions without a leader for a moment; sending then fails. */
  async #untilLeadersElected(topic: string): Promise<void> {
    const deadline = Date.now() + 30_000
    for (;;) {
      const metadata = await this.#admin.metadata({ topics: [topic], forceUpdate: true }).catch(() => undefined)
      const partitions = metadata?.topics.get(topic)?.partitions ?? []
      if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return
      if (Date.now() > deadline) throw new AppError('LOG_UNAVAILABLE', `topic ${topic} has no leaders after 30 s`, true)
      await Bun.sleep(100)
    }
  }

  /** A topic's partition count, cached; UNKNOWN_TOPIC when it does not exist. */
  async partitionCount(topic: string): Promise<number> {
    let count = this.#partitionCounts.get(topic)
    if (count === undefined) {
      if (!(await this.#admin.listTopics()).includes(topic)) {
        throw new AppError('UNKNOWN_TOPIC', `topic ${topic} does not exist`, false)
      }
      const metadata = await this.#admin.metadata({ topics: [topic] })
      count = metadata.topics.get(topic)?.partitionsCount ?? 0
      this.#partitionCounts.set(topic, count)
    }
    return count
  }

  close(): Promise<void> {
    return this.#admin.close()
  }
}
