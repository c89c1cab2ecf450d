import { AppError, worthRetrying } from '../errors.ts'
import type { EventLog, LogConsumer } from '../ports/event-log.ts'
import type { Logger } from './logger.ts'
import type { StageObserver } from './metrics.ts'
import type { Health, Service, ServiceState } from './service.ts'
import type { Stage } from './stage.ts'

export type StagePolicy = {
  maxRecords: number
  maxWaitMs: number
  maxBackoffMs?: number
  /** Whether an error says a dependency is unreachable (an outage), not that something is wrong. */
  isTransient?: (error: unknown) => boolean
}

/**
 * Runs a Stage: poll → process → commit, one batch at a time. Stopping drains: the batch in
 * flight is finished and committed before the consumer leaves its group.
 * - Retryable AppErrors and transient errors (the database or the log unreachable) back off,
 *   doubling up to `maxBackoffMs`, and retry the same step: the state shows `retrying` meanwhile
 *   and the runner resumes by itself when the dependency is back.
 * - A commit that fails transiently is skipped: the batch's effects are durable and idempotent,
 *   and the next commit covers its offsets (or its records are delivered again).
 * - Any other error stops the runner as failed (the process exits and a supervisor restarts it;
 *   uncommitted records are delivered again).
 */
export class StageRunner implements Service {
  readonly name: string
  #state: ServiceState = 'starting'
  #consumer: LogConsumer | undefined
  #loop: Promise<void> | undefined
  #batches = 0
  #records = 0
  /** Wall time spent processing and committing batches, ms: where a process's time goes. */
  #busyMs = 0
  #lastBatchAt: string | undefined
  #error: string | undefined
  #stopRequested = false
  #wakeBackoff: (() => void) | undefined

  constructor(
    private readonly stage: Stage,
    private readonly log: EventLog,
    private readonly policy: StagePolicy,
    private readonly logger: Logger,
    private readonly observer?: StageObserver,
  ) {
    this.name = `stage:${stage.name}`
  }

  get done(): Promise<void> {
    return this.#loop ?? Promise.resolve()
  }

  async start(): Promise<void> {
    const { group, inputs } = this.stage
    const maxRecords = this.stage.maxRecords ?? this.policy.maxRecords
    this.#consumer = this.log.consumer({ group, topics: inputs, ...this.policy, maxRecords })
    this.#state = 'running'
    this.#loop = this.#run(this.#consumer)
    this.#loop.catch(() => {}) // observed through `done` and health; avoid an unhandled rejection here
  }

  async stop(): Promise<void> {
    if (this.#stopRequested) return this.#loop?.catch(() => {})
    this.#stopRequested = true
    if (this.#state === 'running' || this.#state === 'retrying') this.#state = 'draining'
    this.#wakeBackoff?.()
    await this.#loop?.catch(() => {})
    // Leaving the group may fail in an outage: the group then lets this member's leases expire.
    await this.#consumer?.close().catch((error: unknown) => {
      this.logger.warn('could not leave the consumer group; its leases will expire', { stage: this.stage.name, error })
    })
    if (this.#state !== 'failed') this.#state = 'stopped'
  }

  health(): Health {
    const detail: Record<string, unknown> = {
      batches: this.#batches,
      records: this.#records,
      busyMs: Math.round(this.#busyMs),
    }
    if (this.#lastBatchAt) detail.lastBatchAt = this.#lastBatchAt
    if (this.#error) detail.error = this.#error
    return { name: this.name, state: this.#state, detail }
  }

  async #run(consumer: LogConsumer): Promise<void> {
    while (!this.#stopRequested) {
      const polled = await this.#withRetry('poll', () => consumer.poll())
      if (polled === undefined) return // stop requested during back-off
      const batch = polled.value
      if (batch.records.length === 0) continue
      const started = performance.now()
      const applied = await this.#withRetry('process', () => this.stage.process(batch))
      if (applied === undefined) return // stop requested during back-off: leave the batch uncommitted
      try {
        await consumer.commit(batch.nextOffsets)
      } catch (error) {
        if (error instanceof AppError && error.code === 'PARTITION_LOST') {
          this.logger.warn('partition moved before commit; its new owner replays the batch', { stage: this.stage.name })
        } else if (this.#transient(error)) {
          this.logger.warn('commit failed; the next commit covers the batch', { stage: this.stage.name, error })
        } else throw this.#fail(error)
      }
      const tookMs = performance.now() - started
      this.#busyMs += tookMs
      this.observer?.batch(this.stage.name, batch.records.length, tookMs / 1000)
      this.#batches++
      this.#records += batch.records.length
      this.#lastBatchAt = new Date().toISOString()
    }
  }

  #transient(error: unknown): boolean {
    return worthRetrying(error, this.policy.isTransient)
  }

  /** Runs `step` until it succeeds, and gives its value; undefined when a stop was requested while backing off. */
  async #withRetry<T>(what: string, step: () => Promise<T>): Promise<{ value: T } | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        const value = await step()
        if (this.#state === 'retrying') {
          this.#state = 'running'
          this.#error = undefined
          this.logger.info('resumed', { stage: this.stage.name, step: what, attempts: attempt })
        }
        return { value }
      } catch (error) {
        if (!this.#transient(error)) throw this.#fail(error)
        this.observer?.error(this.stage.name, 'retry')
        if (this.#stopRequested) return undefined
        if (this.#state === 'running') this.#state = 'retrying'
        this.#error = error instanceof Error ? error.message : String(error)
        const delayMs = Math.min(this.policy.maxBackoffMs ?? 5_000, 50 * 2 ** attempt)
        this.logger.warn(`retrying ${what}`, { stage: this.stage.name, attempt, delayMs, error })
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delayMs)
          this.#wakeBackoff = () => {
            clearTimeout(timer)
            resolve()
          }
        })
        if (this.#stopRequested) return undefined
      }
    }
  }

  #fail(error: unknown): unknown {
    this.observer?.error(this.stage.name, 'fatal')
    this.#state = 'failed'
    this.#error = error instanceof Error ? error.message : String(error)
    this.logger.error('stage failed', { stage: this.stage.name, error })
    return error
  }
}
