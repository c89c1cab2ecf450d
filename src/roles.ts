import type { AnyElysia } from 'elysia'
import { PgWriter } from './adapters/pg-copy.ts'
import { PgInputStore } from './adapters/pg-input-store.ts'
import { PgPositionStore } from './adapters/pg-position-store.ts'
import { PgSeriesStore } from './adapters/pg-series-store.ts'
import { PgValuationStore } from './adapters/pg-valuation-store.ts'
import { type Deps, isTransient } from './compose.ts'
import { adminRoutes } from './http/admin.ts'
import { dashboardRoutes } from './http/dashboard.ts'
import { ingestRoutes } from './http/ingest.ts'
import { queryRoutes } from './http/query.ts'
import { QueryPool } from './query/query-pool.ts'
import { type Role, Roles, type SingleRole } from './role-names.ts'
import type { Metrics } from './runtime/metrics.ts'
import type { Stage } from './runtime/stage.ts'
import { persistStage } from './stages/persist.ts'
import { positionsStage } from './stages/positions.ts'
import { timeseriesStage } from './stages/timeseries.ts'
import { valuationFanoutStage, valuationStage } from './stages/valuation.ts'
import { ValuationPool } from './stages/valuation-pool.ts'

/** What a role contributes to a process. Stages are filled in by the pipeline; until then roles idle. */
export type RolePlan = {
  /** Apply migrations and create topics at start-up (the embedded default does; at scale, `pas migrate`). */
  readonly setupOnStart: boolean
  /** The roles whose stages and routes this process runs. */
  readonly members: readonly SingleRole[]
}

/** PostgreSQL connections of each query worker: a question's reads pipeline on one snapshot's connection. */
const QUERY_WORKER_CONNECTIONS = 4

const single: readonly SingleRole[] = Roles.filter((r): r is SingleRole => r !== 'all')

/** The only place that decides what a role runs. */
export function planFor(role: Role): RolePlan {
  return role === 'all' ? { setupOnStart: true, members: single } : { setupOnStart: false, members: [role] }
}

/** What one role contributes to a process: the stages it runs and the HTTP routes it serves. */
export type RoleParts = {
  stages: readonly Stage[]
  routes: readonly AnyElysia[]
  /** Releases what the role opened for itself, after its stages have drained. */
  close?: () => Promise<void>
}

export function partsFor(role: SingleRole, deps: Deps, metrics?: Metrics): RoleParts {
  const { db, eventLog, config } = deps
  const stepsOf = (stage: string) =>
    metrics ? (step: string, seconds: number) => metrics.sliceStep(stage, step, seconds) : undefined
  switch (role) {
    case 'ingest':
      return {
        stages: [],
        routes: [
          ingestRoutes({
            log: eventLog,
            maxRecordsPerRequest: config.ingestMaxRecords,
            isTransient,
            logger: deps.logger.child({ component: 'ingest' }),
            clientsOf: async (ids) => {
              const rows = await db.sql<{ id: string; client: string | null }[]>`
                select portfolio_id as id, record->>'clientId' as client from portfolios where portfolio_id = any(${ids as string[]})`
              return new Map(rows.map((r) => [r.id, r.client ?? undefined]))
            },
          }),
          adminRoutes(db.sql, eventLog),
        ],
      }
    case 'persist':
      return { stages: [persistStage({ store: new PgInputStore(db.sql), log: eventLog })], routes: [] }
    case 'positions': {
      const store = new PgPositionStore(db.sql, new PgWriter(db.url, `pas-${role}-writer`))
      const stage = positionsStage({
        store,
        log: eventLog,
        deadLetters: new PgInputStore(db.sql),
        steps: stepsOf('positions'),
      })
      return { stages: [stage], routes: [], close: () => store.close() }
    }
    case 'valuation': {
      const store = new PgValuationStore(db.sql, new PgWriter(db.url, `pas-${role}-writer`))
      const deadLetters = new PgInputStore(db.sql)
      const pool =
        config.valuationWorkers > 0
          ? new ValuationPool(config.valuationWorkers, db.url, {
              memoryTargetMb: config.memoryTargetMb,
              onLost: (worker, reason) =>
                deps.logger.error('worker thread lost; its batch is retried on another', { worker, reason }),
              steps: stepsOf('valuation'),
              ...(metrics ? { collected: (seconds: number) => metrics.collected(seconds) } : {}),
            })
          : undefined
      const stages = [
        valuationFanoutStage({ store, log: eventLog }),
        valuationStage({ store, log: eventLog, deadLetters, pool, steps: stepsOf('valuation') }),
      ]
      return {
        stages,
        routes: [],
        close: async () => {
          await pool?.close()
          await store.close()
        },
      }
    }
    case 'timeseries': {
      const store = new PgSeriesStore(db.sql, new PgWriter(db.url, `pas-${role}-writer`))
      const stage = timeseriesStage({
        store,
        deadLetters: new PgInputStore(db.sql),
        ...(metrics ? { freshness: (seconds: number) => metrics.fresh(seconds) } : {}),
        steps: stepsOf('timeseries'),
      })
      return { stages: [stage], routes: [], close: () => store.close() }
    }
    case 'api': {
      const pool =
        config.queryWorkers > 0
          ? new QueryPool(config.queryWorkers, db.url, {
              connections: QUERY_WORKER_CONNECTIONS,
              memoryTargetMb: config.memoryTargetMb,
              onLost: (worker, reason) =>
                deps.logger.error('worker thread lost; its questions in flight failed, another starts', {
                  worker,
                  reason,
                }),
            })
          : undefined
      return {
        stages: [],
        routes: [dashboardRoutes(), queryRoutes(db.sql, pool)],
        close: async () => void (await pool?.close()),
      }
    }
  }
}
