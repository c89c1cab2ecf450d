/**
 * A query worker thread (QueryPool): its own PostgreSQL connections and its own QueryService. The
 * HTTP thread checks a request and hands the question over; the reads and the analytics run here,
 * so a busy pipeline on the HTTP thread and the questions do not wait for each other.
 * Messages in: init, ask, close; out: ready, answer, closed.
 */
import { createPgClient, type Sql } from '../adapters/pg-client.ts'
import { MemoryGuard } from '../runtime/memory-guard.ts'
import { QueryError } from './context.ts'
import { type QueryMethod, QueryService } from './service.ts'

export type ToQueryWorker =
  | { type: 'init'; url: string; name: string; connections: number; memoryTargetMb: number }
  | { type: 'ask'; id: number; method: QueryMethod; args: unknown[] }
  | { type: 'close' }

/** `failed`: a QueryError (`status`, `body`) or anything else (`message`: answered 500 as on the HTTP thread). */
export type FromQueryWorker =
  | { type: 'ready' }
  | { type: 'answer'; id: number; value: unknown }
  | { type: 'failed'; id: number; status?: QueryError['status']; body?: QueryError['body']; message: string }
  | { type: 'closed' }

declare const self: Worker
const post = (message: FromQueryWorker) => self.postMessage(message)

let sql: Sql | undefined
let service: QueryService | undefined
let memory: MemoryGuard | undefined

self.onmessage = async (event: MessageEvent<ToQueryWorker>) => {
  const message = event.data
  switch (message.type) {
    case 'init': {
      sql = createPgClient({ url: message.url, max: message.connections, applicationName: message.name })
      service = new QueryService(sql)
      memory = new MemoryGuard({ targetBytes: message.memoryTargetMb * 1024 * 1024 }).start()
      post({ type: 'ready' })
      return
    }
    case 'ask': {
      const { id, method, args } = message
      try {
        if (!service) throw new Error('query worker used before init')
        const call = service[method] as (...a: unknown[]) => Promise<unknown>
        post({ type: 'answer', id, value: await call.apply(service, args) })
      } catch (error) {
        if (error instanceof QueryError)
          post({ type: 'failed', id, status: error.status, body: error.body, message: error.message })
        else post({ type: 'failed', id, message: (error as Error)?.message ?? String(error) })
      }
      return
    }
    case 'close': {
      memory?.stop()
      await sql?.end({ timeout: 5 })
      post({ type: 'closed' })
      return
    }
  }
}
