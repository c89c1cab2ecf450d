import { expect } from 'bun:test'
import { KafkaLog } from '../adapters/kafka-log.ts'
import { namespaced } from '../adapters/namespaced-log.ts'
import { PgWriter } from '../adapters/pg-copy.ts'
import { PgInputStore } from '../adapters/pg-input-store.ts'
import { PgLog } from '../adapters/pg-log.ts'
import { PgPositionStore } from '../adapters/pg-position-store.ts'
import { PgSeriesStore } from '../adapters/pg-series-store.ts'
import { PgValuationStore } from '../adapters/pg-valuation-store.ts'
import { ingestRoutes } from '../http/ingest.ts'
import type { EventLog } from '../ports/event-log.ts'
import { createLogger } from '../runtime/logger.ts'
import { StageRunner } from '../runtime/run-stage.ts'
import type { Stage } from '../runtime/stage.ts'
import { persistStage } from '../stages/persist.ts'
import { positionsStage } from '../stages/positions.ts'
import { timeseriesStage } from '../stages/timeseries.ts'
import { valuationFanoutStage, valuationStage } from '../stages/valuation.ts'
import { topicSpecs } from '../topology.ts'
import { freshDatabase, testKafkaBrokers } from './infra.ts'
import { dropKafkaTopics, type ScratchDatabase } from './local-infra.ts'

export type Transport = 'pg' | 'kafka'

/** An id for one test run, to make its records' ids unique (see startPipeline). */
export const runId = (transport: Transport) =>
  `${transport}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
export type PipelineParts = { db: ScratchDatabase; log: EventLog; writer: () => PgWriter }

/**
 * Real stages over a real log and a fresh database, for integration tests: `send` posts through
 * the ingest API (expecting 202); `stop` drains the stages and releases everything, the run's
 * topics included. Each run has its own database and, on Kafka, its own topics and groups (named
 * `<run>.`…), so runs and suites share nothing, in any order, on a broker kept between runs.
 */
export async function startPipeline(
  transport: Transport,
  build: (parts: PipelineParts) => Stage[],
  run = runId(transport),
  /** Kafka brokers of the caller's own (a suite that must not leave its records in the shared broker). */
  brokers?: readonly string[],
) {
  const db = await freshDatabase(`${transport}_pipeline`)
  // On Kafka, topics and groups of this run only (a prefix): nothing from another run or suite.
  const kafkaBrokers = transport === 'kafka' ? [...(brokers ?? (await testKafkaBrokers()))] : []
  const prefix = `${run}.`
  const log: EventLog =
    transport === 'pg'
      ? new PgLog(db.sql, { heartbeatMs: 100 })
      : namespaced(new KafkaLog({ brokers: kafkaBrokers, clientId: `pipeline-${run}` }), prefix)
  await log.ensureTopics(topicSpecs(2))
  const writers: PgWriter[] = []
  const writer = () => {
    const w = new PgWriter(db.url, 'pas-test-writer')
    writers.push(w)
    return w
  }
  const logger = createLogger('error') // a failing stage says why on stderr
  const runners = build({ db, log, writer }).map(
    (s) => new StageRunner({ ...s, group: `${s.name}-${run}` }, log, { maxRecords: 500, maxWaitMs: 100 }, logger),
  )
  for (const r of runners) await r.start()
  const ingest = ingestRoutes({ log, maxRecordsPerRequest: 1000 })

  return {
    run,
    db,
    log,
    /** Records the named stage has processed so far (its runner's count). */
    processed: (stage: string) =>
      Number(runners.find((r) => r.name === `stage:${stage}`)?.health().detail?.records ?? 0),
    /** The stages that failed so far (also while stopping), with their error: a healthy pipeline has none. */
    failed: () =>
      runners
        .map((r) => r.health())
        .filter((h) => h.state === 'failed')
        .map((h) => `${h.name}: ${h.detail?.error}`),
    async send(path: string, records: unknown[], headers: Record<string, string> = {}) {
      const res = await ingest.handle(
        new Request(`http://localhost/v1/ingest/${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(records),
        }),
      )
      expect(res.status).toBe(202)
    },
    async stop() {
      for (const r of runners) await r.stop()
      for (const w of writers) await w.close()
      await log.close()
      if (kafkaBrokers.length > 0) await dropKafkaTopics(kafkaBrokers, prefix).catch(() => {})
      await db.drop()
    },
  }
}

/** Every stage of the pipeline, from persist to the series, on the parts startPipeline gives. */
export function everyStage({ db, log, writer }: PipelineParts, freshness?: (seconds: number) => void): Stage[] {
  const valuations = new PgValuationStore(db.sql, writer())
  const inputs = new PgInputStore(db.sql)
  return [
    persistStage({ store: inputs, log }),
    positionsStage({ store: new PgPositionStore(db.sql, writer()), log, deadLetters: inputs }),
    valuationFanoutStage({ store: valuations, log }),
    valuationStage({ store: valuations, log, deadLetters: inputs }),
    timeseriesStage({
      store: new PgSeriesStore(db.sql, writer()),
      deadLetters: inputs,
      ...(freshness ? { freshness } : {}),
    }),
  ]
}

/** Polls `probe` until it equals `expected` (deep), else fails showing the difference. */
export async function settles<T>(probe: () => Promise<T>, expected: T, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (Bun.deepEquals(await probe(), expected)) return
    await Bun.sleep(100)
  }
  expect(await probe()).toEqual(expected as Awaited<T>)
}

/** Polls `probe` until it returns something other than undefined, and returns that. */
export async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(50)
  }
}

/**
 * Month → row version (PostgreSQL's xmin) of a portfolio's rows in a table stored by month
 * (sql/0024_day_months.sql): a row rewritten gets a new version, one left alone keeps its own.
 * With `rewritten`, a test sees which months a change touched.
 */
export async function rowVersions(
  sql: ScratchDatabase['sql'],
  table: 'portfolio_value_months' | 'portfolio_series_months',
  portfolioId: string,
): Promise<Map<string, string>> {
  const rows = await sql<{ m: string; x: string }[]>`
    select month::text as m, xmin::text as x from ${sql(table)} where portfolio_id = ${portfolioId} order by month`
  return new Map(rows.map((r) => [r.m, r.x]))
}

/** The months whose row version changed between two `rowVersions` (both must hold the same months). */
export function rewritten(before: Map<string, string>, after: Map<string, string>): string[] {
  expect([...after.keys()]).toEqual([...before.keys()])
  return [...before].filter(([month, version]) => after.get(month) !== version).map(([month]) => month)
}
