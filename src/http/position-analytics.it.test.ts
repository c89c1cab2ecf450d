import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Static } from '@sinclair/typebox'
import { Elysia } from 'elysia'
import type { PositionAnalyticsView } from '../query/views.ts'
import { everyStage, settles, startPipeline } from '../testing/pipeline.ts'
import type { ErrorBody } from './errors.ts'
import { queryRoutes } from './query.ts'

/**
 * Position analytics over what the real pipeline stored, through HTTP; every figure by hand.
 *
 * Portfolio X (EUR) holds V, a USD share, and USD cash. USD→EUR 0.90 on Monday, 0.95 from Tuesday.
 *   Mon 2025-01-06  deposit USD 600 (= EUR 540); buy 10 V @ 50 + fee 1: cost USD 501 = EUR 450.90;
 *                   USD cash 99 (base cost 540 − 450.90 = 89.10)
 *   Thu             dividend on V USD 10, withholding 1.50: USD 8.50 = EUR 8.075 into USD cash
 *   V's prices      Mon 50, Tue 52, Wed 52, Thu 55, Fri 54
 *   V in EUR        Mon 500 × 0.90 = 450; Tue 520 × 0.95 = 494; Wed 494; Thu 550 × 0.95 = 522.50; Fri 540 × 0.95 = 513
 * Tuesday to Friday, V:
 *   local (USD) returns  Tue 52/50 − 1 = 4 %; Wed 0; Thu (550 + 8.50 − 520) / 520 = 38.5/520; Fri 540/550 − 1
 *   base (EUR)           Tue 494/450 − 1 = (1.04)(0.95/0.90) − 1 (the rate moved +5.5556 % overnight); Wed 0;
 *                        Thu (522.50 + 8.075 − 494) / 494 (= the local return: the rate stood); Fri 513/522.50 − 1
 *   so 1 + twrBase = (1 + twrLocal) × 0.95/0.90.
 * USD cash: 99 × 0.90 = 89.10 on Monday, 94.05 on Tuesday (the rate), then 107.50 × 0.95 = 102.125 with
 * the dividend as a flow into it: base TWR 0.95/0.90 − 1, local 0.
 */
describe('position analytics: holdings, income and fees, TWR in base and local currency', () => {
  let pipeline: Awaited<ReturnType<typeof startPipeline>>
  let app: Elysia
  const ids = () => ({ X: `X-${pipeline.run}`, V: `V-${pipeline.run}` })
  const get = async <T = ErrorBody>(path: string) => {
    const res = await app.handle(new Request(`http://localhost${path}`))
    return { status: res.status, body: (await res.json()) as T }
  }

  beforeAll(async () => {
    pipeline = await startPipeline('pg', everyStage)
    app = new Elysia().use(queryRoutes(pipeline.db.sql)) as unknown as Elysia
    const { X, V } = ids()
    const days = ['2025-01-06', '2025-01-07', '2025-01-08', '2025-01-09', '2025-01-10']
    await pipeline.send('portfolios', [{ portfolioId: X, baseCurrency: 'EUR', openDate: '2025-01-06' }])
    await pipeline.send('instruments', [{ securityId: V, name: 'V shares', currency: 'USD', assetClass: 'Equity' }])
    await pipeline.send('fx-rates', [
      { from: 'USD', to: 'EUR', date: '2025-01-06', rate: '0.9' },
      { from: 'USD', to: 'EUR', date: '2025-01-07', rate: '0.95' },
    ])
    await pipeline.send(
      'prices',
      [50, 52, 52, 55, 54].map((p, i) => ({ securityId: V, date: days[i], price: String(p), currency: 'USD' })),
    )
    await pipeline.send('business-dates', [{ date: '2025-01-10' }])
    const t = (id: string, tradeDate: string, fields: Record<string, string>) => ({
      transactionId: `${id}-${X}`,
      portfolioId: X,
      currency: 'USD',
      tradeDate,
      ...fields,
    })
    await pipeline.send('transactions', [
      t('DEP', '2025-01-06', { type: 'DEPOSIT', grossAmount: '600' }),
      t('BUY', '2025-01-06', { type: 'BUY', securityId: V, quantity: '10', price: '50', fee: '1' }),
      t('DIV', '2025-01-09', { type: 'DIVIDEND', securityId: V, grossAmount: '10', fee: '1.5' }),
    ])
    await settles(
      async () =>
        (
          await pipeline.db.sql`select count(*)::int as n from portfolio_series where portfolio_id = ${X} and complete`
        )[0]?.n,
      5,
    )
  }, 120_000)
  afterAll(() => pipeline?.stop())

  test('Tuesday to Friday: the share’s return in USD and in EUR, the FX part the difference; USD cash is all FX', async () => {
    const { X, V } = ids()
    const res = await get<Static<typeof PositionAnalyticsView>>(
      `/v1/portfolios/${X}/position-analytics?from=2025-01-07&to=2025-01-10`,
    )
    expect(res.status).toBe(200)
    expect([res.body.from, res.body.to, res.body.currency]).toEqual(['2025-01-07', '2025-01-10', 'EUR'])
    const byId = new Map(res.body.positions.map((p) => [p.positionId, p]))
    const v = byId.get(V)
    const local = 1.04 * 1 * (1 + 38.5 / 520) * (540 / 550) - 1
    const base = (494 / 450) * (494 / 494) * (1 + (522.5 + 8.075 - 494) / 494) * (513 / 522.5) - 1
    expect(v?.twrLocal).toBeCloseTo(local, 12)
    expect(v?.twrBase).toBeCloseTo(base, 12)
    expect(1 + (v?.twrBase ?? 0)).toBeCloseTo((1 + local) * (0.95 / 0.9), 12)
    expect(v?.twrFx).toBeCloseTo(base - local, 12)
    // Total on Friday: V 513 + cash 107.50 × 0.95 = 102.125 → 615.125.
    expect(v).toMatchObject({
      name: 'V shares',
      assetClass: 'Equity',
      currency: 'USD',
      heldSince: '2025-01-06',
      quantity: '10',
      costLocal: '501.00',
      costBase: '450.90',
      marketValueLocal: '540.00',
      marketValueBase: '513.00',
      unrealizedLocal: '39.00',
      unrealizedBase: '62.10',
      incomeLocal: '8.50',
      incomeBase: '8.08', // 8.075, half-even to the cent
      feesLocal: '0.00', // the buy's fee was Monday, before the period
      feesBase: '0.00',
    })
    expect(v?.weight).toBeCloseTo(513 / 615.125, 12)
    const cash = byId.get('CASH:USD')
    expect(cash).toMatchObject({
      assetClass: 'Cash',
      heldSince: '2025-01-06',
      quantity: '107.5',
      costLocal: '107.50',
      costBase: '97.18', // 89.10 + 8.075 = 97.175, half-even
      marketValueBase: '102.12', // 102.125, half-even: to the even cent
      unrealizedLocal: '0.00',
      unrealizedBase: '4.95', // 102.125 − 97.175: the rate's move on the USD 99 held since Monday
    })
    expect(cash?.twrBase).toBeCloseTo(0.95 / 0.9 - 1, 12)
    expect(cash?.twrLocal).toBeCloseTo(0, 12)
    expect(cash?.weight).toBeCloseTo(102.125 / 615.125, 12)
  })

  test('the whole week by default (YTD from inception): the buy’s fee is in the period', async () => {
    const { X, V } = ids()
    const res = await get<Static<typeof PositionAnalyticsView>>(`/v1/portfolios/${X}/position-analytics`)
    expect(res.status).toBe(200)
    const v = res.body.positions.find((p) => p.positionId === V)
    expect([res.body.from, v?.feesLocal, v?.feesBase]).toEqual(['2025-01-06', '1.00', '0.90'])
    // Monday: bought for EUR 450.90 (the fee in), worth 450: −0.9 / 450.90; in USD −1 / 501.
    expect(v?.twrLocal).toBeCloseTo((1 - 1 / 501) * (1.04 * (1 + 38.5 / 520) * (540 / 550)) - 1, 12)
    const bad = await get(`/v1/portfolios/${X}/position-analytics?from=2025-01-09&to=2025-01-07`)
    expect([bad.status, bad.body.field]).toEqual([400, 'from'])
  })
})
