/**
 * librdkafka's C API through bun:ffi: the functions the rdkafka EventLog adapter calls, and the
 * layouts of the structs it reads (x86-64 and arm64 Linux, LP64). The library is Debian's
 * `librdkafka1` (2.0.2 on bookworm) or any librdkafka ≥ 2.0 named by --rdkafka-library.
 *
 * No function pointers are given to librdkafka: nothing it runs on its own threads calls into
 * JavaScript. Delivery reports, fetched messages, rebalances, commit results and errors are
 * events on queues that the JavaScript thread polls with a zero timeout; a queue that was empty
 * wakes it by writing a byte to a pipe (waker.ts).
 */
import { dlopen, FFIType, type Pointer, read, toArrayBuffer } from 'bun:ffi'

const { ptr, i32, i64, u64, cstring, void: none } = FFIType

const symbols = {
  rd_kafka_version_str: { args: [], returns: cstring },
  rd_kafka_err2str: { args: [i32], returns: cstring },
  rd_kafka_conf_new: { args: [], returns: ptr },
  rd_kafka_conf_destroy: { args: [ptr], returns: none },
  rd_kafka_conf_set: { args: [ptr, ptr, ptr, ptr, u64], returns: i32 },
  rd_kafka_conf_set_events: { args: [ptr, i32], returns: none },
  rd_kafka_new: { args: [i32, ptr, ptr, u64], returns: ptr },
  rd_kafka_destroy: { args: [ptr], returns: none },
  rd_kafka_topic_new: { args: [ptr, ptr, ptr], returns: ptr },
  rd_kafka_topic_destroy: { args: [ptr], returns: none },
  rd_kafka_topic_name: { args: [ptr], returns: ptr },
  rd_kafka_produce_batch: { args: [ptr, i32, i32, ptr, i32], returns: i32 },
  rd_kafka_outq_len: { args: [ptr], returns: i32 },
  rd_kafka_queue_get_main: { args: [ptr], returns: ptr },
  rd_kafka_queue_get_consumer: { args: [ptr], returns: ptr },
  rd_kafka_queue_new: { args: [ptr], returns: ptr },
  rd_kafka_queue_destroy: { args: [ptr], returns: none },
  rd_kafka_queue_poll: { args: [ptr, i32], returns: ptr },
  rd_kafka_queue_io_event_enable: { args: [ptr, i32, ptr, u64], returns: none },
  rd_kafka_event_type: { args: [ptr], returns: i32 },
  rd_kafka_event_destroy: { args: [ptr], returns: none },
  rd_kafka_event_log: { args: [ptr, ptr, ptr, ptr], returns: i32 },
  rd_kafka_set_log_queue: { args: [ptr, ptr], returns: i32 },
  rd_kafka_event_message_next: { args: [ptr], returns: ptr },
  rd_kafka_event_error: { args: [ptr], returns: i32 },
  rd_kafka_event_error_string: { args: [ptr], returns: cstring },
  rd_kafka_event_error_is_fatal: { args: [ptr], returns: i32 },
  rd_kafka_event_topic_partition_list: { args: [ptr], returns: ptr },
  rd_kafka_message_timestamp: { args: [ptr, ptr], returns: i64 },
  rd_kafka_poll_set_consumer: { args: [ptr], returns: i32 },
  rd_kafka_subscribe: { args: [ptr, ptr], returns: i32 },
  rd_kafka_assign: { args: [ptr, ptr], returns: i32 },
  rd_kafka_incremental_assign: { args: [ptr, ptr], returns: ptr },
  rd_kafka_incremental_unassign: { args: [ptr, ptr], returns: ptr },
  rd_kafka_rebalance_protocol: { args: [ptr], returns: cstring },
  rd_kafka_error_destroy: { args: [ptr], returns: none },
  rd_kafka_error_string: { args: [ptr], returns: cstring },
  rd_kafka_commit_queue: { args: [ptr, ptr, ptr, ptr, ptr], returns: i32 },
  rd_kafka_consumer_close_queue: { args: [ptr, ptr], returns: ptr },
  rd_kafka_consumer_closed: { args: [ptr], returns: i32 },
  rd_kafka_topic_partition_list_new: { args: [i32], returns: ptr },
  rd_kafka_topic_partition_list_add: { args: [ptr, ptr, i32], returns: ptr },
  rd_kafka_topic_partition_list_set_offset: { args: [ptr, ptr, i32, i64], returns: i32 },
  rd_kafka_topic_partition_list_destroy: { args: [ptr], returns: none },
} as const

export type RdKafka = ReturnType<typeof dlopen<typeof symbols>>['symbols']

let loaded: { lib: RdKafka; version: string } | undefined

/** The library, loaded once per process (the first path asked for wins); throws with the reason when it cannot be. */
export function rdkafka(path = process.env.PAS_RDKAFKA_LIBRARY ?? 'librdkafka.so.1'): {
  lib: RdKafka
  version: string
} {
  if (!loaded) {
    const lib = dlopen(path, symbols).symbols
    loaded = { lib, version: String(lib.rd_kafka_version_str()) }
  }
  return loaded
}

/** Whether the library loads here (tests skip without it outside CI). */
export function rdkafkaAvailable(path?: string): boolean {
  try {
    rdkafka(path)
    return true
  } catch {
    return false
  }
}

/** Event types (rdkafka.h RD_KAFKA_EVENT_*). */
export const Ev = { DR: 0x1, FETCH: 0x2, LOG: 0x4, ERROR: 0x8, REBALANCE: 0x10, OFFSET_COMMIT: 0x20 } as const
/** Error codes this adapter acts on (rdkafka.h rd_kafka_resp_err_t). */
export const Err = {
  NO_ERROR: 0,
  ASSIGN_PARTITIONS: -175,
  REVOKE_PARTITIONS: -174,
  PARTITION_EOF: -191,
  QUEUE_FULL: -184,
  UNKNOWN_TOPIC: -188,
  NO_OFFSET: -168,
  ALL_BROKERS_DOWN: -187,
} as const
export const PRODUCER = 0
export const CONSUMER = 1
export const MSG_F_COPY = 0x2
export const MSG_F_PARTITION = 0x8

/** rd_kafka_message_t (LP64): err i32 @0, rkt @8, partition i32 @16, payload @24, len @32, key @40, key_len @48, offset i64 @56, _private @64. */
export const Message = {
  size: 72,
  err: 0,
  rkt: 8,
  partition: 16,
  payload: 24,
  len: 32,
  key: 40,
  keyLen: 48,
  offset: 56,
  opaque: 64,
} as const
/** rd_kafka_topic_partition_t (LP64): topic @0, partition i32 @8, offset i64 @16, …, err i32 @48; 64 bytes. */
export const TopicPartition = { size: 64, topic: 0, partition: 8, offset: 16, err: 48 } as const
/** rd_kafka_topic_partition_list_t: cnt i32 @0, size i32 @4, elems @8. */
export const TopicPartitionList = { cnt: 0, elems: 8 } as const

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** A NUL-terminated UTF-8 copy of `text`, for a `const char *` argument. */
export const cstr = (text: string): Uint8Array => encoder.encode(`${text}\0`)

/** `len` bytes at `at` as a string: the one copy out of librdkafka's memory. */
export function text(at: Pointer | null, len: number): string {
  if (at === null || len === 0) return ''
  return decoder.decode(new Uint8Array(toArrayBuffer(at, 0, len)))
}

/** A NUL-terminated C string at `at`. */
export function cstringAt(at: Pointer | null): string {
  if (at === null) return ''
  let len = 0
  while (read.u8(at, len) !== 0) len++
  return text(at, len)
}

/** The entries of a rd_kafka_topic_partition_list_t. */
export function partitionsOf(
  list: Pointer | null,
): { topic: string; partition: number; offset: bigint; err: number }[] {
  if (list === null) return []
  const count = read.i32(list, TopicPartitionList.cnt)
  const elems = read.ptr(list, TopicPartitionList.elems) as Pointer
  const out = []
  for (let i = 0; i < count; i++) {
    const at = i * TopicPartition.size
    out.push({
      topic: cstringAt(read.ptr(elems, at + TopicPartition.topic) as Pointer),
      partition: read.i32(elems, at + TopicPartition.partition),
      offset: read.i64(elems, at + TopicPartition.offset),
      err: read.i32(elems, at + TopicPartition.err),
    })
  }
  return out
}

/** librdkafka's own log line from a LOG event: syslog level (0 emergency … 7 debug), facility, text. */
export function logLine(
  lib: RdKafka,
  event: Pointer,
): { level: number; facility: string; message: string } | undefined {
  const facility = new BigUint64Array(1)
  const message = new BigUint64Array(1)
  const level = new Int32Array(1)
  if (lib.rd_kafka_event_log(event, facility, message, level) !== 0) return undefined
  return {
    level: level[0] ?? 7,
    facility: cstringAt(Number(facility[0]) as Pointer),
    message: cstringAt(Number(message[0]) as Pointer),
  }
}
