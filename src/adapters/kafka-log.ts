import {
  type Consumer,
  GenericError,
  Consumer as KafkaConsumer,
  type Message,
  type MessagesStream,
  ProduceAcks,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka'
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
import { nextOffsetsOf } from '../ports/event-log.ts'
import { partitionFor } from '../runtime/partitioner.ts'
import type { TopicSpec } from '../topology.ts'
import { KafkaAdmin } from './kafka-admin.ts'

export type KafkaLogOptions = {
  brokers: readonly string[]
  clientId: string
  /** Group session timeout; the broker's minimum is 6 s by default. */
  sessionTimeoutMs?: number
  heartbeatMs?: number
}

type Msg = Message<string, string, string, string>
type OutMessage = { topic: string; key: string; value: string; partition: number }
type PendingAppend = { messages: OutMessage[]; resolve: () => void; reject: (error: unknown) => void }

/** A send carries at most this many messages (unless one append alone is larger). */
const MAX_MESSAGES_PER_SEND = 20_000

/** Removes and returns the oldest appends, up to `max` messages (always at least one append). */
function takeGroup(queue: PendingAppend[], max: number): PendingAppend[] {
  let n = 0
  let count = 0
  while (n < queue.length && (n === 0 || count + (queue[n] as PendingAppend).messages.length <= max)) {
    count += (queue[n] as PendingAppend).messages.length
    n++
  }
  return queue.splice(0, n)
}

/**
 * EventLog over Apache Kafka with @platformatic/kafka. This is the only file that imports the
 * client, so a librdkafka-based adapter can replace it when Bun can load one.
 * - Records are placed by pas's own murmur2 partitioner (the Java client's), with acks=all.
 * - Consumers never autocommit; `commit` is called once the batch's effects are durable.
 */
export class KafkaLog implements EventLog {
  readonly kind = 'kafka'
  readonly #options: KafkaLogOptions
  readonly #producer: Producer<string, string, string, string>
  readonly #admin: KafkaAdmin
  readonly #consumers = new Set<KafkaLogConsumer>()
  #producerReady: Promise<unknown> | undefined
  readonly #queue: PendingAppend[] = []
  /** The send loop while appends are queued; close() waits for it. */
  #flushing: Promise<void> | undefined

  constructor(options: KafkaLogOptions) {
    this.#options = options
    const base = { bootstrapBrokers: [...options.brokers], retries: 5, retryDelay: 250 }
    this.#producer = new Producer({
      ...base,
      clientId: `${options.clientId}-producer`,
      serializers: stringSerializers,
      // Idempotent: a send retried after a partial failure is not written twice (the broker drops
      // batches whose producer sequence it has already seen). Implies acks=all.
      idempotent: true,
      acks: ProduceAcks.ALL,
    })
    this.#admin = new KafkaAdmin(options.brokers, options.clientId)
  }

  /**
   * Group commit: one send is in flight at a time, and appends that arrive meanwhile go out
   * together in the next one. Each caller resolves once its own records are acknowledged. Besides
   * batching, this is what keeps the idempotent producer exact: concurrent sends from one
   * @platformatic/kafka producer were seen writing a batch twice (EventLog contract, concurrent
   * appenders); one send at a time never did.
   */
  async append(topic: string, records: readonly AppendRecord[]): Promise<void> {
    if (records.length === 0) return
    const partitions = await this.#admin.partitionCount(topic)
    const messages = records.map((r) => ({
      topic,
      key: r.key,
      value: r.value,
      partition: partitionFor(r.key, partitions),
    }))
    await new Promise<void>((resolve, reject) => {
      this.#queue.push({ messages, resolve, reject })
      this.#flushing ??= this.#drain().finally(() => {
        this.#flushing = undefined
      })
    })
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const group = takeGroup(this.#queue, MAX_MESSAGES_PER_SEND)
      try {
        // Get the producer id once, before the first send; a failure is retried by the next append.
        this.#producerReady ??= this.#producer.initIdempotentProducer({}).catch((error: unknown) => {
          this.#producerReady = undefined
          throw error
        })
        await this.#producerReady
        await this.#producer.send({ messages: group.flatMap((g) => g.messages) })
        for (const g of group) g.resolve()
      } catch (error) {
        const failure = new AppError('LOG_UNAVAILABLE', `append failed: ${(error as Error).message}`, true, {
          cause: error,
        })
        for (const g of group) g.reject(failure)
      }
    }
  }

  ping(): Promise<void> {
    return this.#admin.ping()
  }

  lag(group: string, topics: readonly string[]): Promise<PartitionLag[]> {
    return this.#admin.lag(group, topics)
  }

  ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    return this.#admin.ensureTopics(specs)
  }

  consumer(options: ConsumerOptions): LogConsumer {
    const consumer = new KafkaLogConsumer(this.#options, options, () => this.#consumers.delete(consumer))
    this.#consumers.add(consumer)
    return consumer
  }

  async close(): Promise<void> {
    await Promise.all([...this.#consumers].map((c) => c.close()))
    await this.#flushing
    await this.#producer.close()
    await this.#admin.close()
  }
}

class KafkaLogConsumer implements LogConsumer {
  readonly #client: Consumer<string, string, string, string>
  readonly #queue: Msg[] = []
  /**
   * Next offset expected per partition. On every group (re)join the stream re-reads the committed
   * offsets and fetches again, possibly before this member's in-flight commit landed; what was
   * already handed out is dropped here. Kept across rebalances (assignments are briefly empty
   * during a rejoin); cleared when a commit is refused, so that batch is delivered again.
   */
  readonly #positions = new Map<string, bigint>()
  readonly #epochs = new Map<string, number>()
  #stream: Promise<MessagesStream<string, string, string, string>> | undefined
  #wake: (() => void) | undefined
  #failure: Error | undefined
  #closed = false

  constructor(
    kafka: KafkaLogOptions,
    private readonly options: ConsumerOptions,
    private readonly onClose: () => void,
  ) {
    this.#client = new KafkaConsumer({
      groupId: options.group,
      clientId: `${kafka.clientId}-${options.group}`,
      bootstrapBrokers: [...kafka.brokers],
      deserializers: stringDeserializers,
      autocommit: false,
      sessionTimeout: kafka.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: kafka.heartbeatMs ?? 500,
      retries: 5,
      retryDelay: 250,
    })
  }

  assignment(): readonly string[] {
    return (this.#client.assignments ?? []).flatMap((a) => a.partitions.map((p) => `${a.topic}/${p}`)).sort()
  }

  /**
   * A stream that failed (the broker went away) is closed and forgotten: the poll throws
   * LOG_UNAVAILABLE (retryable), and the next poll joins the group again with a new stream, from
   * the committed offsets. What was queued but not handed out is fetched again; what was handed
   * out already is dropped by `#positions`, as after a rebalance.
   */
  async poll(): Promise<Batch> {
    let stream: MessagesStream<string, string, string, string>
    try {
      stream = await this.#start()
    } catch (error) {
      this.#stream = undefined
      throw new AppError('LOG_UNAVAILABLE', `consume failed: ${(error as Error).message}`, true, { cause: error })
    }
    const deadline = Date.now() + this.options.maxWaitMs
    for (;;) {
      if (this.#failure) {
        const failure = this.#failure
        await this.#restart()
        throw new AppError('LOG_UNAVAILABLE', failure.message, true, { cause: failure })
      }
      const records = this.#take()
      const left = deadline - Date.now()
      if (records.length > 0 || this.#closed || left <= 0) {
        if (stream.isPaused() && this.#queue.length < this.options.maxRecords) stream.resume()
        return { records, nextOffsets: nextOffsetsOf(records) }
      }
      if (stream.isPaused()) stream.resume()
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.#wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }

  async commit(offsets: readonly PartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return
    try {
      await this.#client.commit({
        offsets: offsets.map((o) => ({ ...o, leaderEpoch: this.#epochs.get(`${o.topic}/${o.partition}`) ?? -1 })),
      })
    } catch (error) {
      // The group moved on (rebalance, fenced generation): the new owner re-reads from the last commit.
      this.#positions.clear()
      throw new AppError('PARTITION_LOST', `commit refused: ${(error as Error).message}`, true, { cause: error })
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#wake?.()
    const stream = await this.#stream?.catch(() => undefined)
    await stream?.close()
    await this.#client.close(true)
    this.onClose()
  }

  async #restart(): Promise<void> {
    const stream = await this.#stream?.catch(() => undefined)
    this.#stream = undefined
    this.#failure = undefined
    this.#queue.length = 0
    await stream?.close().catch(() => {})
  }

  #start() {
    this.#stream ??= this.#client
      .consume({
        topics: [...this.options.topics],
        mode: 'committed',
        fallbackMode: 'earliest',
        autocommit: false,
        maxWaitTime: Math.min(500, Math.max(10, this.options.maxWaitMs)),
      })
      .then((stream) => {
        stream.on('data', (message: Msg) => {
          this.#queue.push(message)
          // Bounded buffer: stop fetching while two batches wait; poll resumes it.
          if (this.#queue.length >= 2 * this.options.maxRecords) stream.pause()
          this.#wake?.()
        })
        stream.on('error', (error: Error) => {
          this.#failure = error
          this.#wake?.()
        })
        return stream
      })
    return this.#stream
  }

  /** Up to maxRecords queued messages of partitions still assigned, each offset once. */
  #take(): LogRecord[] {
    const owned = new Set(this.assignment())
    const out: LogRecord[] = []
    while (out.length < this.options.maxRecords && this.#queue.length > 0) {
      const m = this.#queue.shift() as Msg
      const tp = `${m.topic}/${m.partition}`
      if (!owned.has(tp)) continue
      const expected = this.#positions.get(tp)
      if (expected !== undefined && m.offset < expected) continue
      this.#positions.set(tp, m.offset + 1n)
      this.#epochs.set(tp, m.leaderEpoch)
      out.push({
        topic: m.topic,
        partition: m.partition,
        offset: m.offset,
        key: m.key,
        value: m.value,
        timestampMs: Number(m.timestamp),
      })
    }
    return out
  }
}

/**
 * Whether a Kafka client error says the broker is unreachable or slow (retry later), not that a
 * request is wrong; for several errors at once (a send to several brokers), whether any says so.
 */
export function isKafkaTransient(error: unknown): boolean {
  if (!(error instanceof Error) || !GenericError.isGenericError(error)) return false
  if (error.canRetry === true || error.code === 'PLT_KFK_NETWORK' || error.code === 'PLT_KFK_TIMEOUT') return true
  return error instanceof AggregateError && error.errors.some(isKafkaTransient)
}
