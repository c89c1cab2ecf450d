import { AppError } from '../errors.ts'
import type {
  AppendRecord,
  Batch,
  ConsumerOptions,
  EventLog,
  LogConsumer,
  LogRecord,
  PartitionLag,
  PartitionOffset,
} from '../ports/event-log.ts'
import { nextOffsetsOf, splitTp } from '../ports/event-log.ts'
import { partitionFor } from '../runtime/partitioner.ts'
import type { TopicSpec } from '../topology.ts'

type Group = { members: string[]; committed: Map<string, bigint> }

/**
 * EventLog in memory, for unit tests and CPU benchmarks only: nothing survives the process.
 * Group members split partitions round-robin by join order; a leaving member's partitions move at
 * the others' next poll, from the committed offset.
 */
export class MemoryLog implements EventLog {
  readonly kind = 'memory'
  readonly #partitions = new Map<string, LogRecord[][]>()
  readonly #groups = new Map<string, Group>()
  readonly #waiters = new Set<() => void>()
  #nextMember = 0

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    for (const { name, partitions } of specs) {
      const existing = this.#partitions.get(name) ?? []
      while (existing.length < partitions) existing.push([])
      this.#partitions.set(name, existing)
    }
  }

  async append(topic: string, records: readonly AppendRecord[]): Promise<void> {
    const partitions = this.#topic(topic)
    const now = Date.now()
    for (const { key, value } of records) {
      const partition = partitionFor(key, partitions.length)
      const log = partitions[partition] as LogRecord[]
      log.push({ topic, partition, offset: BigInt(log.length), key, value, timestampMs: now })
    }
    for (const wake of this.#waiters) wake()
  }

  consumer(options: ConsumerOptions): LogConsumer {
    for (const topic of options.topics) this.#topic(topic)
    const group: Group = this.#groups.get(options.group) ?? { members: [], committed: new Map() }
    this.#groups.set(options.group, group)
    const member = `m${this.#nextMember++}`
    group.members.push(member)
    return new MemoryConsumer(this, group, member, options)
  }

  async lag(group: string, topics: readonly string[]): Promise<PartitionLag[]> {
    const committed = this.#groups.get(group)?.committed
    return topics.flatMap((topic) =>
      (this.#partitions.get(topic) ?? []).map((records, partition) => ({
        topic,
        partition,
        lag: records.length - Number(committed?.get(`${topic}/${partition}`) ?? 0n),
      })),
    )
  }

  async close(): Promise<void> {
    for (const wake of this.#waiters) wake()
  }

  /** @internal partitions of `topic`; throws for a topic never ensured. */
  #topic(topic: string): LogRecord[][] {
    const partitions = this.#partitions.get(topic)
    if (partitions === undefined) throw new AppError('UNKNOWN_TOPIC', `topic ${topic} does not exist`, false)
    return partitions
  }

  /** @internal */ partitionsOf(topic: string): LogRecord[][] {
    return this.#topic(topic)
  }

  /** @internal resolves on the next append or after `ms`. */
  waitForAppend(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.#waiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.#waiters.add(done)
    })
  }
}

class MemoryConsumer implements LogConsumer {
  readonly #positions = new Map<string, bigint>()
  #closed = false

  constructor(
    private readonly log: MemoryLog,
    private readonly group: Group,
    private readonly member: string,
    private readonly options: ConsumerOptions,
  ) {}

  assignment(): string[] {
    const members = this.group.members
    const mine: string[] = []
    let i = 0
    for (const topic of this.options.topics) {
      for (let p = 0; p < this.log.partitionsOf(topic).length; p++, i++) {
        if (members[i % members.length] === this.member) mine.push(`${topic}/${p}`)
      }
    }
    return mine
  }

  async poll(): Promise<Batch> {
    const deadline = Date.now() + this.options.maxWaitMs
    for (;;) {
      const records = this.#take()
      if (records.length > 0 || this.#closed || Date.now() >= deadline) {
        return { records, nextOffsets: nextOffsetsOf(records) }
      }
      await this.log.waitForAppend(deadline - Date.now())
    }
  }

  #take(): LogRecord[] {
    const owned = new Set(this.assignment())
    for (const tp of this.#positions.keys()) if (!owned.has(tp)) this.#positions.delete(tp)
    const out: LogRecord[] = []
    for (const tp of owned) {
      const [topic, partition] = splitTp(tp)
      const position = this.#positions.get(tp) ?? this.group.committed.get(tp) ?? 0n
      const log = this.log.partitionsOf(topic)[partition] as LogRecord[]
      const end = Math.min(log.length, Number(position) + this.options.maxRecords - out.length)
      for (let o = Number(position); o < end; o++) out.push(log[o] as LogRecord)
      this.#positions.set(tp, BigInt(Math.max(end, Number(position))))
      if (out.length >= this.options.maxRecords) break
    }
    return out
  }

  async commit(offsets: readonly PartitionOffset[]): Promise<void> {
    const owned = new Set(this.assignment())
    const lost = offsets.filter((o) => !owned.has(`${o.topic}/${o.partition}`))
    if (lost.length > 0) {
      for (const o of lost) this.#positions.delete(`${o.topic}/${o.partition}`)
      throw new AppError(
        'PARTITION_LOST',
        `partitions reassigned: ${lost.map((o) => `${o.topic}/${o.partition}`)}`,
        true,
      )
    }
    for (const o of offsets) this.group.committed.set(`${o.topic}/${o.partition}`, o.offset)
  }

  async close(): Promise<void> {
    this.#closed = true
    this.group.members = this.group.members.filter((m) => m !== this.member)
  }
}
