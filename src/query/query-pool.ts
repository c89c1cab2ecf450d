import { SupervisedWorker, workerEntry } from '../runtime/workers.ts'
import { QueryError } from './context.ts'
import type { FromQueryWorker, ToQueryWorker } from './query-worker.ts'
import { JsonAnswer, type QueryMethod, type QueryService, type Questions } from './service.ts'

const WORKER_URL = workerEntry('query-worker.ts', import.meta.url)

type Pending = { resolve: (value: unknown) => void; reject: (error: unknown) => void }

/**
 * QUESTIONS ON WORKER THREADS. The API's analytics (review, performance, risk, …) read and compute
 * on `size` Bun workers, each with its own connections and QueryService, so that on the embedded
 * default (every role in one process) a review waits neither for the pipeline's batches nor they
 * for it; the two cores each get one. A question goes to the worker with the fewest in flight.
 * Answers come back checked and serialized (JsonAnswer), QueryErrors as they were; any other
 * failure as an Error with its message (answered 500, as on the HTTP thread).
 */
export class QueryPool implements Questions {
  readonly #workers: { worker: SupervisedWorker<ToQueryWorker, FromQueryWorker>; inFlight: number }[] = []
  readonly #pending = new Map<number, Pending & { worker: number }>()
  #nextId = 0
  #closing: Promise<unknown> | undefined

  /** `onLost`: told when a worker thread is lost (SupervisedWorker), and why; its questions in flight fail. */
  constructor(
    size: number,
    url: string,
    options: {
      connections: number
      memoryTargetMb: number
      name?: string
      onLost?: (worker: string, reason: string) => void
    },
  ) {
    for (let i = 0; i < size; i++) {
      const init: ToQueryWorker = {
        type: 'init',
        url,
        name: `${options.name ?? 'pas-query-worker'}-${i}`,
        connections: options.connections,
        memoryTargetMb: options.memoryTargetMb,
      }
      const worker = new SupervisedWorker<ToQueryWorker, FromQueryWorker>(WORKER_URL, init, {
        message: (message) => this.#receive(message),
        lost: (reason) => {
          options.onLost?.(init.name, reason)
          for (const [id, p] of this.#pending) {
            if (p.worker !== i) continue
            this.#pending.delete(id)
            p.reject(new Error(`query worker ${reason}`))
          }
        },
      })
      this.#workers.push({ worker, inFlight: 0 })
    }
  }

  readonly performance = (...args: Parameters<QueryService['performance']>) => this.#ask('performance', args)
  readonly mwr = (...args: Parameters<QueryService['mwr']>) => this.#ask('mwr', args)
  readonly contribution = (...args: Parameters<QueryService['contribution']>) => this.#ask('contribution', args)
  readonly attribution = (...args: Parameters<QueryService['attribution']>) => this.#ask('attribution', args)
  readonly risk = (...args: Parameters<QueryService['risk']>) => this.#ask('risk', args)
  readonly concentration = (...args: Parameters<QueryService['concentration']>) => this.#ask('concentration', args)
  readonly review = (...args: Parameters<QueryService['review']>) => this.#ask('review', args)
  readonly summary = (...args: Parameters<QueryService['summary']>) => this.#ask('summary', args)
  readonly positionAnalytics = (...args: Parameters<QueryService['positionAnalytics']>) =>
    this.#ask('positionAnalytics', args)
  readonly positions = (...args: Parameters<QueryService['positions']>) => this.#ask('positions', args)
  readonly lineage = (...args: Parameters<QueryService['lineage']>) => this.#ask('lineage', args)
  readonly support = (...args: Parameters<QueryService['support']>) => this.#ask('support', args)

  async #ask<M extends QueryMethod>(method: M, args: unknown[]): Promise<JsonAnswer> {
    await Promise.all(this.#workers.map((w) => w.worker.ready()))
    let index = 0
    for (let i = 1; i < this.#workers.length; i++) {
      if ((this.#workers[i]?.inFlight ?? 0) < (this.#workers[index]?.inFlight ?? 0)) index = i
    }
    const slot = this.#workers[index]
    if (!slot) throw new Error('the query pool has no workers')
    const id = this.#nextId++
    slot.inFlight++
    try {
      return (await new Promise<unknown>((resolve, reject) => {
        this.#pending.set(id, { resolve, reject, worker: index })
        // JSON-shaped arguments: `undefined` fields are dropped by the copy, as the service ignores them.
        slot.worker.post({ type: 'ask', id, method, args } satisfies ToQueryWorker)
      })) as JsonAnswer
    } finally {
      slot.inFlight--
      this.#pending.delete(id)
    }
  }

  #receive(message: FromQueryWorker): void {
    switch (message.type) {
      case 'loaded':
      case 'ready':
      case 'closed':
        return
      case 'answer':
        this.#pending.get(message.id)?.resolve(new JsonAnswer(message.json))
        return
      case 'failed': {
        const pending = this.#pending.get(message.id)
        if (!pending) return
        if (message.status !== undefined && message.body !== undefined) {
          pending.reject(new QueryError(message.status, message.body))
        } else pending.reject(new Error(`query worker: ${message.message}`))
        return
      }
    }
  }

  /** Closes each worker's connections, then the workers. */
  close(): Promise<unknown> {
    this.#closing ??= Promise.all(this.#workers.map((w) => w.worker.close()))
    return this.#closing
  }
}
