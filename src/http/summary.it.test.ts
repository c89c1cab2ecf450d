import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Static } from '@sinclair/typebox'
import { Elysia } from 'elysia'
import type { SummaryView } from '../query/views.ts'
import { everyStage, settles, startPipeline } from '../testing/pipeline.ts'
import type { ErrorBody } from './errors.ts'
import { queryRoutes } from './query.ts'

/**
 * The portfolio summary over what the real pipeline stored, through HTTP; every figure by hand.
 *
 * Portfolio S (EUR), the week of Monday 2025-01-06:
 *   Mon  deposit 10,000 (SOD); buy A 100 @ 50 with a fee of 10 (cost 5,010, cash −5,010);
 *        transfer in B 20 @ 100 (cost and value 2,000, SOD)
 *   Tue  dividend on A 100, withholding 15 (cash +85)
 *   Wed  fee 20; OTHER +7 (a rebate: cash only, so P&L)
 *   Thu  sell A 40 @ 55, fee 5: proceeds 2,195; FIFO cost removed 5,010 × 40/100 = 2,004; realized 191
 *        tax 30
 *   Fri  transfer out B 5 @ 110: value 550 (EOD), cost removed 2,000 × 5/20 = 500; withdrawal 1,000 (EOD)
 *   prices  A: 50 52 51 55 56   B: 100 101 103 104 106
 *   cash    Mon 4,990  Tue 5,075  Wed 5,062  Thu 5,062 + 2,195 − 30 = 7,227  Fri 6,227
 *   EMV     Mon 5,000 + 2,000 + 4,990 = 11,990      Tue 5,200 + 2,020 + 5,075 = 12,295
 *           Wed 5,100 + 2,060 + 5,062 = 12,222      Thu 60 × 55 + 2,080 + 7,227 = 12,607
 *           Fri 60 × 56 + 15 × 106 + 6,227 = 3,360 + 1,590 + 6,227 = 11,177
 *   unrealized  Mon: A 5,000 − 5,010 = −10, B 0            → −10
 *               Fri: A 3,360 − 3,006 = 354, B 1,590 − 1,500 = 90 → 444
 */
describe('the portfolio summary: P&L = end − start − net new money, split so that it reconciles', () => {
  let pipeline: Awaited<ReturnType<typeof startPipeline>>
  let app: Elysia
  const ids = () => ({ S: `S-${pipeline.run}`, A: `SA-${pipeline.run}`, B: `SB-${pipeline.run}` })
  const get = async <T = ErrorBody>(path: string) => {
    const res = await app.handle(new Request(`http://localhost${path}`))
    return { status: res.status, body: (await res.json()) as T }
  }

  beforeAll(async () => {
    pipeline = await startPipeline('pg', everyStage)
    app = new Elysia().use(queryRoutes(pipeline.db.sql)) as unknown as Elysia
    const { S, A, B } = ids()
    const days = ['2025-01-06', '2025-01-07', '2025-01-08', '2025-01-09', '2025-01-10']
    const prices = (id: string, values: number[]) =>
      values.map((p, i) => ({ securityId: id, date: days[i], price: String(p), currency: 'EUR' }))
    await pipeline.send('portfolios', [{ portfolioId: S, baseCurrency: 'EUR', openDate: '2025-01-06' }])
    await pipeline.send('instruments', [
      { securityId: A, name: 'A shares', currency: 'EUR', assetClass: 'Equity', sector: 'Tech', issuerId: 'IA' },
      { securityId: B, name: 'B fund', currency: 'EUR', assetClass: 'Fund', rating: 'AA', issuerId: 'IB' },
    ])
    await pipeline.send('prices', [...prices(A, [50, 52, 51, 55, 56]), ...prices(B, [100, 101, 103, 104, 106])])
    await pipeline.send('business-dates', [{ date: '2025-01-10' }])
    const t = (id: string, tradeDate: string, fields: Record<string, string>) => ({
      transactionId: `${id}-${S}`,
      portfolioId: S,
      currency: 'EUR',
      tradeDate,
      ...fields,
    })
    await pipeline.send('transactions', [
      t('DEP', days[0] as string, { type: 'DEPOSIT', grossAmount: '10000' }),
      t('BUY', days[0] as string, { type: 'BUY', securityId: A, quantity: '100', price: '50', fee: '10' }),
      t('TIN', days[0] as string, { type: 'TRANSFER_IN', securityId: B, quantity: '20', price: '100' }),
      t('DIV', days[1] as string, { type: 'DIVIDEND', securityId: A, grossAmount: '100', fee: '15' }),
      t('FEE', days[2] as string, { type: 'FEE', grossAmount: '20' }),
      t('OTH', days[2] as string, { type: 'OTHER', grossAmount: '7' }),
      t('SELL', days[3] as string, { type: 'SELL', securityId: A, quantity: '40', price: '55', fee: '5' }),
      t('TAX', days[3] as string, { type: 'TAX', grossAmount: '30' }),
      t('TOUT', days[4] as string, { type: 'TRANSFER_OUT', securityId: B, quantity: '5', price: '110' }),
      t('WDR', days[4] as string, { type: 'WITHDRAWAL', grossAmount: '1000' }),
    ])
    const complete = async () =>
      (await pipeline.db.sql`select count(*)::int as n from portfolio_series where portfolio_id = ${S} and complete`)[0]
        ?.n
    await settles(complete, 5)
  }, 120_000)
  afterAll(() => pipeline?.stop())

  const money = (x: number) => x.toFixed(2)

  test('Tuesday to Friday: a transfer in and out, a dividend, a fee, a tax, an OTHER and a partial sale', async () => {
    const { S } = ids()
    const res = await get<Static<typeof SummaryView>>(`/v1/portfolios/${S}/summary?from=2025-01-07&to=2025-01-10`)
    expect(res.status).toBe(200)
    const b = res.body
    expect([b.from, b.to, b.currency]).toEqual(['2025-01-07', '2025-01-10', 'EUR'])
    // Start: Monday's close.
    expect(b.wealth).toEqual({ start: '11990.00', end: '11177.00', cashEnd: '6227.00' })
    // Money that left: the transfer out at its value, the withdrawal.
    expect(b.netNewMoney).toEqual({
      total: '-1550.00',
      deposits: '0.00',
      withdrawals: '-1000.00',
      transfersIn: '0.00',
      transfersOut: '-550.00',
    })
    // P&L = 11,177 − 11,990 + 1,550 = 737 = the daily P&L 305 − 73 + 385 + 120.
    // Split: realized 191; unrealized 444 − (−10) = 454; income 85; fee −20; tax −30;
    // other 737 − 680 = 57: the transfer out's value over its cost (550 − 500) and the OTHER's 7.
    const lines = { realized: 191, unrealizedChange: 454, income: 85, fees: -20, taxes: -30, other: 57 }
    expect(b.pnl).toEqual({
      total: money(737),
      ...Object.fromEntries(Object.entries(lines).map(([k, v]) => [k, money(v)])),
    } as typeof b.pnl)
    expect(Object.values(lines).reduce((a, x) => a + x, 0)).toBe(737)
    expect(b.income).toEqual({ dividends: '85.00', interest: '0.00', withholding: '15.00' })
    // Monday's buy fee is before the period; Thursday's sale paid 5.
    expect(b.costs).toEqual({ fees: '20.00', taxes: '30.00', tradingFees: '5.00' })
    // An expense is a fee through and through (as in the series' fees): its fees are its amount.
    expect(b.activity).toEqual([
      { type: 'SELL', count: 1, amount: '2195.00', fees: '5.00' },
      { type: 'DIVIDEND', count: 1, amount: '85.00', fees: '15.00' },
      { type: 'FEE', count: 1, amount: '-20.00', fees: '20.00' },
      { type: 'TAX', count: 1, amount: '-30.00', fees: '30.00' },
      { type: 'WITHDRAWAL', count: 1, amount: '-1000.00', fees: '0.00' },
      { type: 'TRANSFER_OUT', count: 1, amount: '-550.00', fees: '0.00' },
      { type: 'OTHER', count: 1, amount: '7.00', fees: '0.00' },
    ])
    // At Friday's close: cash 6,227, A 3,360, B 1,590 of 11,177.
    expect(b.allocation.assetClass.map((a) => [a.key, a.value])).toEqual([
      ['Cash', '6227.00'],
      ['Equity', '3360.00'],
      ['Fund', '1590.00'],
    ])
    expect(b.allocation.assetClass[0]?.weight).toBeCloseTo(6227 / 11177, 12)
    expect(b.allocation.rating.map((a) => [a.key, a.value])).toEqual([
      ['Cash', '6227.00'],
      ['Unrated', '3360.00'],
      ['AA', '1590.00'],
    ])
  })

  test('the default period is YTD, from inception here: the deposit and the transfer in are new money', async () => {
    const { S } = ids()
    const res = await get<Static<typeof SummaryView>>(`/v1/portfolios/${S}/summary`)
    expect(res.status).toBe(200)
    const b = res.body
    expect([b.from, b.to]).toEqual(['2025-01-06', '2025-01-10'])
    // Start 0 (before inception); new money 10,000 + 2,000 − 550 − 1,000 = 10,450;
    // P&L 11,177 − 10,450 = 727 = Monday's −10 (the buy fee, unrealized) + Tuesday to Friday's 737.
    expect(b.wealth.start).toBe('0.00')
    expect(b.netNewMoney).toMatchObject({ total: '10450.00', deposits: '10000.00', transfersIn: '2000.00' })
    expect(b.pnl).toEqual({
      total: '727.00',
      realized: '191.00',
      unrealizedChange: '444.00',
      income: '85.00',
      fees: '-20.00',
      taxes: '-30.00',
      other: '57.00',
    })
    expect(b.costs.tradingFees).toBe('15.00') // 10 on the buy, 5 on the sale
  })

  test('a period ending on a weekend ends on the Friday; bad periods are 4xx naming the field', async () => {
    const { S } = ids()
    const weekend = await get<Static<typeof SummaryView>>(`/v1/portfolios/${S}/summary?from=2025-01-07&to=2025-01-12`)
    expect(weekend.status).toBe(200)
    expect([weekend.body.to, weekend.body.pnl.total]).toEqual(['2025-01-10', '737.00'])
    const before = await get(`/v1/portfolios/${S}/summary?from=2024-12-01&to=2025-01-10`)
    expect([before.status, before.body.field]).toEqual([422, 'from'])
    const reversed = await get(`/v1/portfolios/${S}/summary?from=2025-01-09&to=2025-01-07`)
    expect([reversed.status, reversed.body.field]).toEqual([400, 'from'])
    const preset = await get(`/v1/portfolios/${S}/summary?period=1Y`)
    expect([preset.status, preset.body.field]).toEqual([422, 'period'])
    expect((await get('/v1/portfolios/nobody/summary')).status).toBe(404)
  })
})
