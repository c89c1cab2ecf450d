/**
 * A valuation worker thread (ValuationPool): its own PostgreSQL connections, the valuation stage's
 * own `valueJobs` on the jobs it is given. It loads, values and writes; the stage's thread keeps
 * the log (notices, offsets). Messages in: init, value, close; out: loaded, ready, written, step,
 * collected (its memory guard's collections), done, failed, closed (SupervisedWorker: `loaded`
 * asks for `init`).
 */
import { createPgClient, type Sql } from '../adapters/pg-client.ts'
import { PgWriter } from '../adapters/pg-copy.ts'
import { isPgTransient } from '../adapters/pg-errors.ts'
import { PgInputStore } from '../adapters/pg-input-store.ts'
import { PgValuationStore } from '../adapters/pg-valuation-store.ts'
import type { ValuationJob } from '../domain/records.ts'
import { AppError } from '../errors.ts'
import type { Batch } from '../ports/event-log.ts'
import { MemoryGuard } from '../runtime/memory-guard.ts'
import type { SliceStep } from './notices.ts'
import { valueJobs } from './valuation.ts'

export type ToWorker =
  | { type: 'init'; url: string; name: string; memoryTargetMb: number }
  | { type: 'value'; id: number; jobs: ValuationJob[]; records: Omit<Batch['records'][number], 'value'>[] }
  | { type: 'close' }

export type FromWorker =
  | { type: 'loaded' }
  | { type: 'ready' }
  | { type: 'written'; id: number; jobs: ValuationJob[] }
  | { type: 'done'; id: number }
  | { type: 'step'; step: SliceStep; seconds: number }
  | { type: 'collected'; seconds: number }
  | { type: 'failed'; id: number; message: string; code: string | undefined; retryable: boolean }
  | { type: 'closed' }

declare const self: Worker
const post = (message: FromWorker) => self.postMessage(message)

let sql: Sql | undefined
let store: PgValuationStore | undefined
let deadLetters: PgInputStore | undefined
let memory: MemoryGuard | undefined

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data
  switch (message.type) {
    case 'init': {
      sql = createPgClient({ url: message.url, max: 4, applicationName: message.name })
      store = new PgValuationStore(sql, new PgWriter(message.url, `${message.name}-writer`))
      deadLetters = new PgInputStore(sql)
      // This thread's heap is its own: its garbage is collected here, against the process's memory.
      memory = new MemoryGuard({
        targetBytes: message.memoryTargetMb * 1024 * 1024,
        onCollect: (seconds) => post({ type: 'collected', seconds }),
      }).start()
      post({ type: 'ready' })
      return
    }
    case 'value': {
      const { id, jobs, records } = message
      try {
        if (!store || !deadLetters) throw new Error('valuation worker used before init')
        // Parking reads only where a record came from, not its value.
        const batch: Batch = { records: records.map((r) => ({ ...r, value: '' })), nextOffsets: [] }
        await valueJobs(
          store,
          deadLetters,
          jobs,
          batch,
          async (written) => post({ type: 'written', id, jobs: written }),
          (step, seconds) => post({ type: 'step', step, seconds }),
        )
        post({ type: 'done', id })
      } catch (error) {
        const app = error instanceof AppError ? error : undefined
        post({
          type: 'failed',
          id,
          message: (error as Error)?.message ?? String(error),
          code: app?.code,
          // An outage of PostgreSQL is retried by the stage's runner, as on its own thread.
          retryable: app?.retryable === true || isPgTransient(error),
        })
      }
      return
    }
    case 'close': {
      memory?.stop()
      await store?.close()
      await sql?.end({ timeout: 5 })
      post({ type: 'closed' })
      return
    }
  }
}

post({ type: 'loaded' })
