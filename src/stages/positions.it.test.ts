import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { KafkaLog } from '../adapters/kafka-log.ts'
import { PgWriter } from '../adapters/pg-copy.ts'
import { PgInputStore } from '../adapters/pg-input-store.ts'
import { PgLog } from '../adapters/pg-log.ts'
import { PgPositionStore } from '../adapters/pg-position-store.ts'
import { ingestRoutes } from '../http/ingest.ts'
import type { EventLog } from '../ports/event-log.ts'
import { createLogger } from '../runtime/logger.ts'
import { StageRunner } from '../runtime/run-stage.ts'
import { freshDatabase, kafkaTestsEnabled, testKafkaBrokers } from '../testing/infra.ts'
import type { ScratchDatabase } from '../testing/local-infra.ts'
import { topicSpecs } from '../topology.ts'
import { persistStage } from './persist.ts'
import { positionsStage } from './positions.ts'

const logger = createLogger('error') // a failing stage says why on stderr

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(50)
  }
}

function positionsSuite(transport: 'pg' | 'kafka', enabled: boolean) {
  describe.if(enabled)(`positions stage over ${transport}`, () => {
    let db: ScratchDatabase
    let log: EventLog
    let runners: StageRunner[] = []
    let writer: PgWriter
    let ingest: ReturnType<typeof ingestRoutes>
    // Ids unique to this run: a long-lived local broker still holds earlier runs' raw records.
    const run = `${transport}${Date.now().toString(36)}`
    const P = `P-${run}`
    const S = `S-${run}`

    beforeAll(async () => {
      db = await freshDatabase(`positions_${transport}`)
      log =
        transport === 'pg'
          ? new PgLog(db.sql, { heartbeatMs: 100 })
          : new KafkaLog({ brokers: await testKafkaBrokers(), clientId: `positions-${run}` })
      await log.ensureTopics(topicSpecs(2))
      ingest = ingestRoutes({ log, maxRecordsPerRequest: 1000 })
      writer = new PgWriter(db.url, 'pas-test-positions')
      const policy = { maxRecords: 500, maxWaitMs: 100 }
      runners = [
        new StageRunner(
          { ...persistStage({ store: new PgInputStore(db.sql), log }), group: `persist-${run}` },
          log,
          policy,
          logger,
        ),
        new StageRunner(
          { ...positionsStage({ store: new PgPositionStore(db.sql, writer), log }), group: `positions-${run}` },
          log,
          policy,
          logger,
        ),
      ]
      for (const r of runners) await r.start()
    }, 120_000)

    afterAll(async () => {
      for (const r of runners) await r.stop()
      await writer?.close()
      await log?.close()
      await db?.drop()
    })

    const send = async (path: string, records: unknown[]) => {
      const res = await ingest.handle(
        new Request(`http://localhost/v1/ingest/${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(records),
        }),
      )
      expect(res.status).toBe(202)
    }
    const trade = (id: string, type: string, date: string, quantity: string, price: string, fee?: string) => ({
      transactionId: `${id}-${run}`,
      portfolioId: P,
      type,
      tradeDate: date,
      securityId: S,
      quantity,
      price,
      currency: 'USD',
      ...(fee ? { fee } : {}),
    })
    const latest = async () => {
      const rows = await db.sql`
        select distinct on (position_id) position_id, quantity::text as q, cost_local::text as cl, cost_base::text as cb,
               realized_local::text as rl, realized_base::text as rb
        from position_history where portfolio_id = ${P} order by position_id, date desc, seq desc`
      return Object.fromEntries(
        rows.map((r) => [r.position_id === S ? 'security' : r.position_id, [r.q, r.cl, r.cb, r.rl, r.rb]]),
      )
    }
    const settlesAt = (expected: Record<string, string[]>, what: string) =>
      until(async () => {
        const now = await latest()
        return Bun.deepEquals(now, expected) ? now : undefined
      }, what).catch(async (error: Error) => {
        expect(await latest()).toEqual(expected) // show the difference
        throw error
      })

    // CHF base; CHF/USD 1.25, so a USD amount is worth 0.8 of it in CHF. FX pairs are global and a
    // shared broker replays other suites' raw records, so this file keeps a pair no other test uses.
    const deposit = {
      transactionId: `D1-${run}`,
      portfolioId: P,
      type: 'DEPOSIT',
      tradeDate: '2025-01-02',
      grossAmount: '10000',
      currency: 'USD',
    }
    const buy1 = trade('B1', 'BUY', '2025-01-06', '100', '10', '5')
    const buy2 = trade('B2', 'BUY', '2025-01-07', '100', '12')
    const sale = trade('S1', 'SELL', '2025-01-10', '150', '15', '7.5')

    test('transactions become position history with FIFO cost and P&L in local and base currency', async () => {
      await send('portfolios', [{ portfolioId: P, baseCurrency: 'CHF', openDate: '2025-01-01' }])
      await send('instruments', [{ securityId: S, name: 'Stock', currency: 'USD' }])
      await send('fx-rates', [{ from: 'CHF', to: 'USD', date: '2025-01-01', rate: '1.25' }])
      await send('transactions', [deposit, buy1, buy2, sale])
      // Lots: 100 for USD 1,005 (CHF 804) and 100 for USD 1,200 (CHF 960). Selling 150 removes
      // USD 1,005 + 600 = 1,605 (CHF 804 + 480 = 1,284) for proceeds USD 2,242.50 (CHF 1,794):
      // realized USD 637.50, CHF 510. Left: 50 at USD 600 (CHF 480).
      // Cash: USD 10,000 − 1,005 − 1,200 + 2,242.50 = 10,037.50; CHF 8,000 − 804 − 960 + 1,794 = 8,030.
      await settlesAt(
        {
          security: ['50', '600', '480', '637.5', '510'],
          'CASH:USD': ['10037.5', '10037.5', '8030', '0', '0'],
        },
        'the first positions',
      )
      const flows =
        await db.sql`select class, timing, amount_base::text as b from cashflows where portfolio_id = ${P} order by date`
      expect(flows.map((f) => [f.class, f.timing, f.b])).toEqual([
        ['EXTERNAL', 'SOD', '8000'],
        ['INVESTMENT', 'SOD', '-804'],
        ['INVESTMENT', 'SOD', '-960'],
        ['INVESTMENT', 'EOD', '1794'],
      ])
    }, 120_000)

    test('a back-dated buy before the sale changes which lots it sold; a redelivery changes nothing', async () => {
      await send('transactions', [trade('B0', 'BUY', '2025-01-03', '100', '8')])
      // FIFO now sells 100 of the Jan 3 lot (USD 800, CHF 640) and 50 of the Jan 6 lot (USD 502.50,
      // CHF 402): realized USD 2,242.50 − 1,302.50 = 940, CHF 1,794 − 1,042 = 752.
      // Left: 50 (USD 502.50 / CHF 402) + 100 (USD 1,200 / CHF 960). Cash: 10,037.50 − 800; CHF 8,030 − 640.
      const expected = {
        security: ['150', '1702.5', '1362', '940', '752'],
        'CASH:USD': ['9237.5', '9237.5', '7390', '0', '0'],
      }
      await settlesAt(expected, 'the recomputed positions')
      const count = async () =>
        (await db.sql`select count(*)::int as n from position_history where portfolio_id = ${P}`)[0]?.n
      const rowsBefore = await count()
      await send('transactions', [deposit, buy1, buy2, sale])
      await Bun.sleep(1500)
      expect(await latest()).toEqual(expected)
      expect(await count()).toBe(rowsBefore)
    }, 120_000)

    test('a sale beyond the holding is rejected with its reason and leaves positions as they were', async () => {
      await send('transactions', [trade('S2', 'SELL', '2025-01-13', '1000', '15')])
      const rejection = await until(async () => {
        const [r] = await db.sql`select code, reason from transaction_rejections where portfolio_id = ${P}`
        return r
      }, 'the rejection')
      expect(rejection.code).toBe('INSUFFICIENT_QUANTITY')
      expect(rejection.reason).toContain('1000')
      expect((await latest()).security).toEqual(['150', '1702.5', '1362', '940', '752'])
    }, 120_000)
  })
}

positionsSuite('pg', true)
positionsSuite('kafka', kafkaTestsEnabled)
