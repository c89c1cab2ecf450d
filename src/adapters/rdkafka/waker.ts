import type { Pointer } from 'bun:ffi'
import { closeSync, constants, openSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RdKafka } from './ffi.ts'

let made = 0

/**
 * Wakes the JavaScript thread when librdkafka puts an event on an empty queue, without a callback:
 * librdkafka writes a byte to the write end of a pipe (rd_kafka_queue_io_event_enable), and Bun
 * reads the other end on its event loop. The pipe is a FIFO made and unlinked at once, so nothing
 * stays on disk. The caller drains the queue before it waits: only an empty queue writes.
 */
export class QueueWaker {
  readonly #lib: RdKafka
  readonly #queue: Pointer
  readonly #readFd: number
  readonly #writeFd: number
  /** The next read of the pipe, and how to stop reading it. */
  readonly #next: () => Promise<unknown>
  readonly #cancel: () => Promise<void>
  #read: Promise<void> | undefined
  #closed = false

  constructor(lib: RdKafka, queue: Pointer) {
    this.#lib = lib
    this.#queue = queue
    const path = join(tmpdir(), `pas-rdkafka-${process.pid}-${++made}-${Date.now().toString(36)}`)
    const fifo = Bun.spawnSync(['mkfifo', '-m', '600', path])
    if (fifo.exitCode !== 0) throw new Error(`mkfifo ${path}: ${fifo.stderr.toString().trim()}`)
    try {
      this.#readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
      this.#writeFd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK)
    } finally {
      unlinkSync(path)
    }
    const reader = Bun.file(this.#readFd).stream().getReader()
    this.#next = () => reader.read()
    this.#cancel = () => reader.cancel()
    lib.rd_kafka_queue_io_event_enable(queue, this.#writeFd, new Uint8Array([1]), 1)
  }

  /** Resolves when an event arrived on the (drained) queue, or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve()
    this.#read ??= this.#next().then(
      () => {
        this.#read = undefined
      },
      () => {
        this.#read = undefined
      },
    )
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, ms))
    })
    return Promise.race([this.#read, timeout]).finally(() => clearTimeout(timer))
  }

  /** Stops the writes and closes both ends. */
  close() {
    if (this.#closed) return
    this.#closed = true
    this.#lib.rd_kafka_queue_io_event_enable(this.#queue, -1, null, 0)
    void this.#cancel().catch(() => {})
    for (const fd of [this.#writeFd, this.#readFd]) {
      try {
        closeSync(fd)
      } catch {
        // already closed with its stream
      }
    }
  }
}
