import { type Pointer, ptr, read } from 'bun:ffi'
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
import type { KafkaLogOptions } from './kafka-log.ts'
import {
  CONSUMER,
  cstr,
  cstringAt,
  Err,
  Ev,
  logLine,
  Message,
  MSG_F_COPY,
  MSG_F_PARTITION,
  PRODUCER,
  partitionsOf,
  type RdKafka,
  rdkafka,
  text,
} from './rdkafka/ffi.ts'
import { QueueWaker } from './rdkafka/waker.ts'

/** Where librdkafka's own log lines go (warnings and errors; it recovers from most by itself). */
export type RdKafkaLogSink = (level: 'warn' | 'error', message: string, fields: Record<string, unknown>) => void

export type RdKafkaLogOptions = KafkaLogOptions & {
  /** librdkafka's log lines, served as events on the JavaScript thread; default: dropped. */
  log?: RdKafkaLogSink
  /** The shared library to load; default `librdkafka.so.1` (Debian's `librdkafka1`). */
  library?: string
  /** How long librdkafka keeps trying to deliver an append before it fails (message.timeout.ms). */
  deliveryTimeoutMs?: number
}

/** Between polls of a result queue (commits, close): short, since one is awaited. */
const RESULT_SLEEPS_MS = [0, 0, 1] as const
const resultSleep = (idle: number) => Bun.sleep(RESULT_SLEEPS_MS[Math.min(idle, RESULT_SLEEPS_MS.length - 1)] ?? 1)
/** How long a commit waits for its result, and a close for librdkafka to leave the group. */
const COMMIT_TIMEOUT_MS = 30_000
const CLOSE_TIMEOUT_MS = 30_000
/** After the first records of a poll, how long it waits for more of the same fetch. */
const BATCH_LINGER_MS = 10
/** While no broker answers, how often an append asks again before it is refused. */
const DOWN_RECHECK_MS = 1_000
/** A wait on a queue's waker ends after this at the latest, in case a wake-up was missed. */
const WAKE_TIMEOUT_MS = 100
/** Messages librdkafka may hold unsent; an append waits for room rather than be refused half-way. */
const PRODUCE_QUEUE_MESSAGES = 1_000_000

type Handle = Pointer

/**
 * A configuration object with `settings` and the event types to emit on queues; throws on a bad
 * setting. librdkafka's log lines (errors and warnings) become LOG events on the client's main
 * queue too, instead of lines it would write to stderr itself.
 */
function configure(lib: RdKafka, settings: Record<string, string>, events: number): Handle {
  const conf = lib.rd_kafka_conf_new() as Handle
  const error = new Uint8Array(512)
  for (const [name, value] of Object.entries({ ...settings, 'log.queue': 'true', log_level: '4' })) {
    if (lib.rd_kafka_conf_set(conf, cstr(name), cstr(value), error, error.length) !== 0) {
      lib.rd_kafka_conf_destroy(conf)
      throw new AppError('CONFIG_INVALID', `librdkafka ${name}=${value}: ${cstringAt(ptr(error))}`, false)
    }
  }
  lib.rd_kafka_conf_set_events(conf, events | Ev.LOG)
  return conf
}

/** A client of `type`; it owns `conf` once created. Its log lines go to its main queue. */
function client(lib: RdKafka, type: number, conf: Handle): Handle {
  const error = new Uint8Array(512)
  const rk = lib.rd_kafka_new(type, conf, error, error.length) as Handle | null
  if (rk === null) {
    lib.rd_kafka_conf_destroy(conf)
    throw new AppError('LOG_UNAVAILABLE', `librdkafka: ${cstringAt(ptr(error))}`, false)
  }
  lib.rd_kafka_set_log_queue(rk, null)
  return rk
}

/** A LOG event to `sink`: syslog 0–3 as errors, 4 (warning) as warnings. */
function forwardLog(lib: RdKafka, event: Handle, client: string, sink: RdKafkaLogSink | undefined) {
  const line = sink ? logLine(lib, event) : undefined
  if (!line || !sink) return
  sink(line.level <= 3 ? 'error' : 'warn', `librdkafka: ${line.message}`, { client, facility: line.facility })
}

/** Writes a 64-bit address (below 2^53) into a struct field, without a BigInt per field. */
function setAddress(view: DataView, at: number, address: number) {
  view.setUint32(at, address >>> 0, true)
  view.setUint32(at + 4, Math.floor(address / 0x1_0000_0000), true)
}

type PendingAppend = { left: number; failure?: string; resolve: () => void; reject: (error: unknown) => void }

/**
 * EventLog over Apache Kafka with librdkafka's C API, through bun:ffi (selected by
 * PAS_KAFKA_CLIENT=rdkafka). The control plane (topics, partition counts, readiness, lag) is
 * KafkaAdmin's, shared with the @platformatic/kafka adapter.
 * - Appends: one rd_kafka_produce_batch call per append, each record's partition set by pas's own
 *   murmur2 partitioner, payloads copied by librdkafka (MSG_F_COPY); idempotent, acks=all. An
 *   append resolves when every one of its records has a successful delivery report.
 * - Every callback librdkafka could make is an event on a queue instead (delivery reports,
 *   fetched messages, rebalances, commit results, errors), polled by the JavaScript thread with a
 *   zero timeout: nothing blocks it, and no librdkafka thread ever runs JavaScript. An empty queue
 *   that gets an event wakes the thread through a pipe (QueueWaker), so nothing polls in a loop.
 */
export class RdKafkaLog implements EventLog {
  readonly kind = 'kafka'
  readonly #lib: RdKafka
  readonly #options: RdKafkaLogOptions
  readonly #admin: KafkaAdmin
  readonly #producer: Handle
  readonly #events: Handle
  readonly #waker: QueueWaker
  readonly #topics = new Map<string, Handle>()
  readonly #pending = new Map<number, PendingAppend>()
  readonly #consumers = new Set<RdKafkaConsumer>()
  #nextAppend = 1
  /** Buffers librdkafka reads by address during a call, kept reachable until it returns. */
  readonly #inCall = new Set<Buffer>()
  #pump: Promise<void> | undefined
  #fatal: string | undefined
  /** Why no broker answers, since librdkafka said so (ALL_BROKERS_DOWN), until one does again. */
  #down: string | undefined
  #downCheckedAt = 0
  #closed = false
  /** The librdkafka version loaded, e.g. 2.0.2. */
  readonly version: string

  constructor(options: RdKafkaLogOptions) {
    const { lib, version } = (() => {
      try {
        return rdkafka(options.library)
      } catch (error) {
        const message = `PAS_KAFKA_CLIENT=rdkafka needs librdkafka (Debian: apt-get install librdkafka1; or --rdkafka-library PATH): ${(error as Error).message}`
        throw new AppError('CONFIG_INVALID', message, false, { cause: error })
      }
    })()
    this.#lib = lib
    this.version = version
    this.#options = options
    this.#admin = new KafkaAdmin(options.brokers, options.clientId)
    const conf = configure(
      lib,
      {
        'bootstrap.servers': options.brokers.join(','),
        'client.id': `${options.clientId}-producer`,
        // Idempotent: a batch retried after a lost acknowledgement is not written twice. Implies acks=all.
        'enable.idempotence': 'true',
        // Each append is one produce_batch call: its records are all queued before the broker
        // thread looks, so waiting longer for more would only add latency.
        'linger.ms': '0',
        'queue.buffering.max.messages': String(PRODUCE_QUEUE_MESSAGES),
        'message.timeout.ms': String(options.deliveryTimeoutMs ?? 30_000),
        // Small requests go out at once (Nagle's algorithm would hold them for the previous ACK).
        'socket.nagle.disable': 'true',
      },
      Ev.DR | Ev.ERROR,
    )
    this.#producer = client(lib, PRODUCER, conf)
    this.#events = lib.rd_kafka_queue_get_main(this.#producer) as Handle
    this.#waker = new QueueWaker(lib, this.#events)
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

  async append(topic: string, records: readonly AppendRecord[]): Promise<void> {
    if (records.length === 0) return
    if (this.#closed) throw new AppError('SHUTTING_DOWN', 'the log is closed', false)
    if (this.#fatal) throw new AppError('LOG_UNAVAILABLE', `the producer failed: ${this.#fatal}`, false)
    await this.#refuseWhileDown()
    const partitions = await this.#admin.partitionCount(topic)
    const n = records.length
    // Wait for room rather than have librdkafka refuse part of the batch (and reorder the retry).
    while (this.#lib.rd_kafka_outq_len(this.#producer) + n > PRODUCE_QUEUE_MESSAGES) {
      this.#serve()
      await this.#waker.wait(WAKE_TIMEOUT_MS)
    }
    const id = this.#nextAppend++
    const delivered = new Promise<void>((resolve, reject) => this.#pending.set(id, { left: n, resolve, reject }))
    // Keys and values side by side in one buffer; the message structs point into it. librdkafka
    // copies both during the call, so the buffer can go once it returns.
    const keys = records.map((r) => Buffer.byteLength(r.key))
    const values = records.map((r) => Buffer.byteLength(r.value))
    let size = 1
    for (let i = 0; i < n; i++) size += (keys[i] as number) + (values[i] as number)
    const arena = Buffer.allocUnsafe(size)
    const structs = new Uint8Array(Message.size * n)
    const view = new DataView(structs.buffer)
    const base = ptr(arena)
    let at = 0
    for (let i = 0; i < n; i++) {
      const r = records[i] as AppendRecord
      const o = i * Message.size
      const keyLength = keys[i] as number
      const valueLength = values[i] as number
      arena.write(r.key, at)
      setAddress(view, o + Message.key, base + at)
      view.setUint32(o + Message.keyLen, keyLength, true)
      at += keyLength
      arena.write(r.value, at)
      setAddress(view, o + Message.payload, base + at)
      view.setUint32(o + Message.len, valueLength, true)
      at += valueLength
      view.setInt32(o + Message.partition, partitionFor(r.key, partitions), true)
      setAddress(view, o + Message.opaque, id)
    }
    // The structs point into `arena` by address only: keep it reachable through the call.
    this.#inCall.add(arena)
    const enqueued = this.#lib.rd_kafka_produce_batch(this.#topic(topic), -1, MSG_F_COPY | MSG_F_PARTITION, structs, n)
    this.#inCall.delete(arena)
    if (enqueued < n) {
      // What was enqueued is delivered; the rest failed here. The caller sees the append fail and
      // may send it again (ingest answers 503: resending what was accepted is harmless).
      const failed = records.length - enqueued
      const reasons = new Set<string>()
      for (let i = 0; i < n; i++) {
        const err = view.getInt32(i * Message.size + Message.err, true)
        if (err !== 0) reasons.add(String(this.#lib.rd_kafka_err2str(err)))
      }
      const pending = this.#pending.get(id) as PendingAppend
      pending.failure = `${failed} of ${n} records refused: ${[...reasons].join(', ')}`
      pending.left -= failed
      if (pending.left === 0) this.#settle(id, pending)
    }
    this.#pump ??= this.#drive().finally(() => {
      this.#pump = undefined
    })
    return delivered
  }

  /** Serves delivery reports until no append waits for one. */
  async #drive(): Promise<void> {
    for (;;) {
      this.#serve()
      if (this.#pending.size === 0) return
      await this.#waker.wait(WAKE_TIMEOUT_MS)
    }
  }

  /** Serves every event waiting on the producer's queue. */
  #serve(): void {
    const lib = this.#lib
    for (;;) {
      const event = lib.rd_kafka_queue_poll(this.#events, 0) as Handle | null
      if (event === null) return
      try {
        const type = lib.rd_kafka_event_type(event)
        if (type === Ev.DR) {
          for (;;) {
            const m = lib.rd_kafka_event_message_next(event) as Handle | null
            if (m === null) break
            const id = read.ptr(m, Message.opaque)
            const pending = this.#pending.get(id)
            if (!pending) continue
            const err = read.i32(m, Message.err)
            if (err !== Err.NO_ERROR) pending.failure ??= String(lib.rd_kafka_err2str(err))
            if (--pending.left === 0) this.#settle(id, pending)
          }
        } else if (type === Ev.ERROR) {
          if (lib.rd_kafka_event_error_is_fatal(event)) {
            // The idempotent producer cannot go on (e.g. fenced): every waiting append fails.
            this.#fatal = String(lib.rd_kafka_event_error_string(event))
            this.#failWaiting(this.#fatal)
          } else if (lib.rd_kafka_event_error(event) === Err.ALL_BROKERS_DOWN) {
            // No broker answers: waiting appends fail now rather than after message.timeout.ms,
            // and new ones fail fast until one answers again. Their records may still go out
            // once a broker is back: an append is at least once, as on the other clients, and
            // what reads pas's topics merges on natural keys.
            this.#down = String(lib.rd_kafka_event_error_string(event))
            this.#failWaiting(this.#down)
          }
          // Other errors (a connection reset, a leader moving) are librdkafka's to retry.
        } else if (type === Ev.LOG) {
          forwardLog(lib, event, 'producer', this.#options.log)
        }
      } finally {
        lib.rd_kafka_event_destroy(event)
      }
    }
  }

  #failWaiting(reason: string) {
    for (const [id, pending] of this.#pending) {
      pending.failure ??= reason
      pending.left = 0
      this.#settle(id, pending)
    }
  }

  /** Refuses an append at once while no broker answers; asks again (a metadata request) at most once a second. */
  async #refuseWhileDown(): Promise<void> {
    this.#serve() // errors that came while no append waited
    if (this.#down === undefined) return
    const reason = `no Kafka broker answers: ${this.#down}`
    if (Date.now() - this.#downCheckedAt < DOWN_RECHECK_MS) throw new AppError('LOG_UNAVAILABLE', reason, true)
    this.#downCheckedAt = Date.now()
    try {
      await this.#admin.ping()
      this.#down = undefined
    } catch (error) {
      throw new AppError('LOG_UNAVAILABLE', reason, true, { cause: error })
    }
  }

  #settle(id: number, pending: PendingAppend) {
    this.#pending.delete(id)
    if (pending.failure === undefined) pending.resolve()
    else pending.reject(new AppError('LOG_UNAVAILABLE', `append failed: ${pending.failure}`, true))
  }

  #topic(name: string): Handle {
    const known = this.#topics.get(name)
    if (known !== undefined) return known
    const handle = this.#lib.rd_kafka_topic_new(this.#producer, cstr(name), null) as Handle | null
    if (handle === null) throw new AppError('UNKNOWN_TOPIC', `librdkafka refused topic ${name}`, false)
    this.#topics.set(name, handle)
    return handle
  }

  consumer(options: ConsumerOptions): LogConsumer {
    const consumer = new RdKafkaConsumer(this.#lib, this.#options, options, () => this.#consumers.delete(consumer))
    this.#consumers.add(consumer)
    return consumer
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.all([...this.#consumers].map((c) => c.close()))
    await this.#pump // every append settled: delivered, or failed after message.timeout.ms
    const lib = this.#lib
    for (const handle of this.#topics.values()) lib.rd_kafka_topic_destroy(handle)
    this.#topics.clear()
    this.#waker.close()
    lib.rd_kafka_queue_destroy(this.#events)
    lib.rd_kafka_destroy(this.#producer)
    await this.#admin.close()
  }
}

/**
 * One group member on librdkafka's high-level consumer. Offsets are committed only by `commit`
 * (enable.auto.commit=false), after the caller's writes are durable. Rebalances are eager: an
 * ASSIGN event is answered with rd_kafka_assign(list), a REVOKE with rd_kafka_assign(NULL), on
 * this thread, inside poll.
 */
class RdKafkaConsumer implements LogConsumer {
  readonly #lib: RdKafka
  readonly #options: ConsumerOptions
  readonly #onClose: () => void
  readonly #log: RdKafkaLogSink | undefined
  readonly #rk: Handle
  readonly #queue: Handle
  readonly #waker: QueueWaker
  #subscribed = false
  #closed = false
  /** Partitions owned, `topic/partition` → the number of the assignment that gave it. */
  readonly #owned = new Map<string, number>()
  #assignments = 0
  /** The assignment each partition's handed-out records came from: a commit after it changed is refused. */
  readonly #handedOut = new Map<string, number>()
  /** Next offset expected per partition: a fetch from an older committed offset is not handed out twice. */
  readonly #positions = new Map<string, bigint>()
  #failure: string | undefined
  /** Topic names by librdkafka's topic handle, read once. */
  readonly #topicNames = new Map<number, string>()

  constructor(lib: RdKafka, kafka: RdKafkaLogOptions, options: ConsumerOptions, onClose: () => void) {
    this.#lib = lib
    this.#options = options
    this.#onClose = onClose
    this.#log = kafka.log
    const conf = configure(
      lib,
      {
        'bootstrap.servers': kafka.brokers.join(','),
        'client.id': `${kafka.clientId}-${options.group}`,
        'group.id': options.group,
        'enable.auto.commit': 'false',
        'enable.auto.offset.store': 'false',
        'auto.offset.reset': 'earliest',
        'partition.assignment.strategy': 'range',
        'session.timeout.ms': String(kafka.sessionTimeoutMs ?? 10_000),
        'heartbeat.interval.ms': String(kafka.heartbeatMs ?? 500),
        'fetch.wait.max.ms': String(Math.min(500, Math.max(10, options.maxWaitMs))),
        'socket.nagle.disable': 'true',
      },
      Ev.REBALANCE | Ev.ERROR,
    )
    this.#rk = client(lib, CONSUMER, conf)
    lib.rd_kafka_poll_set_consumer(this.#rk)
    this.#queue = lib.rd_kafka_queue_get_consumer(this.#rk) as Handle
    this.#waker = new QueueWaker(lib, this.#queue)
  }

  assignment(): readonly string[] {
    return [...this.#owned.keys()].sort()
  }

  async poll(): Promise<Batch> {
    if (!this.#subscribed) this.#subscribe()
    const deadline = Date.now() + this.#options.maxWaitMs
    const records: LogRecord[] = []
    let lingerUntil: number | undefined
    for (;;) {
      const served = this.#serve(records)
      if (this.#failure) {
        const failure = this.#failure
        this.#failure = undefined
        throw new AppError('LOG_UNAVAILABLE', `consume failed: ${failure}`, true)
      }
      if (records.length >= this.#options.maxRecords || this.#closed) break
      if (served === 0) {
        // The queue is drained: what comes next wakes the waker. Once records are in hand, a
        // short linger lets the rest of a fetch land, so stages get whole batches rather than
        // the first trickle of one (each batch costs a stage a recomputation).
        const now = Date.now()
        if (records.length > 0) lingerUntil ??= Math.min(deadline, now + BATCH_LINGER_MS)
        const until = lingerUntil ?? deadline
        if (now >= until) break
        await this.#waker.wait(Math.min(until - now, WAKE_TIMEOUT_MS))
      }
    }
    return { records, nextOffsets: nextOffsetsOf(records) }
  }

  #subscribe() {
    const lib = this.#lib
    const list = lib.rd_kafka_topic_partition_list_new(this.#options.topics.length) as Handle
    for (const topic of this.#options.topics) lib.rd_kafka_topic_partition_list_add(list, cstr(topic), -1)
    const err = lib.rd_kafka_subscribe(this.#rk, list)
    lib.rd_kafka_topic_partition_list_destroy(list)
    if (err !== Err.NO_ERROR) throw new AppError('LOG_UNAVAILABLE', `subscribe: ${lib.rd_kafka_err2str(err)}`, true)
    this.#subscribed = true
  }

  /** Serves waiting events into `records`, up to maxRecords messages; how many events there were. */
  #serve(records: LogRecord[], queue: Handle = this.#queue): number {
    const lib = this.#lib
    let served = 0
    while (records.length < this.#options.maxRecords) {
      const event = lib.rd_kafka_queue_poll(queue, 0) as Handle | null
      if (event === null) break
      served++
      try {
        switch (lib.rd_kafka_event_type(event)) {
          case Ev.FETCH: {
            const m = lib.rd_kafka_event_message_next(event) as Handle | null
            if (m !== null) this.#take(m, records)
            break
          }
          case Ev.REBALANCE:
            this.#rebalance(event)
            break
          case Ev.LOG:
            forwardLog(lib, event, `consumer ${this.#options.group}`, this.#log)
            break
          case Ev.ERROR: {
            const err = lib.rd_kafka_event_error(event)
            // All brokers down: the caller backs off and polls again; librdkafka reconnects meanwhile.
            if (lib.rd_kafka_event_error_is_fatal(event) || err === Err.ALL_BROKERS_DOWN) {
              this.#failure = String(lib.rd_kafka_event_error_string(event))
            }
            break
          }
        }
      } finally {
        lib.rd_kafka_event_destroy(event)
      }
    }
    return served
  }

  #take(m: Handle, records: LogRecord[]) {
    const lib = this.#lib
    const err = read.i32(m, Message.err)
    if (err !== Err.NO_ERROR) {
      if (err !== Err.PARTITION_EOF) this.#failure = String(lib.rd_kafka_err2str(err))
      return
    }
    const rkt = read.ptr(m, Message.rkt)
    let topic = this.#topicNames.get(rkt)
    if (topic === undefined) {
      topic = cstringAt(lib.rd_kafka_topic_name(rkt as Handle) as Handle)
      this.#topicNames.set(rkt, topic)
    }
    const partition = read.i32(m, Message.partition)
    const tp = `${topic}/${partition}`
    const owner = this.#owned.get(tp)
    if (owner === undefined) return // fetched before a revoke: the new owner reads it
    const offset = read.i64(m, Message.offset)
    const expected = this.#positions.get(tp)
    if (expected !== undefined && offset < expected) return
    this.#positions.set(tp, offset + 1n)
    this.#handedOut.set(tp, owner)
    records.push({
      topic,
      partition,
      offset,
      key: text(read.ptr(m, Message.key) as Handle, Number(read.u64(m, Message.keyLen))),
      value: text(read.ptr(m, Message.payload) as Handle, Number(read.u64(m, Message.len))),
      timestampMs: Number(lib.rd_kafka_message_timestamp(m, null)),
    })
  }

  #rebalance(event: Handle) {
    const lib = this.#lib
    const err = lib.rd_kafka_event_error(event)
    const list = lib.rd_kafka_event_topic_partition_list(event) as Handle | null
    if (err === Err.ASSIGN_PARTITIONS) {
      const assignment = ++this.#assignments
      for (const p of partitionsOf(list)) this.#owned.set(`${p.topic}/${p.partition}`, assignment)
      lib.rd_kafka_assign(this.#rk, list)
    } else {
      this.#owned.clear()
      lib.rd_kafka_assign(this.#rk, null)
    }
  }

  async commit(offsets: readonly PartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return
    const lib = this.#lib
    // The broker takes a commit from any member of the current generation, owner or not: a
    // partition revoked (or revoked and given back) since its records were handed out is refused here.
    const lost = offsets.filter((o) => {
      const tp = `${o.topic}/${o.partition}`
      return this.#owned.get(tp) === undefined || this.#owned.get(tp) !== this.#handedOut.get(tp)
    })
    if (lost.length > 0) {
      this.#positions.clear()
      const which = lost.map((o) => `${o.topic}/${o.partition}`).join(', ')
      throw new AppError('PARTITION_LOST', `commit refused: ${which} reassigned since the batch was read`, true)
    }
    const list = lib.rd_kafka_topic_partition_list_new(offsets.length) as Handle
    const results = lib.rd_kafka_queue_new(this.#rk) as Handle
    try {
      for (const o of offsets) {
        lib.rd_kafka_topic_partition_list_add(list, cstr(o.topic), o.partition)
        lib.rd_kafka_topic_partition_list_set_offset(list, cstr(o.topic), o.partition, o.offset)
      }
      const err = lib.rd_kafka_commit_queue(this.#rk, list, results, null, null)
      const failure = err !== Err.NO_ERROR ? String(lib.rd_kafka_err2str(err)) : await this.#commitResult(results)
      if (failure !== undefined) {
        // The group moved on (rebalance, fenced generation): the new owner re-reads from the last commit.
        this.#positions.clear()
        throw new AppError('PARTITION_LOST', `commit refused: ${failure}`, true)
      }
    } finally {
      lib.rd_kafka_topic_partition_list_destroy(list)
      lib.rd_kafka_queue_destroy(results)
    }
  }

  /** Waits for the commit's result on its own queue; undefined when every offset was stored. */
  async #commitResult(results: Handle): Promise<string | undefined> {
    const lib = this.#lib
    const deadline = Date.now() + COMMIT_TIMEOUT_MS
    for (let idle = 0; ; idle++) {
      const event = lib.rd_kafka_queue_poll(results, 0) as Handle | null
      if (event === null) {
        if (Date.now() > deadline) return `no commit result in ${COMMIT_TIMEOUT_MS} ms`
        await resultSleep(idle)
        continue
      }
      try {
        if (lib.rd_kafka_event_type(event) !== Ev.OFFSET_COMMIT) continue
        const err = lib.rd_kafka_event_error(event)
        if (err !== Err.NO_ERROR) return String(lib.rd_kafka_event_error_string(event))
        const refused = partitionsOf(lib.rd_kafka_event_topic_partition_list(event) as Handle | null).find(
          (p) => p.err !== Err.NO_ERROR,
        )
        return refused ? `${refused.topic}/${refused.partition}: ${lib.rd_kafka_err2str(refused.err)}` : undefined
      } finally {
        lib.rd_kafka_event_destroy(event)
      }
    }
  }

  /** Leaves the group (its partitions go to the others at once), then frees the client. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const lib = this.#lib
    // The consumer queue is about to be forwarded to `closing`: its wake-ups stop first.
    this.#waker.close()
    const closing = lib.rd_kafka_queue_new(this.#rk) as Handle
    const error = lib.rd_kafka_consumer_close_queue(this.#rk, closing) as Handle | null
    if (error !== null) lib.rd_kafka_error_destroy(error)
    else {
      // Rebalance events during the close are answered here, until librdkafka says it is closed;
      // messages fetched before the revoke are dropped (uncommitted, the next owner reads them).
      const dropped: LogRecord[] = []
      const deadline = Date.now() + CLOSE_TIMEOUT_MS
      for (let idle = 0; !lib.rd_kafka_consumer_closed(this.#rk) && Date.now() < deadline; idle++) {
        dropped.length = 0
        this.#serve(dropped, closing)
        await resultSleep(idle)
      }
    }
    lib.rd_kafka_queue_destroy(closing)
    lib.rd_kafka_queue_destroy(this.#queue)
    lib.rd_kafka_destroy(this.#rk)
    this.#onClose()
  }
}
