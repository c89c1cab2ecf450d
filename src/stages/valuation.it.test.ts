import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { KafkaLog } from '../adapters/kafka-log.ts'
import { PgWriter } from '../adapters/pg-copy.ts'
import { PgInputStore } from '../adapters/pg-input-store.ts'
import { PgLog } from '../adapters/pg-log.ts'
import { PgPositionStore } from '../adapters/pg-position-store.ts'
import { PgValuationStore } from '../adapters/pg-valuation-store.ts'
import { ingestRoutes } from '../http/ingest.ts'
import type { EventLog } from '../ports/event-log.ts'
import { createLogger } from '../runtime/logger.ts'
import { StageRunner } from '../runtime/run-stage.ts'
import { freshDatabase, kafkaTestsEnabled, testKafkaBrokers } from '../testing/infra.ts'
import type { ScratchDatabase } from '../testing/local-infra.ts'
import { topicSpecs } from '../topology.ts'
import { persistStage } from './persist.ts'
import { positionsStage } from './positions.ts'
import { valuationFanoutStage, valuationStage } from './valuation.ts'

const logger = createLogger('error') // a failing stage says why on stderr

function valuationSuite(transport: 'pg' | 'kafka', enabled: boolean) {
  describe.if(enabled)(`valuation stages over ${transport}`, () => {
    let db: ScratchDatabase
    let log: EventLog
    let runners: StageRunner[] = []
    const writers: PgWriter[] = []
    let ingest: ReturnType<typeof ingestRoutes>
    // Ids unique to this run: a long-lived local broker replays earlier runs' raw records, and FX
    // pairs are global, so the base currency is a code made for this run (X + two letters), at
    // 1.25 USD, so a USD amount is worth 0.8 of it in base.
    const run = `${transport}${Date.now().toString(36)}`
    const SGD = `X${String.fromCharCode(65 + (Date.now() % 26), 65 + (Math.floor(Date.now() / 26) % 26))}`
    const P = `P-${run}`
    const S = `S-${run}`
    const U = `U-${run}` // bought while it has no price yet

    beforeAll(async () => {
      db = await freshDatabase(`valuation_${transport}`)
      log =
        transport === 'pg'
          ? new PgLog(db.sql, { heartbeatMs: 100 })
          : new KafkaLog({ brokers: await testKafkaBrokers(), clientId: `valuation-${run}` })
      await log.ensureTopics(topicSpecs(2))
      ingest = ingestRoutes({ log, maxRecordsPerRequest: 1000 })
      const writer = () => {
        const w = new PgWriter(db.url, 'pas-test-writer')
        writers.push(w)
        return w
      }
      const valuations = new PgValuationStore(db.sql, writer())
      const policy = { maxRecords: 500, maxWaitMs: 100 }
      const stages = [
        persistStage({ store: new PgInputStore(db.sql), log }),
        positionsStage({ store: new PgPositionStore(db.sql, writer()), log }),
        valuationFanoutStage({ store: valuations, log }),
        valuationStage({ store: valuations, log }),
      ]
      runners = stages.map((s) => new StageRunner({ ...s, group: `${s.name}-${run}` }, log, policy, logger))
      for (const r of runners) await r.start()
    }, 120_000)

    afterAll(async () => {
      for (const r of runners) await r.stop()
      for (const w of writers) await w.close()
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
    /** date → [status, market value in base] of one position, as stored. */
    const valued = async (positionId: string) =>
      (
        await db.sql`select date::text as d, status, market_value_base::text as mv from valuations
                     where portfolio_id = ${P} and position_id = ${positionId} order by date`
      ).map((r) => [r.d, r.status === 'VALUED' ? r.mv : r.status])
    const settles = async (positionId: string, expected: (string | null)[][], what: string) => {
      const deadline = Date.now() + 30_000
      while (Date.now() < deadline) {
        if (Bun.deepEquals(await valued(positionId), expected)) return
        await Bun.sleep(100)
      }
      expect(await valued(positionId)).toEqual(expected) // fails, showing the difference
      throw new Error(`timed out waiting for ${what}`)
    }

    test('every business day from the first holding day to the business date is valued; a day without a price is not', async () => {
      await send('portfolios', [{ portfolioId: P, baseCurrency: SGD, openDate: '2025-01-01' }])
      await send('instruments', [
        { securityId: S, name: 'Stock', currency: 'USD' },
        { securityId: U, name: 'Unpriced', currency: 'USD' },
      ])
      await send('fx-rates', [{ from: SGD, to: 'USD', date: '2025-01-01', rate: '1.25' }])
      await send('prices', [
        { securityId: S, date: '2025-01-06', price: '10', currency: 'USD' },
        { securityId: S, date: '2025-01-08', price: '11', currency: 'USD' },
      ])
      await send('business-dates', [{ date: '2025-01-10' }])
      await send('transactions', [
        {
          transactionId: `B1-${run}`,
          portfolioId: P,
          type: 'BUY',
          tradeDate: '2025-01-06',
          securityId: S,
          quantity: '100',
          price: '10',
          currency: 'USD',
        },
        {
          transactionId: `B2-${run}`,
          portfolioId: P,
          type: 'BUY',
          tradeDate: '2025-01-06',
          securityId: U,
          quantity: '10',
          price: '50',
          currency: 'USD',
        },
      ])
      // 100 × 10 = USD 1,000 = SGD 800 until Jan 8, then 100 × 11 = 1,100 = SGD 880 (Mon Jan 6 – Fri Jan 10).
      await settles(
        S,
        [
          ['2025-01-06', '800'],
          ['2025-01-07', '800'],
          ['2025-01-08', '880'],
          ['2025-01-09', '880'],
          ['2025-01-10', '880'],
        ],
        'the first valuations',
      )
      // Cash: USD −1,000 − 500 = −1,500 = SGD −1,200 every day. The unpriced stock is reported, not zero.
      expect((await valued('CASH:USD')).map((v) => v[1])).toEqual(['-1200', '-1200', '-1200', '-1200', '-1200'])
      expect((await valued(U)).map((v) => v[1])).toEqual(Array(5).fill('MISSING_PRICE'))
    }, 120_000)

    test('a late or corrected price revalues the days it covers, and fills the unvalued ones', async () => {
      await send('prices', [
        { securityId: S, date: '2025-01-07', price: '12', currency: 'USD' }, // 1,200 → SGD 960 on Jan 7
        { securityId: U, date: '2025-01-08', price: '55', currency: 'USD' }, // 10 × 55 = 550 → SGD 440 from Jan 8
      ])
      await settles(
        S,
        [
          ['2025-01-06', '800'],
          ['2025-01-07', '960'],
          ['2025-01-08', '880'],
          ['2025-01-09', '880'],
          ['2025-01-10', '880'],
        ],
        'the revalued day',
      )
      await settles(
        U,
        [
          ['2025-01-06', 'MISSING_PRICE'],
          ['2025-01-07', 'MISSING_PRICE'],
          ['2025-01-08', '440'],
          ['2025-01-09', '440'],
          ['2025-01-10', '440'],
        ],
        'the filled days',
      )
    }, 120_000)

    test('a late FX rate revalues from its date; moving the business date on values the new days', async () => {
      // SGD/USD 1.6 from Jan 9: USD → SGD 0.625; 1,100 × 0.625 = 687.5.
      await send('fx-rates', [{ from: SGD, to: 'USD', date: '2025-01-09', rate: '1.6' }])
      await send('business-dates', [{ date: '2025-01-14' }]) // Tuesday: adds Mon 13 and Tue 14
      await settles(
        S,
        [
          ['2025-01-06', '800'],
          ['2025-01-07', '960'],
          ['2025-01-08', '880'],
          ['2025-01-09', '687.5'],
          ['2025-01-10', '687.5'],
          ['2025-01-13', '687.5'],
          ['2025-01-14', '687.5'],
        ],
        'the FX revaluation and the new days',
      )
    }, 120_000)
  })
}

valuationSuite('pg', true)
valuationSuite('kafka', kafkaTestsEnabled)
