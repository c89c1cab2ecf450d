import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { PgReads, seriesTotals } from '../query/pg-reads.ts'
import { kafkaTestsEnabled } from '../testing/infra.ts'
import { everyStage, rewritten, rowVersions, settles, startPipeline, type Transport } from '../testing/pipeline.ts'

function timeseriesSuite(transport: Transport, enabled: boolean) {
  describe.if(enabled)(`the whole flow to daily series over ${transport}`, () => {
    let pipeline: Awaited<ReturnType<typeof startPipeline>>
    /** What the series stage reported as freshness, in seconds, and when this suite began. */
    const fresh: number[] = []
    const startedAt = Date.now()
    beforeAll(async () => {
      pipeline = await startPipeline(transport, (parts) => everyStage(parts, (s) => fresh.push(s)))
    }, 120_000)
    afterAll(() => pipeline?.stop())

    const ids = () => ({ P: `P-${pipeline.run}`, S: `S-${pipeline.run}` })
    const series = async () =>
      (
        await pipeline.db
          .sql`select date::text as d, bmv_base::text as b, emv_base::text as e, sod_flow_base::text as s,
                              eod_flow_base::text as f, fees_base::text as fee, complete
                              from portfolio_series where portfolio_id = ${ids().P} order by date`
      ).map((r) => [r.d, r.b, r.e, r.s, r.f, r.fee, r.complete])

    test('deposits, a purchase, a price move, a withdrawal and a fee become the portfolio series', async () => {
      const { P, S } = ids()
      const t = (id: string, fields: Record<string, string>) => ({
        transactionId: `${id}-${P}`,
        portfolioId: P,
        currency: 'USD',
        ...fields,
      })
      await pipeline.send('portfolios', [{ portfolioId: P, baseCurrency: 'USD', openDate: '2025-01-01' }])
      await pipeline.send('instruments', [{ securityId: S, name: 'Stock', currency: 'USD' }])
      await pipeline.send('prices', [
        { securityId: S, date: '2025-01-06', price: '10', currency: 'USD' },
        { securityId: S, date: '2025-01-07', price: '11', currency: 'USD' },
      ])
      await pipeline.send('business-dates', [{ date: '2025-01-08' }])
      await pipeline.send('transactions', [
        t('D1', { type: 'DEPOSIT', tradeDate: '2025-01-06', grossAmount: '10000' }),
        t('B1', { type: 'BUY', tradeDate: '2025-01-06', securityId: S, quantity: '100', price: '10', fee: '5' }),
        t('W1', { type: 'WITHDRAWAL', tradeDate: '2025-01-07', grossAmount: '500' }),
        t('F1', { type: 'FEE', tradeDate: '2025-01-07', grossAmount: '20' }),
      ])
      // Mon: cash 10,000 − 1,005 = 8,995 + stock 1,000 = 9,995 (deposit at the start, fee 5).
      // Tue: cash 8,995 − 500 − 20 = 8,475 + stock 1,100 = 9,575 (withdrawal at the end, fee 20). Wed: unchanged.
      await settles(series, [
        ['2025-01-06', '0', '9995', '10000', '0', '5', true],
        ['2025-01-07', '9995', '9575', '0', '-500', '20', true],
        ['2025-01-08', '9575', '9575', '0', '0', '0', true],
      ])
    }, 120_000)

    test('each series written reports its freshness: the ingest time travelled through every stage', async () => {
      // The first test's inputs went through persist, positions, valuation and series: had a stage
      // dropped the ingest time (`since`), the series stage would have nothing to report.
      expect(fresh.length).toBeGreaterThan(0)
      const elapsedS = (Date.now() - startedAt) / 1000
      expect(fresh.every((s) => s >= 0 && s <= elapsedS)).toBe(true)
    })

    test('a back-dated deposit recomputes the series from its day on', async () => {
      const { P } = ids()
      await pipeline.send('transactions', [
        {
          transactionId: `D2-${P}`,
          portfolioId: P,
          type: 'DEPOSIT',
          tradeDate: '2025-01-07',
          grossAmount: '1000',
          currency: 'USD',
        },
      ])
      // Tue gains 1,000 in cash and a start-of-day flow of 1,000; Wed starts from the new value.
      await settles(series, [
        ['2025-01-06', '0', '9995', '10000', '0', '5', true],
        ['2025-01-07', '9995', '10575', '1000', '-500', '20', true],
        ['2025-01-08', '10575', '10575', '0', '0', '0', true],
      ])
    }, 120_000)

    test('a corrected price changes the days it is in force and the day after, rewriting no flows and no later month', async () => {
      const { P, S } = ids()
      // Into February: the day sums and the series' flows are stored a month a row (sql/0024), and a
      // change that rewrote every day from its date on would rewrite February's rows as well.
      await pipeline.send('business-dates', [{ date: '2025-02-10' }])
      const unchanged = ['0', '0', '0', true]
      await settles(async () => (await series()).at(-1), ['2025-02-10', '10575', '10575', ...unchanged])
      expect((await series()).slice(2, 5)).toEqual([
        ['2025-01-08', '10575', '10575', ...unchanged],
        ['2025-01-09', '10575', '10575', ...unchanged],
        ['2025-01-10', '10575', '10575', ...unchanged],
      ])
      const versions = () =>
        Promise.all([
          rowVersions(pipeline.db.sql, 'portfolio_value_months', P),
          rowVersions(pipeline.db.sql, 'portfolio_series_months', P),
        ])
      const before = await versions()
      expect(before.map((v) => [...v.keys()])).toEqual([
        ['2025-01-01', '2025-02-01'],
        ['2025-01-01', '2025-02-01'],
      ])
      // S on Mon Jan 6: 10 → 10.5, in force until the Jan 7 price. Mon: cash 8,995 + 100 × 10.5 = 10,045;
      // Tue opens on Monday's close (bmv 10,045) and closes as before.
      const observed = fresh.length
      await pipeline.send('prices', [{ securityId: S, date: '2025-01-06', price: '10.5', currency: 'USD' }])
      await settles(
        async () => (await series()).slice(0, 2),
        [
          ['2025-01-06', '0', '10045', '10000', '0', '5', true],
          ['2025-01-07', '10045', '10575', '1000', '-500', '20', true],
        ],
      )
      // The day sums of January are rewritten; the series' own rows are not: a price moves no flow.
      const after = await versions()
      expect(rewritten(before[0] as Map<string, string>, after[0] as Map<string, string>)).toEqual(['2025-01-01'])
      expect(rewritten(before[1] as Map<string, string>, after[1] as Map<string, string>)).toEqual([])
      // The series stage records that the series reflects the price (its lineage read after the
      // price was stored) and reports the change's freshness, though it has nothing to recompute.
      await settles(
        async () =>
          (
            await pipeline.db.sql`
              select l.inputs_as_of >= p.updated_at as reflects from lineage l, prices p
              where l.portfolio_id = ${P} and l.position_id = '' and l.stage = 'timeseries'
                and p.security_id = ${S} and p.date = '2025-01-06'`
          )[0]?.reflects,
        true,
      )
      expect(fresh.length).toBeGreaterThan(observed)
    }, 120_000)

    test('the query API reads the flows with the day sums beside them: a bmv from the month before, and period totals', async () => {
      const reads = new PgReads(pipeline.db.sql)
      const { P } = ids()
      // Feb 3 is February's first series day: its bmv is Jan 31's emv, read from January's months.
      expect(await reads.portfolioSeries(P, { from: '2025-02-03', to: '2025-02-03' })).toEqual([
        {
          date: '2025-02-03',
          bmvBase: '10575',
          emvBase: '10575',
          sodFlowBase: '0',
          eodFlowBase: '0',
          feesBase: '0',
          incomeBase: '0',
          complete: true,
        },
      ])
      // By hand, Jan 6-7 (the series above): Mon 10,045 - 0 - 10,000 = 45 (the stock at 10.5 on a
      // cost of 1,000, less the fee of 5); Tue 10,575 - 10,045 - 1,000 - (-500) = 30 (the stock
      // from 10.5 to 11, less the fee of 20). Fees 5 + 20; deposits 10,000 + 1,000; withdrawal 500.
      const days = { from: '2025-01-06', to: '2025-01-07' }
      // Summed from a series read wider than the days, as the review sums its YTD from the series since inception.
      const series = await reads.portfolioSeries(P, { from: '2025-01-01', to: '2025-02-10' })
      expect({ ...seriesTotals(series, days), ...(await reads.externalSums(P, days)) }).toEqual({
        pnl: '75',
        income: '0',
        fees: '25',
        deposits: '11000',
        withdrawals: '-500',
      })
    })

    test('a change recomputes the days its flows moved; one that moves where the series starts, every day from its date', async () => {
      // Q deposits 1,000 on Mon Jan 6 and 500 on Wed Jan 8 (business date Feb 10): its series starts Jan 6.
      const Q = `Q-${pipeline.run}`
      const deposit = (id: string, tradeDate: string, grossAmount: string) => ({
        transactionId: `${id}-${Q}`,
        portfolioId: Q,
        type: 'DEPOSIT',
        tradeDate,
        grossAmount,
        currency: 'USD',
      })
      const points = async () =>
        (
          await pipeline.db.sql`select date::text as d, bmv_base::text as b, emv_base::text as e,
                                       sod_flow_base::text as s from portfolio_series
                                where portfolio_id = ${Q} and date <= '2025-01-14' order by date`
        ).map((r) => [r.d, r.b, r.e, r.s])
      await pipeline.send('portfolios', [{ portfolioId: Q, baseCurrency: 'USD', openDate: '2025-01-01' }])
      await pipeline.send('transactions', [deposit('QD1', '2025-01-06', '1000'), deposit('QD2', '2025-01-08', '500')])
      await settles(points, [
        ['2025-01-06', '0', '1000', '1000'],
        ['2025-01-07', '1000', '1000', '0'],
        ['2025-01-08', '1000', '1500', '500'],
        ['2025-01-09', '1500', '1500', '0'],
        ['2025-01-10', '1500', '1500', '0'],
        ['2025-01-13', '1500', '1500', '0'],
        ['2025-01-14', '1500', '1500', '0'],
      ])
      // 200 more on Sat Jan 11: a flow of the weekend counts on Monday, the only day whose flows moved.
      await pipeline.send('transactions', [deposit('QD3', '2025-01-11', '200')])
      await settles(
        async () => (await points()).slice(4),
        [
          ['2025-01-10', '1500', '1500', '0'],
          ['2025-01-13', '1500', '1700', '200'],
          ['2025-01-14', '1700', '1700', '0'],
        ],
      )
      // The first deposit corrected to Wed Jan 8: the series now starts there (1,500 in that day);
      // Jan 6 and 7 go, though no flow of Jan 7 moved.
      await pipeline.send('transactions', [deposit('QD1', '2025-01-08', '1000')])
      await settles(points, [
        ['2025-01-08', '0', '1500', '1500'],
        ['2025-01-09', '1500', '1500', '0'],
        ['2025-01-10', '1500', '1500', '0'],
        ['2025-01-13', '1500', '1700', '200'],
        ['2025-01-14', '1700', '1700', '0'],
      ])
    }, 120_000)

    test('the business date moved back: the series ends on it, the later points gone', async () => {
      await pipeline.send('business-dates', [{ date: '2025-01-08' }])
      await settles(async () => (await series()).map((p) => p[0]), ['2025-01-06', '2025-01-07', '2025-01-08'])
    }, 120_000)
  })
}

timeseriesSuite('pg', true)
timeseriesSuite('kafka', kafkaTestsEnabled)
