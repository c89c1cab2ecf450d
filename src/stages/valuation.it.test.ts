import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { PgInputStore } from '../adapters/pg-input-store.ts'
import { PgPositionStore } from '../adapters/pg-position-store.ts'
import { PgValuationStore } from '../adapters/pg-valuation-store.ts'
import { positionValuations } from '../query/position-days.ts'
import { kafkaTestsEnabled } from '../testing/infra.ts'
import { rewritten, rowVersions, runId, settles, startPipeline, type Transport } from '../testing/pipeline.ts'
import { persistStage } from './persist.ts'
import { positionsStage } from './positions.ts'
import { valuationFanoutStage, valuationStage } from './valuation.ts'
import { ValuationPool } from './valuation-pool.ts'

/** `workers`: value on a ValuationPool of that many threads instead of the stage's own. */
function valuationSuite(transport: Transport, enabled: boolean, workers = 0) {
  const on = workers > 0 ? ` on ${workers} worker threads` : ''
  describe.if(enabled)(`valuation stages over ${transport}${on}`, () => {
    let pipeline: Awaited<ReturnType<typeof startPipeline>>
    let pool: ValuationPool | undefined
    // The base currency is worth 1.25 USD: a USD amount is worth 0.8 of it.
    const run = runId(transport)
    const SGD = 'SGD'
    const P = `P-${run}`
    const S = `S-${run}`
    const U = `U-${run}` // bought while it has no price yet

    beforeAll(async () => {
      pipeline = await startPipeline(
        transport,
        ({ db, log, writer }) => {
          const valuations = new PgValuationStore(db.sql, writer())
          pool = workers > 0 ? new ValuationPool(workers, db.url) : undefined
          return [
            persistStage({ store: new PgInputStore(db.sql), log }),
            positionsStage({
              store: new PgPositionStore(db.sql, writer()),
              log,
              deadLetters: new PgInputStore(db.sql),
            }),
            valuationFanoutStage({ store: valuations, log }),
            valuationStage({ store: valuations, log, deadLetters: new PgInputStore(db.sql), pool }),
          ]
        },
        run,
      )
    }, 120_000)
    afterAll(async () => {
      await pipeline?.stop()
      await pool?.close()
    })

    const send = (path: string, records: unknown[]) => pipeline.send(path, records)
    /** date → [status, market value in base] of one position, as the query API values it. */
    const valued = async (positionId: string, portfolioId = P) =>
      (await positionValuations(pipeline.db.sql, portfolioId, '2025-01-01', '2025-12-31', [positionId])).map((v) => [
        v.date,
        v.status === 'VALUED' ? (v.marketValueBase as string) : v.status,
      ])
    const settlesTo = (positionId: string, expected: (string | null)[][]) => settles(() => valued(positionId), expected)
    const versions = () => rowVersions(pipeline.db.sql, 'portfolio_value_months', P)
    /** date → [sum of the valued positions, all valued], as the valuation stage stored it. */
    const totals = async (portfolioId = P) =>
      (
        await pipeline.db.sql`select date::text as d, emv_base::text as e, complete from portfolio_values
                              where portfolio_id = ${portfolioId} order by date`
      ).map((r) => [r.d, r.e, r.complete])

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
      await settlesTo(S, [
        ['2025-01-06', '800'],
        ['2025-01-07', '800'],
        ['2025-01-08', '880'],
        ['2025-01-09', '880'],
        ['2025-01-10', '880'],
      ])
      // Cash: USD −1,000 − 500 = −1,500 = SGD −1,200 every day. The unpriced stock is reported, not zero.
      await settles(
        async () => (await valued('CASH:USD')).map((v) => v[1]),
        ['-1200', '-1200', '-1200', '-1200', '-1200'],
      )
      await settles(async () => (await valued(U)).map((v) => v[1]), Array(5).fill('MISSING_PRICE'))
      // What the stage stored: S + cash, incomplete while U has no price: 800 − 1,200 and 880 − 1,200.
      await settles(totals, [
        ['2025-01-06', '-400', false],
        ['2025-01-07', '-400', false],
        ['2025-01-08', '-320', false],
        ['2025-01-09', '-320', false],
        ['2025-01-10', '-320', false],
      ])
    }, 120_000)

    test('a late or corrected price revalues the days it covers, and fills the unvalued ones', async () => {
      await send('prices', [
        { securityId: S, date: '2025-01-07', price: '12', currency: 'USD' }, // 1,200 → SGD 960 on Jan 7
        { securityId: U, date: '2025-01-08', price: '55', currency: 'USD' }, // 10 × 55 = 550 → SGD 440 from Jan 8
      ])
      await settlesTo(S, [
        ['2025-01-06', '800'],
        ['2025-01-07', '960'],
        ['2025-01-08', '880'],
        ['2025-01-09', '880'],
        ['2025-01-10', '880'],
      ])
      await settlesTo(U, [
        ['2025-01-06', 'MISSING_PRICE'],
        ['2025-01-07', 'MISSING_PRICE'],
        ['2025-01-08', '440'],
        ['2025-01-09', '440'],
        ['2025-01-10', '440'],
      ])
      // The stage revalued: Jan 7 960 − 1,200; from Jan 8 880 − 1,200 + 440, complete.
      await settles(totals, [
        ['2025-01-06', '-400', false],
        ['2025-01-07', '-240', false],
        ['2025-01-08', '120', true],
        ['2025-01-09', '120', true],
        ['2025-01-10', '120', true],
      ])
    }, 120_000)

    test('a late FX rate revalues from its date; moving the business date on values the new days', async () => {
      // SGD/USD 1.6 from Jan 9: USD → SGD 0.625; 1,100 × 0.625 = 687.5.
      await send('fx-rates', [{ from: SGD, to: 'USD', date: '2025-01-09', rate: '1.6' }])
      await send('business-dates', [{ date: '2025-01-14' }]) // Tuesday: adds Mon 13 and Tue 14
      await settlesTo(S, [
        ['2025-01-06', '800'],
        ['2025-01-07', '960'],
        ['2025-01-08', '880'],
        ['2025-01-09', '687.5'],
        ['2025-01-10', '687.5'],
        ['2025-01-13', '687.5'],
        ['2025-01-14', '687.5'],
      ])
      // From Jan 9 at 0.625: 1,100 − 1,500 + 550 = 150 USD = SGD 93.75; Jan 13 and 14 added.
      await settles(
        async () => (await totals()).slice(2),
        [
          ['2025-01-08', '120', true],
          ['2025-01-09', '93.75', true],
          ['2025-01-10', '93.75', true],
          ['2025-01-13', '93.75', true],
          ['2025-01-14', '93.75', true],
        ],
      )
    }, 120_000)

    test('a price quoted in a third currency is converted with the rate that exists; a late rate of that pair revalues', async () => {
      // Base B, instrument in USD, its price quoted in T (neither). 1 B = 2 USD, so USD → B is 0.5;
      // 1 T = 1.5 USD. Price 10 T = 15 USD; 10 units = 150 USD = 75 B.
      const [B, T] = ['NZD', 'ZAR']
      const [P3, X3] = [`P3-${run}`, `X3-${run}`]
      await send('portfolios', [{ portfolioId: P3, baseCurrency: B, openDate: '2025-01-01' }])
      await send('instruments', [{ securityId: X3, name: 'Quoted elsewhere', currency: 'USD' }])
      await send('fx-rates', [
        { from: B, to: 'USD', date: '2025-01-01', rate: '2' },
        { from: T, to: 'USD', date: '2025-01-01', rate: '1.5' },
      ])
      await send('prices', [{ securityId: X3, date: '2025-01-06', price: '10', currency: T }])
      await send('transactions', [
        {
          transactionId: `P3D-${run}`,
          portfolioId: P3,
          type: 'DEPOSIT',
          tradeDate: '2025-01-06',
          grossAmount: '1000',
          currency: 'USD',
        },
        {
          transactionId: `P3B-${run}`,
          portfolioId: P3,
          type: 'BUY',
          tradeDate: '2025-01-06',
          securityId: X3,
          quantity: '10',
          price: '15',
          currency: 'USD',
        },
      ])
      const x3 = async () =>
        (await positionValuations(pipeline.db.sql, P3, '2025-01-06', '2025-01-07', [X3])).map((v) => [
          v.date,
          v.status,
          v.price,
          v.marketValueLocal,
          v.marketValueBase,
        ])
      await settles(x3, [
        ['2025-01-06', 'VALUED', '15', '150', '75'],
        ['2025-01-07', 'VALUED', '15', '150', '75'],
      ])
      // T/USD 1.6 from Jan 7: 10 T = 16 USD; 160 USD = 80 B. The fan-out finds the holder through the price.
      await send('fx-rates', [{ from: T, to: 'USD', date: '2025-01-07', rate: '1.6' }])
      await settles(x3, [
        ['2025-01-06', 'VALUED', '15', '150', '75'],
        ['2025-01-07', 'VALUED', '16', '160', '80'],
      ])
      // The stage revalued the holder: cash USD 1,000 − 150 = 850 = B 425, plus X3 75, then 80 on Jan 7.
      await settles(
        async () => (await totals(P3)).slice(0, 2),
        [
          ['2025-01-06', '500', true],
          ['2025-01-07', '505', true],
        ],
      )
    }, 120_000)

    test('a corrected price rewrites only the days it is in force, up to the next price', async () => {
      // The sums are stored a month a row (sql/0024): with February valued too, a change that
      // rewrote every day from its date on would rewrite February's row as well.
      await send('business-dates', [{ date: '2025-02-14' }])
      await settles(async () => (await totals()).at(-1)?.[0], '2025-02-14')
      const before = await versions()
      expect([...before.keys()]).toEqual(['2025-01-01', '2025-02-01'])
      // S on Jan 7: 12 → 12.4, in force until the Jan 8 price. 100 × 12.4 = USD 1,240 = SGD 992;
      // with cash −1,200 and U still unpriced that day: −208, incomplete.
      await send('prices', [{ securityId: S, date: '2025-01-07', price: '12.4', currency: 'USD' }])
      await settles(async () => (await totals()).slice(1, 2), [['2025-01-07', '-208', false]])
      expect(rewritten(before, await versions())).toEqual(['2025-01-01'])
    }, 120_000)

    test("a rate revalues only the days it serves, until the pair's next rate, and no trade before it", async () => {
      const before = await versions()
      // SGD/USD is 1.25 from Jan 1 and 1.6 from Jan 9. A rate of 2 on Jan 8 serves Jan 8 only:
      // cash USD −1,500 is SGD −750 that day, −1,200 before and −937.5 after. P's trades (Jan 6)
      // converted at the Jan 1 rate: their positions are not recomputed.
      await send('fx-rates', [{ from: SGD, to: 'USD', date: '2025-01-08', rate: '2' }])
      await settles(
        async () => (await valued('CASH:USD')).slice(1, 4),
        [
          ['2025-01-07', '-1200'],
          ['2025-01-08', '-750'],
          ['2025-01-09', '-937.5'],
        ],
      )
      // What the stage stored for Jan 8: S 100 × 11 + U 10 × 55 − cash 1,500 = USD 150 = SGD 75.
      await settles(async () => (await totals()).filter(([d]) => d === '2025-01-08'), [['2025-01-08', '75', true]])
      expect(rewritten(before, await versions())).toEqual(['2025-01-01'])
    }, 120_000)

    test('a price from the Monday after a position closed on the Saturday keeps its closing day counted', async () => {
      // P5 buys 10 Y5 on Thu Jan 9 and sells them on Sat Jan 11: held on Fri Jan 10, so Mon Jan 13
      // is Y5's closing day (valued at 0, counted), beside the cash. A corrected Y5 price for Jan 13
      // revalues P5 from Monday; the history before it must still say Y5 was held on Friday.
      const [P5, Y5] = [`P5-${run}`, `Y5-${run}`]
      await send('portfolios', [{ portfolioId: P5, baseCurrency: 'USD', openDate: '2025-01-01' }])
      await send('instruments', [{ securityId: Y5, name: 'Closed on a Saturday', currency: 'USD' }])
      await send('prices', [
        { securityId: Y5, date: '2025-01-09', price: '10', currency: 'USD' },
        { securityId: Y5, date: '2025-01-13', price: '11', currency: 'USD' },
      ])
      const t = (id: string, fields: Record<string, string>) => ({
        transactionId: `${id}-${run}`,
        portfolioId: P5,
        currency: 'USD',
        ...fields,
      })
      await send('transactions', [
        t('P5D', { type: 'DEPOSIT', tradeDate: '2025-01-09', grossAmount: '1000' }),
        t('P5B', { type: 'BUY', tradeDate: '2025-01-09', securityId: Y5, quantity: '10', price: '10' }),
        t('P5S', { type: 'SELL', tradeDate: '2025-01-11', securityId: Y5, quantity: '10', price: '10' }),
      ])
      const counted = async () =>
        (
          await pipeline.db.sql`select date::text as d, positions from portfolio_values
                                where portfolio_id = ${P5} and date between '2025-01-10' and '2025-01-14' order by date`
        ).map((r) => [r.d, r.positions])
      // Fri: cash and Y5; Mon: cash and Y5's closing day; Tue: cash alone.
      const expected = [
        ['2025-01-10', 2],
        ['2025-01-13', 2],
        ['2025-01-14', 1],
      ]
      await settles(counted, expected)
      const before = await rowVersions(pipeline.db.sql, 'portfolio_value_months', P5)
      await send('prices', [{ securityId: Y5, date: '2025-01-13', price: '12', currency: 'USD' }])
      // Revalued from Monday (to the business date: no later Y5 price): January's row is rewritten.
      const januaryRewritten = async () =>
        rewritten(before, await rowVersions(pipeline.db.sql, 'portfolio_value_months', P5)).includes('2025-01-01')
      await settles(januaryRewritten, true)
      expect(await counted()).toEqual(expected)
    }, 120_000)

    test('two corrected prices days apart revalue their days alone, each with the prices in force on it', async () => {
      // P6 (USD) deposits 1,000 and buys 10 W at 10 and 5 X at 20 on Mon Jan 6: cash 800. W is
      // priced every day (10, 11, 12, 13, 14 from Jan 6), X only on Thu Jan 2 (20): every day
      // values X at that price, read as the latest before each day revalued.
      const [P6, W, X] = [`P6-${run}`, `W6-${run}`, `X6-${run}`]
      await send('portfolios', [{ portfolioId: P6, baseCurrency: 'USD', openDate: '2025-01-01' }])
      await send('instruments', [
        { securityId: W, name: 'Priced daily', currency: 'USD' },
        { securityId: X, name: 'Priced once', currency: 'USD' },
      ])
      await send('prices', [
        ...['06', '07', '08', '09', '10'].map((day, i) => ({
          securityId: W,
          date: `2025-01-${day}`,
          price: String(10 + i),
          currency: 'USD',
        })),
        { securityId: X, date: '2025-01-02', price: '20', currency: 'USD' },
      ])
      const t = (id: string, fields: Record<string, string>) => ({
        transactionId: `${id}-${run}`,
        portfolioId: P6,
        currency: 'USD',
        tradeDate: '2025-01-06',
        ...fields,
      })
      await send('transactions', [
        t('P6D', { type: 'DEPOSIT', grossAmount: '1000' }),
        t('P6W', { type: 'BUY', securityId: W, quantity: '10', price: '10' }),
        t('P6X', { type: 'BUY', securityId: X, quantity: '5', price: '20' }),
      ])
      const week = async () =>
        (
          await pipeline.db.sql`select date::text as d, emv_base::text as e, complete from portfolio_values
                                where portfolio_id = ${P6} and date between '2025-01-06' and '2025-01-10' order by date`
        ).map((r) => [r.d, r.e, r.complete])
      // 10 × W + 5 × 20 + 800: 1,000, 1,010, 1,020, 1,030, 1,040.
      await settles(week, [
        ['2025-01-06', '1000', true],
        ['2025-01-07', '1010', true],
        ['2025-01-08', '1020', true],
        ['2025-01-09', '1030', true],
        ['2025-01-10', '1040', true],
      ])
      // Corrected in one batch: W 21 on Jan 7 (10 × 21 + 100 + 800 = 1,110) and 23 on Jan 9 (1,130).
      // Jan 8, between them, keeps W's own price of 12.
      await send('prices', [
        { securityId: W, date: '2025-01-07', price: '21', currency: 'USD' },
        { securityId: W, date: '2025-01-09', price: '23', currency: 'USD' },
      ])
      await settles(week, [
        ['2025-01-06', '1000', true],
        ['2025-01-07', '1110', true],
        ['2025-01-08', '1020', true],
        ['2025-01-09', '1130', true],
        ['2025-01-10', '1040', true],
      ])
    }, 120_000)

    test("a position's rows are valued in order: the row before the month read, then a day's rows as applied", async () => {
      // P7 (USD) deposits 1,000 and buys 10 V at 10 on Mon Jan 6 (cash 900). On Mon Mar 3 it buys 5
      // V at 10 and sells 2 at 10: two rows of V that day, and two of its cash, whichever comes
      // first (15 or 8 V, 850 or 920 cash), ending at 13 V and 870 cash. V is priced 10 on Jan 6
      // and 11 on Mar 3: the days from Mar 3 are worth 13 × 11 + 870 = 1,013 with the rows in
      // order, and 15 × 11 + 850 = 1,015 or 8 × 11 + 920 = 1,008 with a day's rows the other way.
      const [P7, V] = [`P7-${run}`, `V7-${run}`]
      await send('portfolios', [{ portfolioId: P7, baseCurrency: 'USD', openDate: '2025-01-01' }])
      await send('instruments', [{ securityId: V, name: 'Two rows a day', currency: 'USD' }])
      await send('prices', [
        { securityId: V, date: '2025-01-06', price: '10', currency: 'USD' },
        { securityId: V, date: '2025-03-03', price: '11', currency: 'USD' },
      ])
      await send('business-dates', [{ date: '2025-03-05' }])
      const t = (id: string, tradeDate: string, fields: Record<string, string>) => ({
        transactionId: `${id}-${run}`,
        portfolioId: P7,
        currency: 'USD',
        tradeDate,
        ...fields,
      })
      await send('transactions', [
        t('P7D', '2025-01-06', { type: 'DEPOSIT', grossAmount: '1000' }),
        t('P7B', '2025-01-06', { type: 'BUY', securityId: V, quantity: '10', price: '10' }),
      ])
      const days = async () =>
        (
          await pipeline.db.sql`select date::text as d, emv_base::text as e from portfolio_values
                                where portfolio_id = ${P7} and date in ('2025-01-06', '2025-03-03', '2025-03-04', '2025-03-05')
                                order by date`
        ).map((r) => [r.d, r.e])
      await settles(days, [
        ['2025-01-06', '1000'],
        ['2025-03-03', '1010'], // 10 × 11 + 900
        ['2025-03-04', '1010'],
        ['2025-03-05', '1010'],
      ])
      // Revalued alone (pending positions): V's and the cash's row before Feb 1, then their Mar 3 rows.
      await send('transactions', [
        t('P7B2', '2025-03-03', { type: 'BUY', securityId: V, quantity: '5', price: '10' }),
        t('P7S', '2025-03-03', { type: 'SELL', securityId: V, quantity: '2', price: '10' }),
      ])
      await settles(days, [
        ['2025-01-06', '1000'],
        ['2025-03-03', '1013'],
        ['2025-03-04', '1013'],
        ['2025-03-05', '1013'],
      ])
      // A late price for Mar 4 revalues the portfolio from then on: 13 × 12 + 870 = 1,026.
      await send('prices', [{ securityId: V, date: '2025-03-04', price: '12', currency: 'USD' }])
      await settles(days, [
        ['2025-01-06', '1000'],
        ['2025-03-03', '1013'],
        ['2025-03-04', '1026'],
        ['2025-03-05', '1026'],
      ])
    }, 120_000)
  })
}

valuationSuite('pg', true)
valuationSuite('kafka', kafkaTestsEnabled)
valuationSuite('pg', true, 2)
