/**
 * A query worker thread (QueryPool): its own PostgreSQL connections and its own QueryService. The
 * HTTP thread checks a request and hands the question over; the reads and the analytics run here,
 * so a busy pipeline on the HTTP thread and the questions do not wait for each other.
 * Messages in: init, ask, close; out: loaded, ready, answer, failed, closed (SupervisedWorker:
 * `loaded` asks for `init`).
 */
import type { TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Value } from '@sinclair/typebox/value'
import { createPgClient, type Sql } from '../adapters/pg-client.ts'
import { MemoryGuard } from '../runtime/memory-guard.ts'
import { QueryError } from './context.ts'
import { AnswerSchemas, type QueryMethod, QueryService } from './service.ts'

export type ToQueryWorker =
  | { type: 'init'; url: string; name: string; connections: number; memoryTargetMb: number }
  | { type: 'ask'; id: number; method: QueryMethod; args: unknown[] }
  | { type: 'close' }

/** `failed`: a QueryError (`status`, `body`) or anything else (`message`: answered 500 as on the HTTP thread). */
export type FromQueryWorker =
  | { type: 'loaded' }
  | { type: 'ready' }
  | { type: 'answer'; id: number; json: string }
  | { type: 'failed'; id: number; status?: QueryError['status']; body?: QueryError['body']; message: string }
  | { type: 'closed' }

declare const self: Worker
const post = (message: FromQueryWorker) => self.postMessage(message)

let sql: Sql | undefined
let service: QueryService | undefined
let memory: MemoryGuard | undefined

/**
 * What the HTTP thread would do to an answer (its route's schema checks it and drops what the
 * schema does not name, then it is serialized) done here instead: on the embedded default the
 * HTTP thread runs the pipeline's stages, and this took it longer than the analytics took here.
 */
const checkers = new Map<QueryMethod, ReturnType<typeof TypeCompiler.Compile<TSchema>>>()
function serialize(method: QueryMethod, value: unknown): string {
  const schema = AnswerSchemas[method]
  let checker = checkers.get(method)
  if (!checker) {
    checker = TypeCompiler.Compile(schema)
    checkers.set(method, checker)
  }
  const cleaned = Value.Clean(schema, value)
  if (!checker.Check(cleaned)) {
    const first = checker.Errors(cleaned).First()
    throw new Error(`${method} answer does not match its schema at ${first?.path ?? '/'}: ${first?.message ?? ''}`)
  }
  return JSON.stringify(cleaned)
}

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
        post({ type: 'answer', id, json: serialize(method, await call.apply(service, args)) })
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

post({ type: 'loaded' })
