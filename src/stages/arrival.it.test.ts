import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { positionValuations } from '../query/position-days.ts'
import { kafkaTestsEnabled } from '../testing/infra.ts'
import { everyStage, runId, settles, startPipeline, type Transport } from '../testing/pipeline.ts'

/**
 * Records arriving out of order across topics: the trades first, then their instrument, then their
 * portfolio, then prices, and the FX the trade needs last, as two legs through USD only. Each
 * arrival must recompute what the earlier ones could not, and the end state must be the one a
 * tidy arrival order gives, with the figures worked by hand below.
 */
function arrivalSuite(transport: Transport, enabled: boolean) {
  describe.if(enabled)(`records out of order across topics over ${transport}`, () => {
    let pipeline: Awaited<ReturnType<typeof startPipeline>>
    const run = runId(transport)
    const P = `P-${run}`
    const EU = `EU-${run}`
    beforeAll(async () => {
      pipeline = await startPipeline(transport, everyStage, run)
    }, 120_000)
    afterAll(() => pipeline?.stop())
    const send = (path: string, records: unknown[]) => pipeline.send(path, records)

    const position = async () => {
      const rows = await pipeline.db.sql`
        select distinct on (position_id) position_id, quantity::text as q, cost_local::text as cl, cost_base::text as cb
        from position_history where portfolio_id = ${P} order by position_id, date desc, seq desc`
      return Object.fromEntries(rows.map((r) => [r.position_id, [r.q, r.cl, r.cb]]))
    }
    const rejections = async () =>
      (await pipeline.db.sql`select code from transaction_rejections where portfolio_id = ${P}`).map((r) => r.code)
    /** position → [status, market value in base] on a day, as the query API values it. */
    const valuedOn = async (date: string) =>
      Object.fromEntries(
        (await positionValuations(pipeline.db.sql, P, date, date)).map((v) => [
          v.positionId,
          [v.status, v.marketValueBase],
        ]),
      )
    const seriesOn = async (date: string) =>
      (
        await pipeline.db.sql`select emv_base::text as emv, complete from portfolio_series
                              where portfolio_id = ${P} and date = ${date}`
      ).map((r) => [r.emv, r.complete])

    test('trades before their instrument and portfolio, FX only as two USD legs: each arrival fills in what it can', async () => {
      // A GBP portfolio buys a EUR stock. Sent first, before anything they refer to.
      await send('transactions', [
        {
          transactionId: `D-${run}`,
          portfolioId: P,
          type: 'DEPOSIT',
          tradeDate: '2025-01-02',
          grossAmount: '10000',
          currency: 'GBP',
        },
        {
          transactionId: `B-${run}`,
          portfolioId: P,
          type: 'BUY',
          tradeDate: '2025-01-03',
          securityId: EU,
          quantity: '100',
          price: '50',
          currency: 'EUR',
        },
      ])
      await send('instruments', [{ securityId: EU, name: 'A EUR stock', currency: 'EUR' }])
      await send('portfolios', [{ portfolioId: P, baseCurrency: 'GBP', openDate: '2025-01-01' }])
      // The portfolio is known now: the deposit applies, the buy waits for an EUR/GBP rate.
      await settles(rejections, ['MISSING_FX'])
      expect(await position()).toEqual({ 'CASH:GBP': ['10000', '10000', '10000'] })

      await send('prices', [
        { securityId: EU, date: '2025-01-03', price: '50', currency: 'EUR' },
        { securityId: EU, date: '2025-01-10', price: '55', currency: 'EUR' },
      ])
      await send('business-dates', [{ date: '2025-01-10' }])
      // One leg is not enough: still no EUR/GBP.
      await send('fx-rates', [{ from: 'EUR', to: 'USD', date: '2025-01-01', rate: '1.10' }])
      // The second leg makes the cross: EUR/GBP = EUR/USD 1.10 × USD/GBP (1 / 1.25 = 0.8) = 0.88.
      await send('fx-rates', [{ from: 'GBP', to: 'USD', date: '2025-01-01', rate: '1.25' }])
      // EUR 5,000 at 0.88 = GBP 4,400, for the stock's cost and the EUR cash spent.
      await settles(position, {
        'CASH:GBP': ['10000', '10000', '10000'],
        'CASH:EUR': ['-5000', '-5000', '-4400'],
        [EU]: ['100', '5000', '4400'],
      })
      expect(await rejections()).toEqual([])
      // Jan 10: 100 × 55 = EUR 5,500 = GBP 4,840; EUR cash −4,400; GBP cash 10,000. Total 10,440.
      await settles(() => valuedOn('2025-01-10'), {
        'CASH:GBP': ['VALUED', '10000'],
        'CASH:EUR': ['VALUED', '-4400'],
        [EU]: ['VALUED', '4840'],
      })
      await settles(() => seriesOn('2025-01-10'), [['10440', true]])
    }, 120_000)

    test('a trade settled in another currency waits for that pair, and applies when it arrives', async () => {
      // A SEK portfolio buys a SEK stock with NOK cash: 10 @ 100 = SEK 1,000 × SEK/NOK 1.05 = NOK 1,050,
      // whose base cost is 1,050 × (1 / 1.05 = 0.9523809524, 10 places) = SEK 1,000.00000002.
      const PS = `PS-${run}`
      const SE = `SE-${run}`
      await send('portfolios', [{ portfolioId: PS, baseCurrency: 'SEK', openDate: '2025-01-01' }])
      await send('instruments', [{ securityId: SE, name: 'A SEK stock', currency: 'SEK' }])
      await send('transactions', [
        {
          transactionId: `S-${run}`,
          portfolioId: PS,
          type: 'BUY',
          tradeDate: '2025-01-03',
          securityId: SE,
          quantity: '10',
          price: '100',
          currency: 'SEK',
          settlementCurrency: 'NOK',
        },
      ])
      const codes = async () =>
        (await pipeline.db.sql`select code from transaction_rejections where portfolio_id = ${PS}`).map((r) => r.code)
      await settles(codes, ['MISSING_FX'])
      await send('fx-rates', [{ from: 'SEK', to: 'NOK', date: '2025-01-01', rate: '1.05' }])
      const held = async () =>
        Object.fromEntries(
          (
            await pipeline.db.sql`
              select distinct on (position_id) position_id, quantity::text as q, cost_base::text as cb
              from position_history where portfolio_id = ${PS} order by position_id, date desc, seq desc`
          ).map((r) => [r.position_id, [r.q, r.cb]]),
        )
      await settles(held, { [SE]: ['10', '1000'], 'CASH:NOK': ['-1050', '-1000.00000002'] })
      expect(await codes()).toEqual([])
    }, 120_000)

    test('a late change of one leg revalues through the cross', async () => {
      // GBP/USD 1.30 from Jan 8: USD/GBP = 1 / 1.30 = 0.7692307692 (10 places), × 1.10 = 0.84615384612
      // → 0.8461538461. Stock 5,500 × that = 4,653.84615355; EUR cash −5,000 × that = −4,230.7692305.
      // Total 10,000 + 4,653.84615355 − 4,230.7692305 = 10,423.07692305. Cost stays at Jan 3's rate.
      await send('fx-rates', [{ from: 'GBP', to: 'USD', date: '2025-01-08', rate: '1.30' }])
      await settles(() => valuedOn('2025-01-10'), {
        'CASH:GBP': ['VALUED', '10000'],
        'CASH:EUR': ['VALUED', '-4230.7692305'],
        [EU]: ['VALUED', '4653.84615355'],
      })
      await settles(() => seriesOn('2025-01-10'), [['10423.07692305', true]])
      expect((await position())[EU]).toEqual(['100', '5000', '4400'])
    }, 120_000)
  })
}

arrivalSuite('pg', true)
arrivalSuite('kafka', kafkaTestsEnabled)
