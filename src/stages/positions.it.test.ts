import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { PgInputStore } from '../adapters/pg-input-store.ts'
import { PgPositionStore } from '../adapters/pg-position-store.ts'
import { kafkaTestsEnabled } from '../testing/infra.ts'
import { runId, settles, startPipeline, type Transport, until } from '../testing/pipeline.ts'
import { replayDeadLetters } from '../tools/ops.ts'
import { persistStage } from './persist.ts'
import { positionsStage } from './positions.ts'

function positionsSuite(transport: Transport, enabled: boolean) {
  describe.if(enabled)(`positions stage over ${transport}`, () => {
    let pipeline: Awaited<ReturnType<typeof startPipeline>>
    // Ids carry the run, to tell this run's records from others' in a shared broker's logs.
    const run = runId(transport)
    const P = `P-${run}`
    const S = `S-${run}`
    beforeAll(async () => {
      pipeline = await startPipeline(
        transport,
        ({ db, log, writer }) => [
          persistStage({ store: new PgInputStore(db.sql), log }),
          positionsStage({ store: new PgPositionStore(db.sql, writer()), log, deadLetters: new PgInputStore(db.sql) }),
        ],
        run,
      )
    }, 120_000)
    afterAll(() => pipeline?.stop())
    const send = (path: string, records: unknown[]) => pipeline.send(path, records)

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
      const rows = await pipeline.db.sql`
        select distinct on (position_id) position_id, quantity::text as q, cost_local::text as cl, cost_base::text as cb,
               realized_local::text as rl, realized_base::text as rb
        from position_history where portfolio_id = ${P} order by position_id, date desc, seq desc`
      return Object.fromEntries(
        rows.map((r) => [r.position_id === S ? 'security' : r.position_id, [r.q, r.cl, r.cb, r.rl, r.rb]]),
      )
    }
    const settlesAt = (expected: Record<string, string[]>) => settles(latest, expected)

    // CHF base; CHF/USD 1.25, so a USD amount is worth 0.8 of it in CHF.
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
      await settlesAt({
        security: ['50', '600', '480', '637.5', '510'],
        'CASH:USD': ['10037.5', '10037.5', '8030', '0', '0'],
      })
      const flows = await pipeline.db
        .sql`select class, timing, amount_base::text as b from cashflows where portfolio_id = ${P} order by date`
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
      await settlesAt(expected)
      const count = async () =>
        (await pipeline.db.sql`select count(*)::int as n from position_history where portfolio_id = ${P}`)[0]?.n
      const rowsBefore = await count()
      const [persisted, computed] = [pipeline.processed('persist'), pipeline.processed('positions')]
      await send('transactions', [deposit, buy1, buy2, sale])
      // Persist took the four again, and positions recomputed from their notice: then compare.
      await until(
        async () =>
          pipeline.processed('persist') >= persisted + 4 && pipeline.processed('positions') >= computed + 1
            ? true
            : undefined,
        'the redelivery to go through',
      )
      expect(await latest()).toEqual(expected)
      expect(await count()).toBe(rowsBefore)
    }, 120_000)

    test('a sale beyond the holding is rejected with its reason and leaves positions as they were', async () => {
      await send('transactions', [trade('S2', 'SELL', '2025-01-13', '1000', '15')])
      const rejection = async () =>
        (await pipeline.db.sql`select code, reason from transaction_rejections where portfolio_id = ${P}`).map((r) => [
          r.code,
          r.reason.includes('1000'),
        ])
      await settles(rejection, [['INSUFFICIENT_QUANTITY', true]])
      expect((await latest()).security).toEqual(['150', '1702.5', '1362', '940', '752'])
    }, 120_000)

    test('a portfolio the engine cannot compute is parked as a dead letter; the others go on; a replay after the fix computes it; a CANCEL of its transaction from another portfolio is rejected', async () => {
      const Q = `Q-${run}`
      const { sql } = pipeline.db
      await send('portfolios', [{ portfolioId: Q, baseCurrency: 'USD', openDate: '2025-01-01' }])
      // A row no ingest would accept, written past the API: the engine cannot read its amount.
      const bad = { ...deposit, transactionId: `BAD-${run}`, portfolioId: Q, grossAmount: 'lots' }
      await sql`insert into transactions (transaction_id, portfolio_id, type, trade_date, record)
        values (${bad.transactionId}, ${Q}, 'DEPOSIT', '2025-01-02', ${sql.json(bad)})`
      const qDeposit = { ...deposit, transactionId: `DQ-${run}`, portfolioId: Q, grossAmount: '500' }
      await send('transactions', [qDeposit, { ...deposit, transactionId: `D2-${run}`, grossAmount: '100' }])
      // P goes on: USD 9,237.50 + 100.
      await settles(async () => (await latest())['CASH:USD']?.[0], '9337.5')
      const [letter] = await until(async () => {
        const rows =
          await sql`select id, code, reason, payload from dead_letters where stage = 'positions' and key = ${Q}`
        return rows.length > 0 ? rows : undefined
      }, 'the parked portfolio')
      expect(letter?.code).toBe('COMPUTE_FAILED')
      expect(letter?.reason).toContain('lots')
      expect(JSON.parse(letter?.payload)).toMatchObject({ portfolioId: Q })

      await sql`delete from transactions where transaction_id = ${bad.transactionId}`
      expect(await replayDeadLetters(sql, pipeline.log, { ids: [String(letter?.id)] }, () => {})).toBe(0)
      const qCash = async () =>
        (
          await sql`select quantity::text as q from position_history where portfolio_id = ${Q} order by date desc, seq desc limit 1`
        )[0]?.q
      await settles(qCash, '500')

      // A CANCEL in P naming Q's deposit is P's rejection; Q's deposit stands.
      await send('transactions', [
        {
          transactionId: `XC-${run}`,
          portfolioId: P,
          type: 'CANCEL',
          tradeDate: '2025-01-14',
          cancels: qDeposit.transactionId,
          currency: 'USD',
        },
      ])
      const cancelRejected = async () =>
        (await sql`select code, reason from transaction_rejections where transaction_id = ${`XC-${run}`}`).map((r) => [
          r.code,
          r.reason.includes(P),
        ])
      await settles(cancelRejected, [['UNKNOWN_CANCEL_TARGET', true]])
      expect(await qCash()).toBe('500')
    }, 120_000)

    test('a CANCEL that arrives before its later-dated target takes effect when the target comes; a CANCEL of a CANCEL is rejected', async () => {
      const { sql } = pipeline.db
      const id = (x: string) => `${x}-${run}`
      const cancel = (x: string, date: string, cancels: string) => ({
        transactionId: id(x),
        portfolioId: P,
        type: 'CANCEL',
        tradeDate: date,
        cancels,
        currency: 'USD',
      })
      const codes = async () =>
        Object.fromEntries(
          (
            await sql`select transaction_id, code from transaction_rejections
                      where transaction_id = any(${[id('EC'), id('CC')]}::text[])`
          ).map((r) => [r.transaction_id, r.code]),
        )
      const cash = async () => (await latest())['CASH:USD']?.[0]
      expect(await cash()).toBe('9337.5')
      // Jan 15: cancel LT, which nobody has sent yet.
      await send('transactions', [cancel('EC', '2025-01-15', id('LT'))])
      await settles(codes, { [id('EC')]: 'UNKNOWN_CANCEL_TARGET' })
      // LT arrives, dated Jan 20 (after the CANCEL): a deposit of 999 that never counts, and the
      // CANCEL's rejection (dated Jan 15, before LT) goes. Main recomputed only from Jan 20 on.
      await send('transactions', [{ ...deposit, transactionId: id('LT'), tradeDate: '2025-01-20', grossAmount: '999' }])
      await settles(codes, {})
      expect(await cash()).toBe('9337.5')
      // Cancelling the CANCEL does not bring LT back: the CANCEL of a CANCEL is refused.
      await send('transactions', [cancel('CC', '2025-01-21', id('EC'))])
      await settles(codes, { [id('CC')]: 'CANCEL_OF_CANCEL' })
      expect(await cash()).toBe('9337.5')
      const rows = await sql`select count(*)::int as n from position_history where transaction_id = ${id('LT')}`
      expect(rows[0]?.n).toBe(0)
    }, 120_000)
  })
}

positionsSuite('pg', true)
positionsSuite('kafka', kafkaTestsEnabled)
