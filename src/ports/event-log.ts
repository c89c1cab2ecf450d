import type { TopicSpec } from '../topology.ts'

/** A record to append. The key picks the partition (same key, same partition, in append order). */
export type AppendRecord = { readonly key: string; readonly value: string }

/** A record as a consumer sees it. Offsets are per partition, dense, starting at 0. */
export type LogRecord = {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  readonly key: string
  readonly value: string
  /** Append time, milliseconds since the epoch. */
  readonly timestampMs: number
}

/** Records of one partition a consumer group has not committed yet. */
export type PartitionLag = { readonly topic: string; readonly partition: number; readonly lag: number }

/** The next offset to read for one partition: what a consumer group commits. */
export type PartitionOffset = { readonly topic: string; readonly partition: number; readonly offset: bigint }

export type ConsumerOptions = {
  readonly group: string
  readonly topics: readonly string[]
  /** Upper bound on records returned by one poll. */
  readonly maxRecords: number
  /** How long poll waits for the first record before returning an empty batch. */
  readonly maxWaitMs: number
}

/**
 * A batch from `poll`. `nextOffsets` is, per partition present in the batch, the offset after its
 * last record: commit it once the batch's effects are durable.
 */
export type Batch = { readonly records: readonly LogRecord[]; readonly nextOffsets: readonly PartitionOffset[] }

/**
 * One member of a consumer group. Not safe for concurrent use: poll, process, commit, poll again.
 * Partitions are split between the live members of a group; a member that stops or dies has its
 * partitions taken over, from the last committed offset (uncommitted records are delivered again).
 */
export interface LogConsumer {
  /** Records from this member's partitions, at most `maxRecords`; empty after `maxWaitMs` of nothing. */
  poll(): Promise<Batch>
  /**
   * Records the group's progress. Throws AppError PARTITION_LOST (retryable) when a partition was
   * reassigned meanwhile; its records will be delivered to the new owner, so the caller drops the batch.
   */
  commit(offsets: readonly PartitionOffset[]): Promise<void>
  /** Partitions this member currently owns, as `topic/partition`. */
  assignment(): readonly string[]
  /** Leaves the group so the others take over at once. Uncommitted records are redelivered. */
  close(): Promise<void>
}

/**
 * A partitioned, durable, replayable log: the transport between pas roles. Adapters: Kafka
 * (`kafka-log.ts`), PostgreSQL (`pg-log.ts`, the embedded default) and memory (unit tests).
 */
export interface EventLog {
  readonly kind: 'kafka' | 'pg' | 'memory'
  /** Creates missing topics with the given partition counts. Idempotent; never shrinks a topic. */
  ensureTopics(specs: readonly TopicSpec[]): Promise<void>
  /** Appends in order; resolves once the records are durable. All or nothing per call where the adapter can. */
  append(topic: string, records: readonly AppendRecord[]): Promise<void>
  consumer(options: ConsumerOptions): LogConsumer
  /** Throws when the log cannot be reached (readiness); absent where the log is the database itself. */
  ping?(): Promise<void>
  /**
   * Per partition of `topics`: records appended that `group` has not committed yet (all of them
   * when it never committed there). What `/metrics` reports as consumer lag.
   */
  lag(group: string, topics: readonly string[]): Promise<PartitionLag[]>
  close(): Promise<void>
}

/** 'topic/partition' → [topic, partition]: the inverse of the keys nextOffsetsOf and assignment() use. */
export function splitTp(tp: string): [string, number] {
  const slash = tp.lastIndexOf('/')
  return [tp.slice(0, slash), Number(tp.slice(slash + 1))]
}

/** The offset after the last record of each partition in `records`, in first-seen order. */
export function nextOffsetsOf(records: readonly LogRecord[]): PartitionOffset[] {
  const last = new Map<string, PartitionOffset>()
  for (const r of records)
    last.set(`${r.topic}/${r.partition}`, { topic: r.topic, partition: r.partition, offset: r.offset + 1n })
  return [...last.values()]
}
