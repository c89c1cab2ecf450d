import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { everyStage, settles, startPipeline } from '../testing/pipeline.ts'
import { queryRoutes } from './query.ts'

/**
 * A portfolio's valuation calendar (dates.ts), through the real pipeline and HTTP; every figure by
 * hand. Two EUR portfolios with the same records, W on WEEKDAYS (the default) and D on ALL_DAYS:
 *   Fri 2025-01-03  deposit 1,000 (SOD); buy A 10 @ 50            cash 500
 *   Sat 2025-01-04  withdrawal 200 (EOD)                           cash 300
 *   prices of A     Fri 50, Sat 55, Mon 60 (Sunday carries Saturday's)
 *   business date   Mon 2025-01-06
 * W: Fri emv 500 + 500 = 1,000 (r = (1,000 − 0 − 1,000) / 1,000 = 0); the withdrawal counts on
 *    Monday, at its end: Mon emv 600 + 300 = 900, r = (900 − 1,000 + 200) / 1,000 = 0.1.
 *    TWR 10 %.
 * D: Fri 1,000 (r = 0); Sat emv 550 + 300 = 850, r = (850 − 1,000 + 200) / 1,000 = 0.05;
 *    Sun 850, r = 0; Mon 900, r = 50 / 850. TWR 1.05 × 900 / 850 − 1 = 1.9 / 17.
 * MWR dates each flow on its own day under both: −1,000 on Fri, +200 on Sat, +900 on Mon.
 * H names a holiday calendar: as W until a holiday is ingested for it.
 */
describe('the valuation calendar: WEEKDAYS rolls a weekend to Monday, ALL_DAYS values every day', () => {
  let pipeline: Awaited<ReturnType<typeof startPipeline>>
  let app: Elysia
  const ids = () => ({
    W: `CW-${pipeline.run}`,
    D: `CD-${pipeline.run}`,
    H: `CH-${pipeline.run}`,
    A: `CA-${pipeline.run}`,
  })
  // biome-ignore lint/suspicious/noExplicitAny: the bodies are checked field by field below
  const get = async (path: string): Promise<{ status: number; body: any }> => {
    const res = await app.handle(new Request(`http://localhost${path}`))
    return { status: res.status, body: await res.json() }
  }
  const series = async (id: string) =>
    (await get(`/v1/portfolios/${id}/series?from=2025-01-01&to=2025-01-06`)).body.map(
      (p: { date: string; emvBase: string }) => [p.date, Number(p.emvBase)],
    )
  const portfolio = (portfolioId: string, calendar?: string) => ({
    portfolioId,
    baseCurrency: 'EUR',
    openDate: '2025-01-03',
    ...(calendar ? { calendar } : {}),
  })

  beforeAll(async () => {
    pipeline = await startPipeline('pg', everyStage)
    app = new Elysia().use(queryRoutes(pipeline.db.sql)) as unknown as Elysia
    const { W, D, H, A } = ids()
    await pipeline.send('portfolios', [portfolio(W), portfolio(D, 'ALL_DAYS'), portfolio(H, `TARGET-${pipeline.run}`)])
    await pipeline.send('instruments', [{ securityId: A, name: 'A shares', currency: 'EUR' }])
    await pipeline.send(
      'prices',
      [
        ['2025-01-03', '50'],
        ['2025-01-04', '55'],
        ['2025-01-06', '60'],
      ].map(([date, price]) => ({ securityId: A, date, price, currency: 'EUR' })),
    )
    await pipeline.send('business-dates', [{ date: '2025-01-06' }])
    await pipeline.send(
      'transactions',
      [W, D, H]
        .flatMap((p) => [
          { transactionId: `DEP-${p}`, portfolioId: p, type: 'DEPOSIT', tradeDate: '2025-01-03', grossAmount: '1000' },
          {
            transactionId: `BUY-${p}`,
            portfolioId: p,
            type: 'BUY',
            tradeDate: '2025-01-03',
            securityId: A,
            quantity: '10',
            price: '50',
          },
          {
            transactionId: `WDR-${p}`,
            portfolioId: p,
            type: 'WITHDRAWAL',
            tradeDate: '2025-01-04',
            grossAmount: '200',
          },
        ])
        .map((t) => ({ ...t, currency: 'EUR' })),
    )
    const complete = async (id: string) =>
      (
        await pipeline.db.sql`select count(*)::int as n from portfolio_series where portfolio_id = ${id} and complete`
      )[0]?.n
    await settles(async () => [await complete(W), await complete(D), await complete(H)], [2, 4, 2])
  }, 120_000)
  afterAll(() => pipeline?.stop())

  test('each portfolio says its calendar; WEEKDAYS is the default', async () => {
    const { W, D } = ids()
    expect((await get(`/v1/portfolios/${W}`)).body.calendar).toBe('WEEKDAYS')
    expect((await get(`/v1/portfolios/${D}`)).body.calendar).toBe('ALL_DAYS')
  })

  test('the series has a point per calendar day; the weekend withdrawal counts on Monday under WEEKDAYS, on Saturday under ALL_DAYS', async () => {
    const { W, D } = ids()
    expect(await series(W)).toEqual([
      ['2025-01-03', 1000],
      ['2025-01-06', 900],
    ])
    expect(await series(D)).toEqual([
      ['2025-01-03', 1000],
      ['2025-01-04', 850],
      ['2025-01-05', 850],
      ['2025-01-06', 900],
    ])
    const saturday = (await get(`/v1/portfolios/${D}/series?from=2025-01-04&to=2025-01-04`)).body[0]
    expect([saturday.bmvBase, saturday.eodFlowBase].map(Number)).toEqual([1000, -200])
    const monday = (await get(`/v1/portfolios/${W}/series?from=2025-01-06&to=2025-01-06`)).body[0]
    expect([monday.bmvBase, monday.eodFlowBase].map(Number)).toEqual([1000, -200])
  })

  test('TWR follows the calendar: 10 % on WEEKDAYS, 1.9 / 17 on ALL_DAYS', async () => {
    const { W, D } = ids()
    const twr = async (id: string) =>
      (await get(`/v1/portfolios/${id}/performance?from=2025-01-03&to=2025-01-06&frequency=daily`)).body
    const w = await twr(W)
    const d = await twr(D)
    expect(w.twr.cumulative).toBeCloseTo(0.1, 12)
    expect(d.twr.cumulative).toBeCloseTo(1.9 / 17, 12)
    expect(d.series.map((p: { period: string; r: number }) => [p.period, p.r])).toEqual([
      ['2025-01-03', 0],
      ['2025-01-04', 0.05],
      ['2025-01-05', 0],
      ['2025-01-06', expect.closeTo(50 / 850, 12)],
    ])
  })

  test('MWR dates each external flow on its own day under either calendar', async () => {
    const { W, D } = ids()
    const flows = [
      { date: '2025-01-03', amount: -1000 },
      { date: '2025-01-04', amount: 200 },
      { date: '2025-01-06', amount: 900 },
    ]
    const w = (await get(`/v1/portfolios/${W}/mwr?from=2025-01-03&to=2025-01-06`)).body
    const d = (await get(`/v1/portfolios/${D}/mwr?from=2025-01-03&to=2025-01-06`)).body
    expect(w.flows).toEqual(flows)
    expect(d.flows).toEqual(flows)
    // −1,000 + 200 v^(1/365) + 900 v^(3/365) = 0 at the rate solved (v = 1 / (1 + rate)).
    const v = 1 / (1 + d.rate)
    expect(-1000 + 200 * v ** (1 / 365) + 900 * v ** (3 / 365)).toBeCloseTo(0, 6)
    expect(w.rate).toBe(d.rate)
  })

  test('daily risk annualizes by the calendar: 365 on ALL_DAYS, 252 on WEEKDAYS', async () => {
    const { W, D } = ids()
    const risk = async (id: string) =>
      (await get(`/v1/portfolios/${id}/risk?from=2025-01-03&to=2025-01-06&frequency=daily`)).body
    expect((await risk(D)).annualizationFactor).toBe(365)
    expect((await risk(W)).annualizationFactor).toBe(252)
  })

  test('a holiday calendar: weekdays but its holidays, revalued when a holiday is added or cancelled', async () => {
    const { H } = ids()
    const calendarId = `TARGET-${pipeline.run}`
    expect((await get(`/v1/portfolios/${H}`)).body.calendar).toBe(calendarId)
    // No holiday yet: as WEEKDAYS.
    expect(await series(H)).toEqual([
      ['2025-01-03', 1000],
      ['2025-01-06', 900],
    ])
    // Friday a holiday: the deposit and purchase count on Monday with the withdrawal; Monday's
    // point starts from nothing: r = (900 − 0 − 1,000 + 200) / (0 + 1,000) = 0.1.
    await pipeline.send('holidays', [{ calendarId, date: '2025-01-03', name: 'a day off' }])
    await settles(() => series(H), [['2025-01-06', 900]])
    const listed = await get(`/v1/calendars/${calendarId}/holidays`)
    expect([listed.status, listed.body]).toEqual([200, [{ calendarId, date: '2025-01-03', name: 'a day off' }]])
    const monday = (await get(`/v1/portfolios/${H}/series?from=2025-01-06&to=2025-01-06`)).body[0]
    expect([monday.bmvBase, monday.sodFlowBase, monday.eodFlowBase].map(Number)).toEqual([0, 1000, -200])
    const twr = async () => (await get(`/v1/portfolios/${H}/performance?from=2025-01-06&to=2025-01-06`)).body
    expect((await twr()).twr.cumulative).toBeCloseTo(0.1, 12)
    // Friday is not a valuation day: no position-day on it.
    expect((await get(`/v1/portfolios/${H}/valuations?from=2025-01-03&to=2025-01-03`)).body.items).toEqual([])
    // Cancelled, Friday is valued again.
    await pipeline.send('holidays', [{ calendarId, date: '2025-01-03', cancelled: true }])
    await settles(
      () => series(H),
      [
        ['2025-01-03', 1000],
        ['2025-01-06', 900],
      ],
    )
    expect((await get(`/v1/calendars/${calendarId}/holidays`)).body).toEqual([])
  }, 60_000)

  test('a portfolio that changes its calendar is revalued and its series rebuilt on the new one', async () => {
    const { D } = ids()
    await pipeline.send('portfolios', [portfolio(D, 'WEEKDAYS')])
    await settles(
      () => series(D),
      [
        ['2025-01-03', 1000],
        ['2025-01-06', 900],
      ],
    )
    const { body } = await get(`/v1/portfolios/${D}/performance?from=2025-01-03&to=2025-01-06`)
    expect(body.twr.cumulative).toBeCloseTo(0.1, 12)
  }, 60_000)
})
