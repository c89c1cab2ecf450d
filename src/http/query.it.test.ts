import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Static } from '@sinclair/typebox'
import { Elysia } from 'elysia'
import { QueryPool } from '../query/query-pool.ts'
import type {
  AttributionView,
  BenchmarkSummaryView,
  BenchmarkView,
  CashflowView,
  ConcentrationView,
  ContributionView,
  InstrumentView,
  LineageView,
  MwrView,
  PerformanceView,
  PortfolioSeriesView,
  PortfolioView,
  PositionHistoryView,
  PositionView,
  PriceView,
  ReviewView,
  RiskView,
  SupportView,
  TransactionView,
  ValuationView,
} from '../query/views.ts'
import { everyStage, settles, startPipeline } from '../testing/pipeline.ts'
import { docsRoutes } from './docs.ts'
import type { ErrorBody } from './errors.ts'
import { queryRoutes } from './query.ts'

type Of<T extends import('@sinclair/typebox').TSchema> = Static<T>
type Paged<T> = { items: T[]; total: number; limit: number; offset: number }
type OpenApi = {
  paths: Record<string, Record<string, { parameters: { name: string; schema: { description?: string } }[] }>>
}

/**
 * The query API over what the real pipeline stored (embedded PostgreSQL, the pg log), through HTTP.
 *
 * Portfolio P (EUR), the week of Monday 2025-01-06, every figure worked by hand below:
 *   Mon: deposit 10,000 (start of day); buy A 50 @ 100, B 20 @ 100, C 10 @ 100; cash 2,000.
 *   Wed: deposit 1,000 (start of day). Thu: a fee of 10. Fri: a sale of 50 C, more than held: rejected.
 *   prices   A: 100 102 101 104 105   B: 100 100 101 101 102   C: 100 98 99 100 100
 *   EMV  Mon 5,000 + 2,000 + 1,000 + 2,000           = 10,000
 *        Tue 5,100 + 2,000 +   980 + 2,000           = 10,080
 *        Wed 5,050 + 2,020 +   990 + 3,000           = 11,060
 *        Thu 5,200 + 2,020 + 1,000 + 2,990           = 11,210
 *        Fri 5,250 + 2,040 + 1,000 + 2,990           = 11,280
 *   daily return, flows as recorded (deposits at the start of the day), net:
 *        Mon (10,000 − 0 − 10,000) / 10,000 = 0;  Tue 80 / 10,000;  Wed (11,060 − 10,080 − 1,000) / 11,080 = −20 / 11,080
 *        Thu 150 / 11,060 (gross: 160 / 11,060);  Fri 70 / 11,210
 *   A and B are both ACME's (A through its subsidiary ACME-FIN): issuer exposure sums them.
 * Portfolio Q holds D from Monday, but D's first price is Wednesday: Monday and Tuesday are missing.
 */
describe('the query API over the pipeline’s tables', () => {
  let pipeline: Awaited<ReturnType<typeof startPipeline>>
  let app: Elysia
  const ids = () => {
    const r = pipeline.run
    return { P: `P-${r}`, Q: `Q-${r}`, A: `A-${r}`, B: `B-${r}`, C: `C-${r}`, D: `D-${r}`, BM: `BM-${r}` }
  }
  const get = async <T = ErrorBody>(path: string) => {
    const res = await app.handle(new Request(`http://localhost${path}`))
    return { status: res.status, body: (await res.json()) as T }
  }

  beforeAll(async () => {
    pipeline = await startPipeline('pg', everyStage)
    app = new Elysia().use(docsRoutes('test')).use(queryRoutes(pipeline.db.sql)) as unknown as Elysia
    const { P, Q, A, B, C, D, BM } = ids()
    const days = ['2025-01-06', '2025-01-07', '2025-01-08', '2025-01-09', '2025-01-10']
    const prices = (id: string, values: number[], from = 0) =>
      values.map((p, i) => ({ securityId: id, date: days[i + from], price: String(p), currency: 'EUR' }))
    await pipeline.send('portfolios', [
      {
        portfolioId: P,
        baseCurrency: 'EUR',
        openDate: '2025-01-06',
        clientId: `client-${pipeline.run}`,
        riskProfile: 'BALANCED',
      },
      { portfolioId: Q, baseCurrency: 'EUR', openDate: '2025-01-06', clientId: `client-${pipeline.run}` },
    ])
    await pipeline.send('instruments', [
      {
        securityId: A,
        name: 'ACME shares',
        currency: 'EUR',
        assetClass: 'Equity',
        sector: 'Tech',
        countryOfRisk: 'DE',
        issuerId: 'ACME-FIN',
        ultimateParentIssuerId: 'ACME',
      },
      {
        securityId: B,
        name: 'ACME bond',
        currency: 'EUR',
        assetClass: 'Bond',
        sector: 'Financials',
        countryOfRisk: 'DE',
        issuerId: 'ACME',
        rating: 'A',
        maturityDate: '2029-06-30',
      },
      {
        securityId: C,
        name: 'Other shares',
        currency: 'EUR',
        assetClass: 'Equity',
        sector: 'Health',
        countryOfRisk: 'FR',
        issuerId: 'OTHER',
        productType: 'Common stock',
      },
      { securityId: D, name: 'Late-priced shares', currency: 'EUR', assetClass: 'Equity' },
    ])
    await pipeline.send('prices', [
      ...prices(A, [100, 102, 101, 104, 105]),
      ...prices(B, [100, 100, 101, 101, 102]),
      ...prices(C, [100, 98, 99, 100, 100]),
      ...prices(D, [10, 10, 10], 2),
    ])
    await pipeline.send('benchmarks', [
      { benchmarkId: BM, date: '2025-01-03', level: '100' },
      ...[101, 102, 100, 103, 104].map((level, i) => ({ benchmarkId: BM, date: days[i], level: String(level) })),
    ])
    // BM's composition by asset class (attribution): Tuesday and Wednesday whole, Thursday's weights
    // short of 1, Friday none.
    const segment = (date: string, segment: string, weight: string, r: string) => ({
      benchmarkId: BM,
      date,
      classification: 'assetClass',
      segment,
      weight,
      return: r,
    })
    await pipeline.send('benchmark-segments', [
      segment('2025-01-07', 'Equity', '0.5', '0.02'),
      segment('2025-01-07', 'Bond', '0.5', '0.001'),
      segment('2025-01-08', 'Equity', '0.6', '-0.01'),
      segment('2025-01-08', 'Bond', '0.4', '0.002'),
      segment('2025-01-09', 'Equity', '0.5', '0.01'),
      segment('2025-01-09', 'Bond', '0.4', '0.01'),
    ])
    await pipeline.send('business-dates', [{ date: '2025-01-10' }])
    const t = (id: string, portfolioId: string, fields: Record<string, string>) => ({
      transactionId: `${id}-${portfolioId}`,
      portfolioId,
      currency: 'EUR',
      ...fields,
    })
    const buy = (id: string, securityId: string, quantity: string, p: string, date = '2025-01-06') =>
      t(id, P, { type: 'BUY', tradeDate: date, securityId, quantity, price: p })
    await pipeline.send('transactions', [
      t('D1', P, { type: 'DEPOSIT', tradeDate: '2025-01-06', grossAmount: '10000' }),
      buy('B1', A, '50', '100'),
      buy('B2', B, '20', '100'),
      buy('B3', C, '10', '100'),
      t('D2', P, { type: 'DEPOSIT', tradeDate: '2025-01-08', grossAmount: '1000' }),
      t('F1', P, { type: 'FEE', tradeDate: '2025-01-09', grossAmount: '10' }),
      t('X1', P, { type: 'SELL', tradeDate: '2025-01-10', securityId: C, quantity: '50', price: '100' }),
      t('D1', Q, { type: 'DEPOSIT', tradeDate: '2025-01-06', grossAmount: '1000' }),
      t('B1', Q, { type: 'BUY', tradeDate: '2025-01-06', securityId: D, quantity: '10', price: '10' }),
    ])
    const seriesDays = async (portfolioId: string) =>
      (await pipeline.db.sql`select count(*)::int as n from portfolio_series where portfolio_id = ${portfolioId}`)[0]?.n
    await settles(() => seriesDays(P), 5)
    // Q: Monday and Tuesday are points marked incomplete (D unvalued), Wednesday to Friday complete.
    await settles(() => seriesDays(Q), 5)
  }, 120_000)
  afterAll(() => pipeline?.stop())

  const r = { tue: 80 / 10_000, wed: -20 / 11_080, thu: 150 / 11_060, fri: 70 / 11_210 }
  const week = (1 + r.tue) * (1 + r.wed) * (1 + r.thu) * (1 + r.fri) - 1

  test('reference data: portfolios filtered by client, instruments, 404 for an unknown id', async () => {
    const { P, Q, A } = ids()
    const list = await get<Paged<Of<typeof PortfolioView>>>(`/v1/portfolios?clientId=client-${pipeline.run}&limit=1`)
    expect(list.status).toBe(200)
    expect(list.body).toMatchObject({ total: 2, limit: 1, offset: 0, items: [{ portfolioId: P, costMethod: 'FIFO' }] })
    expect((await get<Of<typeof PortfolioView>>(`/v1/portfolios/${Q}`)).body.portfolioId).toBe(Q)
    expect((await get<Of<typeof InstrumentView>>(`/v1/instruments/${A}`)).body).toMatchObject({
      securityId: A,
      ultimateParentIssuerId: 'ACME',
    })
    const missing = await get('/v1/portfolios/NOPE')
    expect(missing).toEqual({
      status: 404,
      body: {
        code: 'NOT_FOUND',
        message: 'no portfolio NOPE',
        field: 'portfolioId',
        correlationId: expect.any(String),
      },
    })
    expect((await get('/v1/portfolios/NOPE/performance')).status).toBe(404)
    // By an id list, and instruments by product type.
    const both = await get<Paged<Of<typeof PortfolioView>>>(`/v1/portfolios?portfolioIds=${Q},NOPE,${P}`)
    expect(both.body.items.map((p) => p.portfolioId)).toEqual([P, Q])
    const one = await get<Paged<Of<typeof PortfolioView>>>(`/v1/portfolios?portfolioIds=${Q}`)
    expect([one.body.total, one.body.items.map((p) => p.portfolioId)]).toEqual([1, [Q]])
    const { C } = ids()
    const stocks = await get<Paged<Of<typeof InstrumentView>>>('/v1/instruments?productType=Common%20stock')
    expect(stocks.body.items.map((i) => i.securityId)).toContain(C)
    expect(stocks.body.items.every((i) => i.productType === 'Common stock')).toBe(true)
  })

  test('a valuation from a price older than the staleness window is marked stale', async () => {
    // R buys E on Monday; E has a price that day only, so Friday is valued from a 4-day-old price.
    const [R, E] = [`R-${pipeline.run}`, `E-${pipeline.run}`]
    await pipeline.send('portfolios', [{ portfolioId: R, baseCurrency: 'EUR', openDate: '2025-01-06' }])
    await pipeline.send('instruments', [{ securityId: E, name: 'Rarely priced', currency: 'EUR' }])
    await pipeline.send('prices', [{ securityId: E, date: '2025-01-06', price: '7', currency: 'EUR' }])
    await pipeline.send('transactions', [
      {
        transactionId: `RB-${R}`,
        portfolioId: R,
        type: 'BUY',
        tradeDate: '2025-01-06',
        securityId: E,
        quantity: '3',
        price: '7',
        currency: 'EUR',
      },
    ])
    const friday = (window?: number) =>
      get<Paged<Of<typeof ValuationView>>>(
        `/v1/portfolios/${R}/valuations?from=2025-01-10&to=2025-01-10&positionId=${E}${window === undefined ? '' : `&staleAfterDays=${window}`}`,
      )
    await settles(async () => (await friday()).body.items?.length, 1)
    // Friday − Monday = 4 days: within the default 5, past a window of 3.
    expect((await friday()).body.items[0]).toMatchObject({
      priceDate: '2025-01-06',
      marketValueBase: '21',
      stale: false,
    })
    expect((await friday(3)).body.items[0]).toMatchObject({ priceDate: '2025-01-06', stale: true })
    expect((await friday(4)).body.items[0]?.stale).toBe(false)
  })

  test("the caller's X-Correlation-ID is each transaction's ingest id; the same content sent again keeps the first", async () => {
    const G = `G-${pipeline.run}`
    const mandate = { closeDate: '2030-12-31', objective: 'Income', isLeverageAllowed: false, advisorId: 'ADV-7' }
    await pipeline.send('portfolios', [{ portfolioId: G, baseCurrency: 'EUR', openDate: '2025-01-06', ...mandate }])
    await settles(async () => (await get<Of<typeof PortfolioView>>(`/v1/portfolios/${G}`)).body.advisorId, 'ADV-7')
    expect((await get<Of<typeof PortfolioView>>(`/v1/portfolios/${G}`)).body).toMatchObject(mandate)
    const deposit = {
      transactionId: `GD-${G}`,
      portfolioId: G,
      type: 'DEPOSIT',
      tradeDate: '2025-01-06',
      grossAmount: '5',
      currency: 'EUR',
    }
    await pipeline.send('transactions', [deposit], { 'x-correlation-id': 'feed-2025-01-06.42' })
    const stored = async () =>
      (await get<Paged<Of<typeof TransactionView>>>(`/v1/portfolios/${G}/transactions`)).body.items
    await settles(async () => (await stored()).map((t) => [t.ingestId, t.version]), [['feed-2025-01-06.42', 1]])
    // Sent again by another request: not a correction, and where it came from stays the first request.
    await pipeline.send('transactions', [deposit], { 'x-correlation-id': 'feed-2025-01-07.1' })
    await pipeline.send('transactions', [{ ...deposit, grossAmount: '6' }], { 'x-correlation-id': 'fix-1' })
    await settles(async () => (await stored()).map((t) => [t.ingestId, t.version, t.grossAmount]), [['fix-1', 2, '6']])
    const lineage = await get<Of<typeof LineageView>>(`/v1/portfolios/${G}/positions/CASH:EUR/lineage`)
    expect(lineage.body.latestTransaction).toMatchObject({ transactionId: `GD-${G}`, ingestId: 'fix-1', version: 2 })
  })

  test('transactions sorted by quantity, price or gross amount (as given, else quantity × price)', async () => {
    const { P } = ids()
    const sorted = async (sort: string) =>
      (await get<Paged<Of<typeof TransactionView>>>(`/v1/portfolios/${P}/transactions?sort=${sort}`)).body.items.map(
        (x) => x.transactionId.replace(`-${P}`, ''),
      )
    // Gross: D1 10,000; X1 50 × 100 and B1 50 × 100 = 5,000 (ties by id, descending here); B2 2,000;
    // D2 1,000 and B3 10 × 100 = 1,000; F1 10.
    expect(await sorted('-grossAmount')).toEqual(['D1', 'X1', 'B1', 'B2', 'D2', 'B3', 'F1'])
    // Quantity: B3 10, B2 20, B1 and X1 50; the deposits and the fee have none: last.
    expect(await sorted('quantity')).toEqual(['B3', 'B2', 'B1', 'X1', 'D1', 'D2', 'F1'])
    expect((await get(`/v1/portfolios/${P}/transactions?sort=size`)).status).toBe(400)
  })

  test('transactions: filters, paging, sorting, and the rejection the engine recorded', async () => {
    const { P, C } = ids()
    const buys = await get<Paged<Of<typeof TransactionView>>>(
      `/v1/portfolios/${P}/transactions?type=BUY&limit=2&sort=-transactionId`,
    )
    expect(buys.body.total).toBe(3)
    expect(buys.body.items.map((x) => x.transactionId)).toEqual([`B3-${P}`, `B2-${P}`])
    const ofC = await get<Paged<Of<typeof TransactionView>>>(
      `/v1/portfolios/${P}/transactions?securityId=${C}&from=2025-01-10&to=2025-01-10`,
    )
    expect(ofC.body.items).toHaveLength(1)
    expect(ofC.body.items[0]).toMatchObject({ transactionId: `X1-${P}`, rejection: { code: 'INSUFFICIENT_QUANTITY' } })
  })

  test('positions as of Tuesday: quantities, market values and weights of that day', async () => {
    const { P, A } = ids()
    const res = await get<Of<typeof PositionView>[]>(`/v1/portfolios/${P}/positions?asOf=2025-01-07`)
    expect(res.status).toBe(200)
    const a = res.body.find((p) => p.positionId === A)
    // Tuesday: A 50 × 102 = 5,100 of 10,080.
    expect(a).toMatchObject({ quantity: '50', costBase: '5000', marketValueBase: '5100', valuationDate: '2025-01-07' })
    expect(a?.weight).toBeCloseTo(5100 / 10_080, 12)
    expect(res.body.map((p) => p.positionId)).toContain('CASH:EUR')
  })

  test('series, valuations, cashflows, prices and benchmarks read back as stored', async () => {
    const { P, A, BM } = ids()
    const series = await get<Of<typeof PortfolioSeriesView>[]>(
      `/v1/portfolios/${P}/series?from=2025-01-08&to=2025-01-08`,
    )
    expect(series.body).toEqual([
      expect.objectContaining({
        date: '2025-01-08',
        bmvBase: '10080',
        emvBase: '11060',
        sodFlowBase: '1000',
        complete: true,
      }),
    ])
    const valuations = await get<Paged<Of<typeof ValuationView>>>(`/v1/portfolios/${P}/valuations?positionId=${A}`)
    expect(valuations.body.items).toEqual([
      expect.objectContaining({ date: '2025-01-10', marketValueBase: '5250', status: 'VALUED' }),
    ])
    const week = `/v1/portfolios/${P}/valuations?from=2025-01-06&to=2025-01-10&limit=3&offset=3`
    const paged = await get<Paged<Of<typeof ValuationView>>>(week)
    // 5 days × (A, B, C, cash EUR) = 20 rows, by date then position: the second page of 3 starts on Monday's 4th.
    expect(paged.body).toMatchObject({ total: 20, limit: 3, offset: 3 })
    expect(paged.body.items.map((v) => v.date)).toEqual(['2025-01-06', '2025-01-07', '2025-01-07'])
    const flows = await get<Of<typeof CashflowView>[]>(`/v1/portfolios/${P}/cashflows?class=EXTERNAL`)
    expect(flows.body.map((c) => c.amountBase)).toEqual(['10000', '1000'])
    expect((await get<Of<typeof PriceView>[]>(`/v1/prices/${A}?from=2025-01-09`)).body.map((p) => p.price)).toEqual([
      '104',
      '105',
    ])
    expect(
      (await get<Of<typeof BenchmarkView>[]>(`/v1/benchmarks/${BM}?to=2025-01-06`)).body.map((b) => b.level),
    ).toEqual(['100', '101'])
    // Paged, newest first: A's prices are 100 102 101 104 105 (Monday to Friday); the header counts all five.
    const newest = await app.handle(new Request(`http://localhost/v1/prices/${A}?sort=-date&limit=2&offset=1`))
    expect(newest.headers.get('x-total-count')).toBe('5')
    expect(((await newest.json()) as Of<typeof PriceView>[]).map((p) => [p.date, p.price])).toEqual([
      ['2025-01-09', '104'],
      ['2025-01-08', '101'],
    ])
    // The list (other tests' benchmarks too): BM has levels on 01-03 and the five days 01-06 to 01-10.
    const benchmarks = await get<Of<typeof BenchmarkSummaryView>[]>('/v1/benchmarks')
    expect(benchmarks.body.find((b) => b.benchmarkId === BM)).toEqual({
      benchmarkId: BM,
      from: '2025-01-03',
      to: '2025-01-10',
      days: 6,
    })
    const levels = await get<Of<typeof BenchmarkView>[]>(`/v1/benchmarks/${BM}?limit=2&offset=4`)
    expect(levels.body.map((b) => b.level)).toEqual(['103', '104']) // 100 on 01-03, then 101 102 100 103 104
    expect((await get(`/v1/prices/${A}?limit=0`)).body.field).toBe('limit')
    const history = await get<Of<typeof PositionHistoryView>[]>(`/v1/portfolios/${P}/positions/${A}/history`)
    expect(history.body[0]).toMatchObject({ quantity: '50', lots: [{ quantity: '50', costBase: '5000' }] })
  })

  test('TWR with a deposit in mid-week: flows as recorded, all at the end of day, and gross of fees', async () => {
    const { P } = ids()
    const recorded = await get<Of<typeof PerformanceView>>(`/v1/portfolios/${P}/performance?period=SI&frequency=daily`)
    expect(recorded.status).toBe(200)
    expect(recorded.body.period).toEqual({ from: '2025-01-06', to: '2025-01-10' })
    expect(recorded.body.twr.cumulative).toBeCloseTo(week, 12)
    expect(recorded.body.twr.annualized).toBeNull()
    expect(recorded.body.series.map((s) => s.r)).toEqual(
      [0, r.tue, r.wed, r.thu, r.fri].map((x) => expect.closeTo(x, 12)),
    )
    expect(recorded.body.conventions).toMatchObject({ flowTiming: 'recorded', fees: 'net' })
    // End of day: Wednesday's deposit earns nothing that day: −20 / 10,080.
    const end = await get<Of<typeof PerformanceView>>(
      `/v1/portfolios/${P}/performance?from=2025-01-06&to=2025-01-10&timing=end`,
    )
    expect(end.body.twr.cumulative).toBeCloseTo((1 + r.tue) * (1 - 20 / 10_080) * (1 + r.thu) * (1 + r.fri) - 1, 12)
    // Gross: Thursday's fee of 10 added back.
    const gross = await get<Of<typeof PerformanceView>>(
      `/v1/portfolios/${P}/performance?period=YTD&fees=gross&frequency=none`,
    )
    expect(gross.body.twr.cumulative).toBeCloseTo((1 + r.tue) * (1 + r.wed) * (1 + 160 / 11_060) * (1 + r.fri) - 1, 12)
    expect(gross.body.period.from).toBe('2025-01-06') // YTD starts at inception for a portfolio opened this year
  })

  test('Modified Dietz next to the TWR: the deposits weighted by the days they were in', async () => {
    const { P } = ids()
    const res = await get<Of<typeof PerformanceView>>(`/v1/portfolios/${P}/performance?period=SI`)
    // From Sunday's close (the day before Monday) to Friday's: T = 5 days. The 10,000 at the start
    // of Monday is in all 5 (weight 1), the 1,000 at the start of Wednesday 3 of them (3/5):
    // (11,280 − 0 − 11,000) / (10,000 + 1,000 × 3/5) = 280 / 10,600. One month: linked, the same.
    expect(res.body.modifiedDietz.period).toBeCloseTo(280 / 10_600, 14)
    expect(res.body.modifiedDietz.linkedMonthly).toBeCloseTo(280 / 10_600, 14)
    expect(res.body.modifiedDietz.unavailable).toBeNull()
    // From Tuesday: start Monday's close 10,000, the Wednesday deposit in 3 of 4 days:
    // (11,280 − 10,000 − 1,000) / (10,000 + 1,000 × 3/4) = 280 / 10,750.
    const tue = await get<Of<typeof PerformanceView>>(`/v1/portfolios/${P}/performance?from=2025-01-07`)
    expect(tue.body.modifiedDietz.period).toBeCloseTo(280 / 10_750, 14)
  })

  test('Brinson attribution by asset class against BM, Tuesday and Wednesday, worked by hand', async () => {
    const { P, BM } = ids()
    const ask = (query: string) =>
      get<Of<typeof AttributionView>>(`/v1/portfolios/${P}/attribution?benchmarkId=${BM}&${query}`)
    const res = await ask('from=2025-01-07&to=2025-01-08')
    expect(res.status).toBe(200)
    // Segments at the start of each day (capital = BMV + start-of-day flows), gains EMV − capital:
    //   Tue  Equity A 5,000 + C 1,000 = 6,000, gain 100 − 20 = 80; Bond 2,000, 0; Cash 2,000, 0  (of 10,000)
    //   Wed  Equity 5,100 + 980 = 6,080, gain −50 + 10 = −40; Bond 2,000, 20; Cash 2,000 + 1,000 in, 0  (of 11,080)
    // Benchmark: Tue Equity 50 % at 2 %, Bond 50 % at 0.1 % (B = 1.05 %); Wed 60 % at −1 %, 40 % at 0.2 % (B = −0.52 %).
    const tue = {
      R: 80 / 10_000,
      B: 0.0105,
      w: { E: 0.6, B: 0.2, C: 0.2 },
      r: { E: 80 / 6000, B: 0, C: 0 },
      W: { E: 0.5, B: 0.5, C: 0 },
      b: { E: 0.02, B: 0.001, C: 0 },
    }
    const wed = {
      R: -20 / 11_080,
      B: 0.6 * -0.01 + 0.4 * 0.002,
      w: { E: 6080 / 11_080, B: 2000 / 11_080, C: 3000 / 11_080 },
      r: { E: -40 / 6080, B: 20 / 2000, C: 0 },
      W: { E: 0.6, B: 0.4, C: 0 },
      b: { E: -0.01, B: 0.002, C: 0 },
    }
    // Brinson–Fachler per day, then Carino: kₜ = ln((1 + Rₜ)/(1 + Bₜ)) / (Rₜ − Bₜ), K likewise for the linked returns.
    const k = (R: number, B: number) => (Math.log(1 + R) - Math.log(1 + B)) / (R - B)
    const R = (1 + tue.R) * (1 + wed.R) - 1
    const B = (1 + tue.B) * (1 + wed.B) - 1
    const K = k(R, B)
    const days = [tue, wed].map((d) => ({ d, kt: k(d.R, d.B) / K }))
    const linked = (s: 'E' | 'B' | 'C') => ({
      allocation: days.reduce((x, { d, kt }) => x + (d.w[s] - d.W[s]) * (d.b[s] - d.B) * kt, 0),
      selection: days.reduce((x, { d, kt }) => x + d.W[s] * (d.r[s] - d.b[s]) * kt, 0),
      interaction: days.reduce((x, { d, kt }) => x + (d.w[s] - d.W[s]) * (d.r[s] - d.b[s]) * kt, 0),
    })
    expect(res.body.portfolioReturn).toBeCloseTo(R, 14)
    expect(res.body.benchmarkReturn).toBeCloseTo(B, 14)
    expect(res.body.days).toBe(2)
    const by = new Map(res.body.segments.map((s) => [s.segment, s]))
    for (const [name, s] of [
      ['Equity', 'E'],
      ['Bond', 'B'],
      ['Cash', 'C'],
    ] as const) {
      const want = linked(s)
      expect(by.get(name)).toMatchObject({
        allocation: expect.closeTo(want.allocation, 14),
        selection: expect.closeTo(want.selection, 14),
        interaction: expect.closeTo(want.interaction, 14),
      })
    }
    const { allocation, selection, interaction } = res.body.total
    expect(allocation + selection + interaction).toBeCloseTo(R - B, 14)
    // No fee on these days: the positions' return is the TWR.
    expect(res.body.twr).toBeCloseTo(R, 14)
    expect(res.body.residual).toBeCloseTo(0, 14)
    // Brinson–Hood–Beebower: the same selection and interaction, allocation (w − W)·b.
    const bhb = await ask('from=2025-01-07&to=2025-01-08&method=BHB')
    expect(bhb.body.total.selection).toBeCloseTo(selection, 14)
    expect(bhb.body.total.allocation + bhb.body.total.selection + bhb.body.total.interaction).toBeCloseTo(R - B, 14)
    const bhbEquity = days.reduce((x, { d, kt }) => x + (d.w.E - d.W.E) * d.b.E * kt, 0)
    expect(bhb.body.segments.find((s) => s.segment === 'Equity')?.allocation).toBeCloseTo(bhbEquity, 14)
    // Thursday's weights sum to 0.9, Friday has none; an unknown classification is 400.
    const short = await get(`/v1/portfolios/${P}/attribution?benchmarkId=${BM}&from=2025-01-09&to=2025-01-09`)
    expect(short.status).toBe(422)
    expect(short.body).toMatchObject({ field: 'benchmarkId', message: expect.stringContaining('sum to 0.9') })
    const friday = await get(`/v1/portfolios/${P}/attribution?benchmarkId=${BM}&from=2025-01-07&to=2025-01-10`)
    expect(friday.status).toBe(422)
    expect(friday.body.message).toContain('first 2025-01-10')
    const bad = await get(`/v1/portfolios/${P}/attribution?benchmarkId=${BM}&classification=colour`)
    expect(bad.status).toBe(400)
    expect(bad.body.field).toBe('classification')
  })

  test('XIRR of any dated flows: Microsoft’s example; one-way flows 422; no root solved: false', async () => {
    const post = async (flows: unknown) => {
      const res = await app.handle(
        new Request('http://localhost/v1/analytics/xirr', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ flows }),
        }),
      )
      return { status: res.status, body: (await res.json()) as Record<string, unknown> }
    }
    // Microsoft's XIRR documentation: −10,000 on 2008-01-01, 2,750 on 2008-03-01, 4,250 on
    // 2008-10-30, 3,250 on 2009-02-15, 2,750 on 2009-04-01 → 0.373362535; given in any order.
    const ms = await post([
      { date: '2008-03-01', amount: 2750 },
      { date: '2008-01-01', amount: -10_000 },
      { date: '2008-10-30', amount: 4250 },
      { date: '2009-02-15', amount: 3250 },
      { date: '2009-04-01', amount: 2750 },
    ])
    expect(ms.status).toBe(200)
    expect(ms.body).toMatchObject({ solved: true, annualized: true, days: 456, reason: null })
    expect(ms.body.rate as number).toBeCloseTo(0.373362535, 8)
    const oneWay = await post([
      { date: '2025-01-01', amount: -100 },
      { date: '2025-06-01', amount: -50 },
    ])
    expect([oneWay.status, oneWay.body.field]).toEqual([422, 'flows'])
    // −1 and +1 on the same day, −1 a year on: money goes both ways, but NPV(r) = −1 + 1 − 1/(1 + r)
    // is below 0 for every r > −1, so no rate solves it.
    const noRoot = await post([
      { date: '2025-01-01', amount: -1 },
      { date: '2025-01-01', amount: 1 },
      { date: '2026-01-01', amount: -1 },
    ])
    expect(noRoot.status).toBe(200)
    expect(noRoot.body).toMatchObject({ solved: false, rate: null, reason: expect.any(String) })
    expect(
      (
        await post([
          { date: '2025-02-30', amount: 1 },
          { date: '2025-03-01', amount: -1 },
        ])
      ).body.field,
    ).toBe('flows')
    expect((await post([{ date: '2025-01-01', amount: 1 }])).status).toBe(400)
  })

  test('MWR: the deposits and the ending value solved on actual/365', async () => {
    const { P } = ids()
    const res = await get<Of<typeof MwrView>>(`/v1/portfolios/${P}/mwr?period=SI`)
    // Each deposit on its own day (Monday, Wednesday), though the TWR counts them at the start of it.
    expect(res.body.flows).toEqual([
      { date: '2025-01-06', amount: -10_000 },
      { date: '2025-01-08', amount: -1000 },
      { date: '2025-01-10', amount: 11_280 },
    ])
    expect(res.body.solved).toBe(true)
    expect(res.body.annualized).toBe(false)
    // The annual rate makes the flows worth zero: 10,000·(1+r)^(4/365) + 1,000·(1+r)^(2/365) = 11,280.
    const rate = res.body.rate as number
    expect(10_000 * (1 + rate) ** (4 / 365) + 1000 * (1 + rate) ** (2 / 365)).toBeCloseTo(11_280, 6)
    expect(res.body.periodReturn).toBeCloseTo((1 + rate) ** (4 / 365) - 1, 12)
  })

  test('contribution: A, B and C over the capital at risk; the fee is the rest; they add up to the TWR', async () => {
    const { P, A } = ids()
    const res = await get<Of<typeof ContributionView>>(`/v1/portfolios/${P}/contribution?period=SI`)
    expect(res.body.total).toBeCloseTo(week, 12)
    const sum = res.body.positions.reduce((s: number, p) => s + p.contribution, 0) + res.body.other
    expect(sum).toBeCloseTo(week, 12)
    // A gains 100, −50, 150, 50 on Tue..Fri over 10,000, 11,080, 11,060, 11,210, each day times the growth before it.
    const g = [1, 1 + r.tue, (1 + r.tue) * (1 + r.wed), (1 + r.tue) * (1 + r.wed) * (1 + r.thu)]
    const expectedA =
      (100 / 10_000) * (g[0] as number) +
      (-50 / 11_080) * (g[1] as number) +
      (150 / 11_060) * (g[2] as number) +
      (50 / 11_210) * (g[3] as number)
    const a = res.body.positions.find((p) => p.positionId === A)
    expect(a?.contribution).toBeCloseTo(expectedA, 12)
    expect(a?.twr).toBeCloseTo(0.05, 12) // 100 → 105
    // The fee: −10 / 11,060 on Thursday, times the growth before it.
    expect(res.body.other).toBeCloseTo((-10 / 11_060) * (g[2] as number), 12)
  })

  test('risk on the daily returns, with the benchmark, naming every convention', async () => {
    const { P, BM } = ids()
    const res = await get<Of<typeof RiskView>>(`/v1/portfolios/${P}/risk?period=SI&benchmarkId=${BM}&riskFreeRate=0`)
    expect(res.status).toBe(200)
    const rs = [0, r.tue, r.wed, r.thu, r.fri]
    const mean = rs.reduce((a, b) => a + b) / 5
    const sd = Math.sqrt(rs.reduce((s, x) => s + (x - mean) ** 2, 0) / 4)
    expect(res.body).toMatchObject({ frequency: 'daily', observations: 5, annualizationFactor: 252, riskFreeRate: 0 })
    expect(res.body.volatility).toBeCloseTo(sd * Math.sqrt(252), 12)
    expect(res.body.sharpe).toBeCloseTo((mean / sd) * Math.sqrt(252), 10)
    // Wednesday is the only fall: peak Tuesday, trough Wednesday, back above the peak on Thursday.
    expect(res.body.maxDrawdown).toEqual({
      maxDrawdown: expect.closeTo(r.wed, 12),
      peak: '2025-01-07',
      trough: '2025-01-08',
      recovery: '2025-01-09',
    })
    // ⌈5 × 5 %⌉ = 1: the worst day, 20 / 11,080 = 0.1805 %.
    expect(res.body.valueAtRisk.historical.var).toBeCloseTo(20 / 11_080, 12)
    expect(res.body.valueAtRisk.quantile).toBe('nearest-rank')
    // Linear: sorted r_wed < 0 (Monday) < ...; h = 4 × 0.05 = 0.2 of the way from r_wed to 0:
    // 0.8 × r_wed, a VaR of 0.8 × 20 / 11,080; the tail at or below it is Wednesday alone.
    const linear = await get<Of<typeof RiskView>>(`/v1/portfolios/${P}/risk?period=SI&quantile=linear`)
    expect(linear.body.valueAtRisk.quantile).toBe('linear')
    expect(linear.body.valueAtRisk.historical.var).toBeCloseTo((0.8 * 20) / 11_080, 12)
    expect(linear.body.valueAtRisk.historical.expectedShortfall).toBeCloseTo(20 / 11_080, 12)
    // Any confidence in (0, 1): at 30 % the quantile is a gain (h = 2.8 between Friday's 70 / 11,210
    // and Tuesday's 0.8 %), so the VaR is negative.
    const low = await get<Of<typeof RiskView>>(`/v1/portfolios/${P}/risk?period=SI&quantile=linear&confidence=0.3`)
    expect(low.body.valueAtRisk.historical.var).toBeCloseTo(-(r.fri + 0.8 * (r.tue - r.fri)), 12)
    expect((await get(`/v1/portfolios/${P}/risk?confidence=1`)).body.field).toBe('confidence')
    // Benchmark levels 100 (Fri before), 101, 102, 100, 103, 104: +4 % over the week.
    expect(res.body.benchmark?.benchmarkReturn).toBeCloseTo(0.04, 12)
    const bs = [1 / 100, 1 / 101, -2 / 102, 3 / 100, 1 / 103]
    const mb = bs.reduce((a, b) => a + b) / 5
    const cov = rs.reduce((s, x, i) => s + (x - mean) * ((bs[i] as number) - mb), 0) / 4
    const varB = bs.reduce((s, x) => s + (x - mb) ** 2, 0) / 4
    expect(res.body.benchmark?.beta).toBeCloseTo(cov / varB, 10)
    expect(res.body.conventions.standardDeviation).toContain('sample')
    // Jensen (rf 0): the same slope; alpha = mean(r) − beta × mean(b). Capture: b rises on every
    // day but Wednesday (−2 / 102), when the portfolio fell r_wed.
    expect(res.body.benchmark?.jensen?.beta).toBeCloseTo(cov / varB, 10)
    expect(res.body.benchmark?.jensen?.alpha).toBeCloseTo(mean - (cov / varB) * mb, 12)
    const up = [0, 1, 3, 4]
    const avg = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length
    expect(res.body.benchmark?.upCapture).toBeCloseTo(
      avg(up.map((i) => rs[i] as number)) / avg(up.map((i) => bs[i] as number)),
      12,
    )
    expect(res.body.benchmark?.downCapture).toBeCloseTo(r.wed / (-2 / 102), 12)
    // The ratio set: CAGR over the week's 5 calendar days; the drawdown is Wednesday's alone
    // (below Tuesday's peak one day, recovered Thursday); only Wednesday is below 0.
    const cagr = (1 + week) ** (365 / 5) - 1
    expect(res.body.ratios.cagr).toBeCloseTo(cagr, 8)
    expect(res.body.ratios.calmar).toBeCloseTo(cagr / Math.abs(r.wed), 6)
    expect(res.body.ratios.omega).toBeCloseTo((r.tue + r.thu + r.fri) / Math.abs(r.wed), 10)
    expect(res.body.ratios.downsideDeviation).toBeCloseTo(Math.sqrt((r.wed * r.wed) / 5) * Math.sqrt(252), 12)
    expect(res.body.ratios.longestDrawdown).toEqual({
      periods: 1,
      from: '2025-01-08',
      to: '2025-01-09',
      recovered: true,
    })
    expect(res.body.ratios.recoveryPeriods).toBe(1)
    expect(res.body.conventions.moments).toContain('population')
  })

  test('several periods in one request, with their attributes; quarterly returns', async () => {
    const { P } = ids()
    const res = await get<Of<typeof PerformanceView>>(
      `/v1/portfolios/${P}/performance?period=SI&frequency=quarterly&periods=MTD,YTD,Y2025,Y2024,3Y&attributes=true`,
    )
    expect(res.status).toBe(200)
    // P's data starts Monday 2025-01-06 and the business date is Friday: MTD, YTD and 2025 are the week.
    // Its attributes: opening value 0, closing 11,280, start-of-day deposits 10,000 + 1,000, Thursday's fee 10.
    const weekFigure = {
      from: '2025-01-06',
      to: '2025-01-10',
      twr: { cumulative: expect.closeTo(week, 12), annualized: null, days: 5 },
      unavailable: null,
      attributes: {
        beginValue: '0.00',
        endValue: '11280.00',
        startOfDayFlows: '11000.00',
        endOfDayFlows: '0.00',
        fees: '10.00',
      },
    }
    expect(res.body.periods).toEqual([
      { name: 'MTD', ...weekFigure },
      { name: 'YTD', ...weekFigure },
      { name: 'Y2025', ...weekFigure },
      { name: 'Y2024', from: null, to: null, twr: null, unavailable: expect.stringContaining('after 2024') },
      { name: '3Y', from: null, to: null, twr: null, unavailable: expect.any(String) },
    ])
    expect(res.body.series).toEqual([
      { period: '2025-Q1', r: expect.closeTo(week, 12), cumulative: expect.closeTo(week, 12) },
    ])
    const wrong = await get(`/v1/portfolios/${P}/performance?periods=YTD,2Y`)
    expect([wrong.status, wrong.body.field]).toEqual([400, 'periods'])
  })

  test("risk against a security's own prices as the benchmark", async () => {
    const { P, A, BM } = ids()
    const res = await get<Of<typeof RiskView>>(`/v1/portfolios/${P}/risk?from=2025-01-07&benchmarkSecurityId=${A}`)
    expect(res.status).toBe(200)
    // A's prices 100, 102, 101, 104, 105: returns Tue to Fri 2/100, −1/102, 3/101, 1/104.
    const bs = [2 / 100, -1 / 102, 3 / 101, 1 / 104]
    const rs = [r.tue, r.wed, r.thu, r.fri]
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length
    const [mr, mb] = [mean(rs), mean(bs)]
    const cov = rs.reduce((s, x, i) => s + (x - mr) * ((bs[i] as number) - mb), 0) / 3
    const varB = bs.reduce((s, x) => s + (x - mb) ** 2, 0) / 3
    expect(res.body.benchmark).toMatchObject({ benchmarkId: A, source: 'security' })
    expect(res.body.benchmark?.beta).toBeCloseTo(cov / varB, 10)
    expect(res.body.benchmark?.benchmarkReturn).toBeCloseTo(105 / 100 - 1, 12)
    // From Monday: A has no price before it, so no return that day.
    const monday = await get(`/v1/portfolios/${P}/risk?period=SI&benchmarkSecurityId=${A}`)
    expect([monday.status, monday.body.field]).toEqual([422, 'benchmarkSecurityId'])
    const both = await get(`/v1/portfolios/${P}/risk?benchmarkId=${BM}&benchmarkSecurityId=${A}`)
    expect([both.status, both.body.field]).toEqual([400, 'benchmarkSecurityId'])
  })

  test('risk on log returns, and gross of fees', async () => {
    const { P } = ids()
    const sample = (xs: number[]) => {
      const mean = xs.reduce((a, b) => a + b) / xs.length
      return Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1))
    }
    // Log returns ln(1 + r) of the week's days; gross, Thursday's fee of 10 is added back: 160 / 11,060.
    const logs = [0, r.tue, r.wed, r.thu, r.fri].map(Math.log1p)
    const log = await get<Of<typeof RiskView>>(`/v1/portfolios/${P}/risk?period=SI&returns=log`)
    expect(log.body.volatility).toBeCloseTo(sample(logs) * Math.sqrt(252), 12)
    expect(log.body.conventions.returns).toContain('log returns')
    const gross = await get<Of<typeof RiskView>>(`/v1/portfolios/${P}/risk?period=SI&fees=gross`)
    expect(gross.body.volatility).toBeCloseTo(sample([0, r.tue, r.wed, 160 / 11_060, r.fri]) * Math.sqrt(252), 12)
    expect(gross.body.conventions.returns).toContain('gross of fees')
    expect((await get(`/v1/portfolios/${P}/risk?returns=cubic`)).status).toBe(400)
  })

  test('risk over several periods in one request', async () => {
    const { P } = ids()
    const res = await get<Of<typeof RiskView>>(`/v1/portfolios/${P}/risk?period=SI&periods=YTD,Y2024,MTD`)
    expect(res.status).toBe(200)
    // YTD and MTD are the week: the statistics of the SI answer itself, computed by hand above.
    const rs = [0, r.tue, r.wed, r.thu, r.fri]
    const mean = rs.reduce((a, b) => a + b) / 5
    const sd = Math.sqrt(rs.reduce((s, x) => s + (x - mean) ** 2, 0) / 4)
    const week = {
      from: '2025-01-06',
      to: '2025-01-10',
      volatility: expect.closeTo(sd * Math.sqrt(252), 12),
      maxDrawdown: expect.closeTo(r.wed, 12),
      unavailable: null,
    }
    expect(res.body.periods?.[0]).toMatchObject({ name: 'YTD', ...week })
    expect(res.body.periods?.[1]).toMatchObject({ name: 'Y2024', volatility: null, unavailable: expect.any(String) })
    expect(res.body.periods?.[2]).toMatchObject({ name: 'MTD', ...week })
  })

  test('concentration on Friday: ACME’s two securities summed as one issuer; HHI over positions', async () => {
    const { P, A } = ids()
    const res = await get<Of<typeof ConcentrationView>>(`/v1/portfolios/${P}/concentration`)
    expect(res.status).toBe(200)
    // A 5,250, B 2,040, C 1,000, cash 2,990 of 11,280.
    const w = [5250, 2040, 1000, 2990].map((v) => v / 11_280)
    expect(res.body.total).toBe('11280.00')
    expect(res.body.hhi).toBeCloseTo(
      w.reduce((s, x) => s + x * x, 0),
      12,
    )
    expect(res.body.positions[0]).toMatchObject({
      key: A,
      value: '5250.00',
      weight: expect.closeTo(w[0] as number, 12),
    })
    // ACME's exposure: A 5,250 + B 2,040 = 7,290.
    expect(res.body.issuers).toEqual([
      { issuer: 'ACME', value: '7290.00', weight: expect.closeTo((5250 + 2040) / 11_280, 12), unclassified: false },
      { issuer: 'Cash', value: '2990.00', weight: expect.closeTo(w[3] as number, 12), unclassified: false },
      { issuer: 'OTHER', value: '1000.00', weight: expect.closeTo(w[2] as number, 12), unclassified: false },
    ])
    expect(res.body.allocation.assetClass.map((x) => [x.key, x.value])).toEqual([
      ['Equity', '6250.00'],
      ['Cash', '2990.00'],
      ['Bond', '2040.00'],
    ])
    // B, rated A, matures 2029-06-30: 4.5 years after Friday, 3-5y; the shares have no maturity date.
    expect(res.body.allocation.maturity.map((x) => [x.key, x.value])).toEqual([
      ['none', '6250.00'],
      ['Cash', '2990.00'],
      ['3-5y', '2040.00'],
    ])
    expect(res.body.allocation.rating.map((x) => [x.key, x.value])).toEqual([
      ['Unrated', '6250.00'],
      ['Cash', '2990.00'],
      ['A', '2040.00'],
    ])
    // Several top-N in one call: by weight A 5,250, cash 2,990, B 2,040, C 1,000.
    const tops = await get<Of<typeof ConcentrationView>>(`/v1/portfolios/${P}/concentration?top=1,3,2`)
    expect(tops.body.tops).toEqual([
      { n: 1, share: expect.closeTo(5250 / 11_280, 12) },
      { n: 3, share: expect.closeTo((5250 + 2990 + 2040) / 11_280, 12) },
      { n: 2, share: expect.closeTo((5250 + 2990) / 11_280, 12) },
    ])
    expect(tops.body.topN).toEqual({ n: 1, share: expect.closeTo(5250 / 11_280, 12) })
    const wrong = await get(`/v1/portfolios/${P}/concentration?top=3,0`)
    expect([wrong.status, wrong.body.field]).toEqual([400, 'top'])
  })

  test('the review of a portfolio with no transaction yet: 200, zeros, and no data yet said for every figure', async () => {
    const E = `E-${pipeline.run}`
    await pipeline.send('portfolios', [{ portfolioId: E, baseCurrency: 'EUR', openDate: '2025-01-06' }])
    await settles(async () => (await get(`/v1/portfolios/${E}`)).status, 200)
    const res = await get<Required<Of<typeof ReviewView>>>(`/v1/portfolios/${E}/review`)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      asOf: '2025-01-10', // the business date
      dataSince: null,
      overview: { totalWealth: '0.00', cash: '0.00', ytdPnl: '0.00', complete: true },
      activity: { ytdIncome: '0.00', ytdDeposits: '0.00', ytdWithdrawals: '0.00', ytdFees: '0.00' },
      holdings: [],
      transactions: { ytdCount: 0, recent: [], byAssetClass: [] },
    })
    expect(res.body.overview.portfolio.portfolioId).toBe(E)
    expect(res.body.performance.map((p) => [p.preset, p.net, p.unavailable])).toEqual(
      ['MTD', 'QTD', 'YTD', '1Y', '3Y', 'SI'].map((preset) => [preset, null, expect.stringContaining('no data yet')]),
    )
    // The other analytics still say there is no series to compute on.
    expect((await get(`/v1/portfolios/${E}/performance?period=SI`)).status).toBe(422)
  })

  test('the review: one snapshot with overview, presets, risk, activity, holdings and transactions', async () => {
    const { P } = ids()
    const res = await get<Required<Of<typeof ReviewView>>>(`/v1/portfolios/${P}/review`)
    expect(res.status).toBe(200)
    const b = res.body
    expect([b.asOf, b.dataSince]).toEqual(['2025-01-10', '2025-01-06'])
    // P&L this year: 0 + 80 − 20 + 150 + 70 = 280.
    expect(b.overview).toMatchObject({ totalWealth: '11280.00', cash: '2990.00', ytdPnl: '280.00', complete: true })
    expect(b.overview.portfolio.riskProfile).toBe('BALANCED')
    const si = b.performance.find((p) => p.preset === 'SI')
    expect(si?.net?.cumulative).toBeCloseTo(week, 12)
    expect(b.performance.find((p) => p.preset === '1Y')).toMatchObject({
      net: null,
      unavailable: expect.any(String),
    })
    expect(b.activity).toEqual({ ytdIncome: '0.00', ytdDeposits: '11000.00', ytdWithdrawals: '0.00', ytdFees: '10.00' })
    expect(b.holdings.map((h) => [h.assetClass, h.value])).toEqual([
      ['Equity', '6250.00'],
      ['Cash', '2990.00'],
      ['Bond', '2040.00'],
    ])
    expect(b.transactions.ytdCount).toBe(7)
    // By asset class: the deposits and the fee have no security (Cash: D1, D2, F1); Equity: A and C
    // bought, and the refused sale of C (stored all the same); Bond: B.
    expect(b.transactions.byAssetClass).toEqual([
      { assetClass: 'Cash', count: 3 },
      { assetClass: 'Equity', count: 3 },
      { assetClass: 'Bond', count: 1 },
    ])
    expect(b.transactions.recent[0]?.tradeDate).toBe('2025-01-10')
    expect(b.risk.find((x) => x.preset === 'YTD')?.volatility).toBeGreaterThan(0)
  })

  test('the review with only the sections asked for; an unknown section is 400 naming the parameter', async () => {
    const { P } = ids()
    const E = `E2-${pipeline.run}` // no transaction
    await pipeline.send('portfolios', [{ portfolioId: E, baseCurrency: 'EUR', openDate: '2025-01-06' }])
    await settles(async () => (await get(`/v1/portfolios/${E}`)).status, 200)
    const some = await get<Of<typeof ReviewView>>(`/v1/portfolios/${P}/review?sections=overview,risk`)
    expect(some.status).toBe(200)
    expect(Object.keys(some.body).sort()).toEqual(['asOf', 'dataSince', 'overview', 'portfolioId', 'risk'])
    // The same figures as in the whole review (worked above).
    expect(some.body.overview).toMatchObject({ totalWealth: '11280.00', ytdPnl: '280.00' })
    const holdings = await get<Of<typeof ReviewView>>(`/v1/portfolios/${P}/review?sections=holdings`)
    expect(holdings.body.holdings?.map((h) => h.value)).toEqual(['6250.00', '2990.00', '2040.00'])
    expect(holdings.body.performance).toBeUndefined()
    const empty = await get<Of<typeof ReviewView>>(`/v1/portfolios/${E}/review?sections=activity`)
    expect([empty.status, Object.keys(empty.body).sort()]).toEqual([
      200,
      ['activity', 'asOf', 'dataSince', 'portfolioId'],
    ])
    const wrong = await get(`/v1/portfolios/${P}/review?sections=overview,charts`)
    expect([wrong.status, wrong.body.field, wrong.body.message]).toEqual([
      400,
      'sections',
      expect.stringContaining('charts'),
    ])
  })

  test('missing data: the days and positions are named instead of a wrong number', async () => {
    const { Q, D } = ids()
    const res = await get(`/v1/portfolios/${Q}/performance?period=SI`)
    expect(res.status).toBe(422)
    expect(res.body.missingDays).toEqual([
      { date: '2025-01-06', reason: 'MISSING_PRICE', positionIds: [D] },
      { date: '2025-01-07', reason: 'MISSING_PRICE', positionIds: [D] },
    ])
    // From Wednesday on, D is priced and the figure is given.
    expect((await get(`/v1/portfolios/${Q}/performance?from=2025-01-08`)).status).toBe(200)
  })

  test('bad parameters: 400 naming the field', async () => {
    const { P } = ids()
    const badPreset = await get(`/v1/portfolios/${P}/performance?period=2Y`)
    expect(badPreset.status).toBe(400)
    expect(badPreset.body.field).toBe('period')
    const badDate = await get(`/v1/portfolios/${P}/performance?from=2025-02-30`)
    expect(badDate).toEqual({
      status: 400,
      body: {
        code: 'INVALID_REQUEST',
        message: 'from: 2025-02-30 is not a calendar date',
        field: 'from',
        correlationId: expect.any(String),
      },
    })
    expect((await get(`/v1/portfolios/${P}/performance?from=2025-01-09&to=2025-01-07`)).body.field).toBe('from')
    expect((await get(`/v1/portfolios/${P}/risk?confidence=1.5`)).body.field).toBe('confidence')
    // Integers too (Elysia coerces them through a union that reports the inner schema).
    expect((await get(`/v1/portfolios/${P}/transactions?limit=0`)).body.field).toBe('limit')
    expect((await get(`/v1/portfolios/${P}/valuations?staleAfterDays=-1`)).body.field).toBe('staleAfterDays')
    expect((await get(`/v1/portfolios/${P}/performance?from=2024-12-02`)).status).toBe(422)
  })

  test('support and lineage: every stage current; the rejected sale listed', async () => {
    const { P, A } = ids()
    const support = await get<Of<typeof SupportView>>(`/v1/portfolios/${P}/support`)
    expect(support.body.stages.map((s) => [s.stage, s.state])).toEqual([
      ['positions', 'current'],
      ['valuation', 'current'],
      ['timeseries', 'current'],
    ])
    expect(support.body.rejectedTransactions).toEqual([expect.objectContaining({ code: 'INSUFFICIENT_QUANTITY' })])
    const lineage = await get<Of<typeof LineageView>>(`/v1/portfolios/${P}/positions/${A}/lineage`)
    expect(lineage.body.latestTransaction?.transactionId).toBe(`B1-${P}`)
    expect(lineage.body.latestSeriesDate).toBe('2025-01-10')
    expect(lineage.body.stages.map((s) => [s.stage, s.reflectsLatestTransaction])).toEqual([
      ['positions', true],
      ['valuation', true],
      ['timeseries', true],
    ])
  })

  test('on query worker threads (QueryPool), every analytics answer and error is the one the HTTP thread gives', async () => {
    const { P, Q, A } = ids()
    const pool = new QueryPool(2, pipeline.db.url, { connections: 2, memoryTargetMb: 0 })
    try {
      const pooled = new Elysia().use(queryRoutes(pipeline.db.sql, pool)) as unknown as Elysia
      const paths = [
        `/v1/portfolios/${P}/review`,
        `/v1/portfolios/${P}/performance?period=SI&frequency=daily`,
        `/v1/portfolios/${P}/performance?from=2025-01-09&to=2025-01-07`, // 400
        `/v1/portfolios/${P}/mwr`,
        `/v1/portfolios/${P}/contribution`,
        `/v1/portfolios/${P}/risk?frequency=daily`,
        `/v1/portfolios/${P}/concentration?top=2`,
        `/v1/portfolios/${P}/positions`,
        `/v1/portfolios/${P}/support`,
        `/v1/portfolios/${P}/summary?from=2025-01-07`,
        `/v1/portfolios/${P}/position-analytics?from=2025-01-07`,
        `/v1/portfolios/${P}/positions/${A}/lineage`,
        `/v1/portfolios/${Q}/performance?period=SI`, // 422: Monday and Tuesday unvalued
        `/v1/portfolios/NOPE-${P}/review`, // 404
      ]
      // Fired at once: the two workers answer concurrently.
      const answers = await Promise.all(
        paths.map(async (path) => {
          const [own, other] = await Promise.all([
            app.handle(new Request(`http://localhost${path}`)),
            pooled.handle(new Request(`http://localhost${path}`)),
          ])
          const strip = (body: unknown) => ({ ...(body as Record<string, unknown>), correlationId: undefined })
          // Answered by a worker, a 200 is the worker's text (checked and serialized there): the
          // same body and content type as the route's own schema handling gives.
          const types = [own.headers.get('content-type'), other.headers.get('content-type')]
          return [path, own.status, strip(await own.json()), other.status, strip(await other.json()), types] as const
        }),
      )
      for (const [path, status, body, pooledStatus, pooledBody, [type, pooledType]] of answers) {
        expect([path, pooledStatus, pooledBody, pooledType]).toEqual([path, status, body, type])
      }
      expect(answers.map(([, status]) => status)).toEqual([
        200, 200, 400, 200, 200, 200, 200, 200, 200, 200, 200, 200, 422, 404,
      ])
    } finally {
      await pool.close()
    }
  }, 60_000)

  test('the OpenAPI document describes every query route; /docs renders it with nothing from the internet', async () => {
    const doc = (await get<OpenApi>('/openapi.json')).body
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/portfolios/{portfolioId}/review',
        '/v1/portfolios/{portfolioId}/summary',
        '/v1/portfolios/{portfolioId}/risk',
      ]),
    )
    const confidence = doc.paths['/v1/portfolios/{portfolioId}/risk']?.get?.parameters.find(
      (p) => p.name === 'confidence',
    )
    expect(confidence?.schema.description).toContain('confidence')
    const page = await (await app.handle(new Request('http://localhost/docs'))).text()
    expect(page).toContain('/openapi.json')
    expect(page).not.toMatch(/<(script|link)[^>]+(src|href)=["']?https?:/)
  })
})
