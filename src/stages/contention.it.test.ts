import { describe, expect, test } from 'bun:test'
import type { Sql } from '../adapters/pg-client.ts'
import { PgInputStore } from '../adapters/pg-input-store.ts'
import { PgPositionStore } from '../adapters/pg-position-store.ts'
import { PgSeriesStore } from '../adapters/pg-series-store.ts'
import { PgValuationStore } from '../adapters/pg-valuation-store.ts'
import type { Stage } from '../runtime/stage.ts'
import { kafkaTestsEnabled } from '../testing/infra.ts'
import { everyStage, type PipelineParts, runId, startPipeline, type Transport } from '../testing/pipeline.ts'
import { book, dailyCloses, expectedPositions, storedPositions } from '../testing/workload.ts'
import { persistStage } from './persist.ts'
import { positionsStage } from './positions.ts'
import { timeseriesStage } from './timeseries.ts'
import { valuationFanoutStage, valuationStage } from './valuation.ts'

/**
 * Two writers for the same portfolios at once: every positions, valuation and timeseries notice is
 * processed by two instances of its stage (two consumer groups, each with its own store and writer
 * connection), so both replace the same portfolio's rows concurrently, batch after batch. This is
 * what a partition that moves while its old owner is still in a batch produces, only on every
 * batch. The final tables must equal a run with one writer per stage, and nothing may stall or fail.
 */
function doubled({ db, log, writer }: PipelineParts): Stage[] {
  const inputs = new PgInputStore(db.sql)
  const twice = <S extends Stage>(make: () => S) => [make(), { ...make(), name: `${make().name}-twin` }]
  return [
    persistStage({ store: inputs, log }),
    ...twice(() => positionsStage({ store: new PgPositionStore(db.sql, writer()), log, deadLetters: inputs })),
    valuationFanoutStage({ store: new PgValuationStore(db.sql, writer()), log }),
    ...twice(() => valuationStage({ store: new PgValuationStore(db.sql, writer()), log, deadLetters: inputs })),
    ...twice(() => timeseriesStage({ store: new PgSeriesStore(db.sql, writer()), deadLetters: inputs })),
  ]
}

/** Everything the three stages wrote for this run's portfolios, and the lineage's coverage, as comparable text. */
async function derived(sql: Sql, prefix: string) {
  const like = `${prefix}%`
  const rows = (q: Promise<readonly Record<string, unknown>[]>) =>
    q.then((r) => r.map((x) => Object.values(x).join('|')))
  return {
    history: await rows(sql`select portfolio_id, position_id, date::text, seq, quantity::text, cost_base::text,
      realized_base::text from position_history where portfolio_id like ${like} order by 1, 2, 3, 4`),
    portfolioValues: await rows(sql`select portfolio_id, date::text, emv_base::text, positions, complete
      from portfolio_values where portfolio_id like ${like} order by 1, 2`),
    portfolioSeries: await rows(sql`select portfolio_id, date::text, bmv_base::text, emv_base::text, complete
      from portfolio_series where portfolio_id like ${like} order by 1, 2`),
  }
}

function contentionSuite(transport: Transport, enabled: boolean) {
  describe.if(enabled)(`two writers per portfolio over ${transport}`, () => {
    test('every stage doubled: the same tables as one writer, no stall, no failure', async () => {
      const prefix = `C${runId(transport)}-`
      const workload = book(12, 60, prefix)
      const businessDate = '2025-03-31'
      const prices = dailyCloses(workload, '25')
      const run = async (build: (parts: PipelineParts) => Stage[]) => {
        const pipeline = await startPipeline(transport, build)
        let tables: Awaited<ReturnType<typeof derived>> | undefined
        try {
          await pipeline.send('portfolios', workload.portfolios)
          await pipeline.send('instruments', workload.instruments)
          await pipeline.send('prices', prices)
          await pipeline.send('business-dates', [{ date: businessDate }])
          // Many small requests: many notices, so the two writers meet on the same portfolios often.
          for (let i = 0; i < workload.transactions.length; i += 24) {
            await pipeline.send('transactions', workload.transactions.slice(i, i + 24))
          }
          const want = expectedPositions(workload)
          const deadline = Date.now() + 120_000
          const complete = async () => {
            const [r] = await pipeline.db.sql`select count(*)::int as n from portfolio_series
              where portfolio_id like ${`${prefix}%`} and date = ${businessDate} and complete`
            return r?.n === workload.portfolios.length
          }
          // A revision left pending (its position changed again while it was valued) is applied on
          // a later notice: until then the day sums hold the position's earlier rows.
          const revalued = async () => {
            const [r] = await pipeline.db.sql`select count(*)::int as n from valuation_pending
              where portfolio_id like ${`${prefix}%`}`
            return r?.n === 0
          }
          let settled = false
          while (!settled && Date.now() < deadline) {
            await Bun.sleep(250)
            const now = await storedPositions(pipeline.db.sql, prefix)
            settled =
              now.rows === want.rows &&
              Bun.deepEquals(now.finals, want.finals) &&
              (await complete()) &&
              (await revalued())
          }
          expect(settled).toBe(true)
          await Bun.sleep(1000) // let a last write of either twin land before reading
          tables = await derived(pipeline.db.sql, prefix)
        } finally {
          // Stopping drains every stage: one stuck in a write that never settles fails here.
          await pipeline.stop()
        }
        expect(pipeline.failed()).toEqual([])
        return tables
      }
      const single = await run(everyStage)
      const twins = await run(doubled)
      expect(twins?.history.length).toBeGreaterThan(0)
      // 12 portfolios, each valued on most of Q1's 64 business days.
      expect(twins?.portfolioValues.length).toBeGreaterThan(700)
      expect(twins).toEqual(single)
    }, 300_000)
  })
}

contentionSuite('pg', true)
contentionSuite('kafka', kafkaTestsEnabled)
