import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Static } from '@sinclair/typebox'
import { Elysia } from 'elysia'
import { fromEpochDay, toEpochDay } from '../domain/dates.ts'
import type { PerformanceView, ReviewView } from '../query/views.ts'
import { everyStage, settles, startPipeline } from '../testing/pipeline.ts'
import { queryRoutes } from './query.ts'

/**
 * Six years of daily data through the pipeline (embedded PostgreSQL, the pg log), and the 1Y, 3Y,
 * 5Y and SI presets answered from the stored rows. Worked by hand:
 *
 * Portfolio H (USD) opens 2019-01-02: deposit 10,000 and buy 100 S @ 100 (cash 0). On 2023-01-03 a
 * deposit of 5,000 (start of day) stays in cash. S closes every business day at a price that only
 * changes on July 1st: 100 (2019 H1), 110, 99, 120, 150, 135, 162 (from 2024-07-01). So every
 * preset's start, early in January, falls on a flat stretch, and the business date is 2025-01-03.
 *
 *   value  2019-01-02 10,000 │ 2020-01-03 11,000 │ 2022-01-03 12,000 │ 2023-01-02 15,000
 *          2023-01-03 20,000 (the deposit) │ 2023-07-01 13,500 + 5,000 = 18,500 │ 2024-07-01 16,200 + 5,000 = 21,200
 *   TWR links the stretches between flows (the deposit day itself returns 0):
 *     after the deposit, 2023-01-03 → 2025-01-03: 21,200 / 20,000 = 1.06
 *     SI  (from 2019-01-02): 15,000 / 10,000 × 1.06 − 1 = 0.59
 *     5Y  (2020-01-04 on, from the close of 2020-01-03): 15,000 / 11,000 × 1.06 − 1 = 0.44545…
 *     3Y  (2022-01-04 on): 15,000 / 12,000 × 1.06 − 1 = 0.325
 *     1Y  (2024-01-04 on): 21,200 / 18,500 − 1 = 0.145945…
 *   calendar years: 2020 99 / 110 − 1 = −0.1; 2021 120 / 99 − 1; 2022 150 / 120 − 1 = 0.25;
 *     2023 18,500 / 20,000 − 1 = −0.075; 2024 21,200 / 18,500 − 1.
 */
describe('six years of daily history through the pipeline', () => {
  let pipeline: Awaited<ReturnType<typeof startPipeline>>
  let app: Elysia
  const H = 'H'
  const S = 'S'
  const businessDate = '2025-01-03'
  const get = async <T>(path: string) => {
    const res = await app.handle(new Request(`http://localhost${path}`))
    expect(res.status).toBe(200)
    return (await res.json()) as T
  }
  const steps: [string, string][] = [
    ['2019-01-01', '100'],
    ['2019-07-01', '110'],
    ['2020-07-01', '99'],
    ['2021-07-01', '120'],
    ['2022-07-01', '150'],
    ['2023-07-01', '135'],
    ['2024-07-01', '162'],
  ]
  const priceOn = (date: string) => steps.filter(([from]) => from <= date).at(-1)?.[1] as string
  const businessDays: string[] = []
  for (let d = toEpochDay('2019-01-02'); d <= toEpochDay(businessDate); d++) {
    const weekday = new Date(d * 86_400_000).getUTCDay()
    if (weekday !== 0 && weekday !== 6) businessDays.push(fromEpochDay(d))
  }

  beforeAll(async () => {
    pipeline = await startPipeline('pg', everyStage)
    app = new Elysia().use(queryRoutes(pipeline.db.sql)) as unknown as Elysia
    await pipeline.send('portfolios', [{ portfolioId: H, baseCurrency: 'USD', openDate: '2019-01-02' }])
    await pipeline.send('instruments', [{ securityId: S, name: 'Stock', currency: 'USD', assetClass: 'Equity' }])
    const prices = businessDays.map((date) => ({ securityId: S, date, price: priceOn(date), currency: 'USD' }))
    for (let i = 0; i < prices.length; i += 500) await pipeline.send('prices', prices.slice(i, i + 500))
    // Every price stored before the transactions: a day valued while later prices were still on
    // their way took the last one stored (150 on the business date), complete all the same, and
    // the series could be read in that state before the late prices revalued it.
    await settles(
      async () => (await pipeline.db.sql`select count(*)::int as n from prices where security_id = ${S}`)[0]?.n,
      prices.length,
      120_000,
    )
    const deposit = (id: string, date: string, amount: string) => ({
      transactionId: id,
      portfolioId: H,
      type: 'DEPOSIT',
      tradeDate: date,
      grossAmount: amount,
      currency: 'USD',
    })
    await pipeline.send('transactions', [
      deposit('D1', '2019-01-02', '10000'),
      {
        transactionId: 'B1',
        portfolioId: H,
        type: 'BUY',
        tradeDate: '2019-01-02',
        securityId: S,
        quantity: '100',
        price: '100',
        currency: 'USD',
      },
      deposit('D2', '2023-01-03', '5000'),
    ])
    await pipeline.send('business-dates', [{ date: businessDate }])
    const last = async () =>
      (
        await pipeline.db.sql`select count(*)::int as n, max(date)::text as last, bool_and(complete) as complete
                              from portfolio_series where portfolio_id = ${H}`
      )[0]
    await settles(last, { n: businessDays.length, last: businessDate, complete: true }, 120_000)
  }, 240_000)
  afterAll(() => pipeline?.stop())

  test('the series holds every business day of six years, valued from stored rows', async () => {
    expect(businessDays.length).toBeGreaterThan(6 * 260)
    const [end] = await pipeline.db.sql`select emv_base::text as emv from portfolio_series
                                        where portfolio_id = ${H} and date = ${businessDate}`
    expect(end?.emv).toBe('21200')
  })

  test('TWR for 1Y, 3Y, 5Y and SI equals the hand-worked figures; past a year it is annualized on 365 days', async () => {
    const twr = async (preset: string) =>
      (await get<Static<typeof PerformanceView>>(`/v1/portfolios/${H}/performance?period=${preset}&frequency=none`)).twr
    const si = await twr('SI')
    const fiveY = await twr('5Y')
    const threeY = await twr('3Y')
    const oneY = await twr('1Y')
    expect(si.cumulative).toBeCloseTo(0.59, 12)
    expect(fiveY.cumulative).toBeCloseTo((15_000 / 11_000) * 1.06 - 1, 12)
    expect(threeY.cumulative).toBeCloseTo(0.325, 12)
    expect(oneY.cumulative).toBeCloseTo(21_200 / 18_500 - 1, 12)
    // 3Y: 2022-01-04 to 2025-01-03 is 1,096 days (2024 is a leap year): 1.325^(365 / 1,096) − 1.
    expect(threeY.days).toBe(1096)
    expect(threeY.annualized).toBeCloseTo(1.325 ** (365 / 1096) - 1, 12)
    expect(oneY.annualized).toBeNull()
  })

  test('calendar-year returns over the whole history', async () => {
    const body = await get<Static<typeof PerformanceView>>(`/v1/portfolios/${H}/performance?period=SI&frequency=yearly`)
    const byYear = Object.fromEntries(body.series.map((s) => [s.period.slice(0, 4), s.r]))
    expect(byYear['2020']).toBeCloseTo(-0.1, 12)
    expect(byYear['2021']).toBeCloseTo(120 / 99 - 1, 12)
    expect(byYear['2022']).toBeCloseTo(0.25, 12)
    expect(byYear['2023']).toBeCloseTo(-0.075, 12)
    expect(byYear['2024']).toBeCloseTo(21_200 / 18_500 - 1, 12)
  })

  test('the review answers 3Y from the same rows, with its risk', async () => {
    const review = await get<Required<Static<typeof ReviewView>>>(`/v1/portfolios/${H}/review`)
    expect(review.performance.find((p) => p.preset === '3Y')?.net?.cumulative).toBeCloseTo(0.325, 12)
    expect(review.risk.find((r) => r.preset === '3Y')?.volatility).toBeGreaterThan(0)
  })
})
