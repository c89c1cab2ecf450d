import type { ValuationJob } from '../domain/records.ts'
import { AppError, type ErrorCode, ErrorCodes } from '../errors.ts'
import type { Batch } from '../ports/event-log.ts'
import { partitionFor } from '../runtime/partitioner.ts'
import { SupervisedWorker, workerEntry } from '../runtime/workers.ts'
import type { StepTimer } from './notices.ts'
import type { JobValuer } from './valuation.ts'
import type { FromWorker, ToWorker } from './valuation-worker.ts'

const WORKER_URL = workerEntry('valuation-worker.ts', import.meta.url)

type Pending = {
  /** The worker it was given to. */
  worker: number
  written: (jobs: ValuationJob[]) => Promise<void>
  /** Notices of the slices written so far, appended in order. */
  chain: Promise<void>
  resolve: () => void
  reject: (error: unknown) => void
}

/**
 * VALUATION ON WORKER THREADS. A batch's portfolio jobs are split by portfolio (the log's own
 * partitioner, so a portfolio always goes to the same worker) across `size` Bun workers, each
 * with its own PostgreSQL connections, running the stage's `valueJobs`. The stage's thread
 * appends each slice's notices as the workers report them written, and commits the batch only
 * when every worker is done. A worker's failure fails the batch as it would on the stage's
 * thread (retryable when PostgreSQL was unreachable); the batch is then valued again, which
 * replaces the same rows. A worker thread that is lost (SupervisedWorker) fails its work in flight
 * as retryable WORKER_LOST, and another takes its place.
 */
export class ValuationPool implements JobValuer {
  readonly #workers: SupervisedWorker<ToWorker, FromWorker>[] = []
  readonly #pending = new Map<number, Pending>()
  #closing: Promise<unknown> | undefined
  #nextId = 0
  readonly #steps: StepTimer | undefined
  readonly #collected: ((seconds: number) => void) | undefined

  /**
   * `memoryTargetMb`: each worker's memory guard (PAS_MEMORY_TARGET_MB); 0 leaves collection to
   * the runtime. `onLost`: told when a worker thread is lost, and why. `steps`: told the steps of
   * each slice a worker values (SliceStep). `collected`: told the length of each full collection a
   * worker's memory guard runs (it stops that worker's valuing meanwhile).
   */
  constructor(
    size: number,
    url: string,
    options: {
      memoryTargetMb?: number
      name?: string
      onLost?: (worker: string, reason: string) => void
      steps?: StepTimer
      collected?: (seconds: number) => void
    } = {},
  ) {
    const { memoryTargetMb = 0, name = 'pas-valuation-worker', onLost = () => {} } = options
    this.#steps = options.steps
    this.#collected = options.collected
    for (let i = 0; i < size; i++) {
      const init: ToWorker = { type: 'init', url, name: `${name}-${i}`, memoryTargetMb }
      this.#workers.push(
        new SupervisedWorker<ToWorker, FromWorker>(WORKER_URL, init, {
          message: (message) => this.#receive(message),
          lost: (reason) => {
            onLost(init.name, reason)
            for (const p of this.#pending.values())
              if (p.worker === i) p.reject(new AppError('WORKER_LOST', `valuation worker ${reason}`, true))
          },
        }),
      )
    }
  }

  async value(
    jobs: readonly ValuationJob[],
    batch: Batch,
    written: (jobs: ValuationJob[]) => Promise<void>,
  ): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.ready())).catch((error: Error) => {
      throw new AppError('WORKER_LOST', `valuation ${error.message}`, true)
    })
    const shares = this.#workers.map(() => [] as ValuationJob[])
    for (const job of jobs) shares[partitionFor(job.portfolioId, shares.length)]?.push(job)
    const records = batch.records.map(({ value: _, ...r }) => r)
    await Promise.all(
      shares.map((share, i) => {
        if (share.length === 0) return Promise.resolve()
        const id = this.#nextId++
        return new Promise<void>((resolve, reject) => {
          this.#pending.set(id, { worker: i, written, chain: Promise.resolve(), resolve, reject })
          this.#workers[i]?.post({ type: 'value', id, jobs: share, records } satisfies ToWorker)
        }).finally(() => this.#pending.delete(id))
      }),
    )
  }

  #receive(message: FromWorker): void {
    if (message.type === 'step') {
      this.#steps?.(message.step, message.seconds)
      return
    }
    if (message.type === 'collected') {
      this.#collected?.(message.seconds)
      return
    }
    if (message.type === 'closed' || message.type === 'loaded' || message.type === 'ready') return
    const pending = this.#pending.get(message.id)
    if (!pending) return
    switch (message.type) {
      case 'written': {
        pending.chain = pending.chain.then(() => pending.written(message.jobs))
        pending.chain.catch(pending.reject)
        return
      }
      case 'done': {
        pending.chain.then(pending.resolve, pending.reject)
        return
      }
      case 'failed': {
        const code: ErrorCode = ErrorCodes.find((c) => c === message.code) ?? 'STORE_UNAVAILABLE'
        pending.reject(new AppError(code, `valuation worker: ${message.message}`, message.retryable))
        return
      }
    }
  }

  /** Closes each worker's connections, then the workers. */
  close(): Promise<unknown> {
    this.#closing ??= Promise.all(this.#workers.map((w) => w.close()))
    return this.#closing
  }
}
