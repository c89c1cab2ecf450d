import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Static } from '@sinclair/typebox'
import { Elysia } from 'elysia'
import type { TransactionView } from '../query/views.ts'
import { everyStage, settles, startPipeline } from '../testing/pipeline.ts'
import { adminRoutes } from './admin.ts'
import type { ErrorBody } from './errors.ts'
import { queryRoutes } from './query.ts'

type Paged<T> = { items: T[]; total: number }

/**
 * Per-transaction economics over what the real pipeline derived, through HTTP; figures by hand.
 *
 * Portfolio G (EUR) buys and sells U, a USD share; USD→EUR 0.90 from Monday, 0.95 from Thursday.
 *   Mon 2025-01-06  buy 10 @ 100 USD, fee 2: cost 1,002 USD × 0.90 = 901.80 EUR; cash −1,002 USD
 *   Thu 2025-01-09  sell 4 @ 110 USD, fee 1: proceeds 440 − 1 = 439 USD × 0.95 = 417.05 EUR
 *                   cost removed: 1,002 × 4/10 = 400.80 USD, 901.80 × 4/10 = 360.72 EUR
 *                   realized local 439 − 400.80 = 38.20 USD; base 417.05 − 360.72 = 56.33 EUR
 *                   price part 38.20 × 0.95 = 36.29; FX part 56.33 − 36.29 = 20.04
 *                     (= cost local × FX(sale) − cost base = 400.80 × 0.95 − 360.72 = 380.76 − 360.72)
 *   Fri 2025-01-10  sell 100 @ 110: more than held, rejected: no economics
 *   Fri 2025-01-10  dividend on U 5 USD, withholding 0.75: 4.25 USD × 0.95 = 4.0375 EUR of income
 */
describe('transactions with their economics', () => {
  let pipeline: Awaited<ReturnType<typeof startPipeline>>
  let app: Elysia
  const ids = () => ({ G: `G-${pipeline.run}`, U: `U-${pipeline.run}` })
  const reprocess = (body: unknown) =>
    app.handle(
      new Request('http://localhost/v1/admin/reprocess', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    )
  const get = async <T = ErrorBody>(path: string) => {
    const res = await app.handle(new Request(`http://localhost${path}`))
    return { status: res.status, body: (await res.json()) as T }
  }

  beforeAll(async () => {
    pipeline = await startPipeline('pg', everyStage)
    app = new Elysia()
      .use(queryRoutes(pipeline.db.sql))
      .use(adminRoutes(pipeline.db.sql, pipeline.log)) as unknown as Elysia
    const { G, U } = ids()
    await pipeline.send('portfolios', [{ portfolioId: G, baseCurrency: 'EUR', openDate: '2025-01-06' }])
    await pipeline.send('instruments', [{ securityId: U, name: 'U shares', currency: 'USD', assetClass: 'Equity' }])
    await pipeline.send('fx-rates', [
      { from: 'USD', to: 'EUR', date: '2025-01-06', rate: '0.9' },
      { from: 'USD', to: 'EUR', date: '2025-01-09', rate: '0.95' },
    ])
    const t = (id: string, tradeDate: string, fields: Record<string, string>) => ({
      transactionId: `${id}-${G}`,
      portfolioId: G,
      currency: 'USD',
      tradeDate,
      ...fields,
    })
    await pipeline.send('transactions', [
      t('BUY', '2025-01-06', { type: 'BUY', securityId: U, quantity: '10', price: '100', fee: '2' }),
      t('SELL', '2025-01-09', { type: 'SELL', securityId: U, quantity: '4', price: '110', fee: '1' }),
      t('BIG', '2025-01-10', { type: 'SELL', securityId: U, quantity: '100', price: '110' }),
      t('DIV', '2025-01-10', { type: 'DIVIDEND', securityId: U, grossAmount: '5', fee: '0.75' }),
    ])
    // Three applied (two rows each: U and its cash), one rejected.
    await settles(
      async () =>
        (
          await pipeline.db.sql`select (select count(*)::int from position_history where portfolio_id = ${G})
                                     + (select count(*)::int from transaction_rejections where portfolio_id = ${G}) as n`
        )[0]?.n,
      7,
    )
  }, 120_000)
  afterAll(() => pipeline?.stop())

  test('a foreign sale: realized P&L in local and base, split into its price and FX parts', async () => {
    const { G, U } = ids()
    const res = await get<Static<typeof TransactionView>>(`/v1/portfolios/${G}/transactions/SELL-${G}`)
    expect(res.status).toBe(200)
    const e = res.body.economics
    expect(e?.grossAmount).toBe('440')
    expect(Number(e?.fxRate)).toBe(0.95)
    const p = e?.position
    expect(p?.positionId).toBe(U)
    // Exact decimals as stored: compare as numbers worked above.
    const n = (s: string | undefined) => Number(s)
    expect([p?.quantityChange, p?.netCostLocal, p?.netCostBase].map(n)).toEqual([-4, -400.8, -360.72])
    expect([p?.realizedLocal, p?.realizedBase, p?.realizedPriceBase, p?.realizedFxBase].map(n)).toEqual([
      38.2, 56.33, 36.29, 20.04,
    ])
    expect(e?.cashflow).toMatchObject({ class: 'INVESTMENT', timing: 'EOD', currency: 'USD', positionId: U })
    expect([e?.cashflow?.amountLocal, e?.cashflow?.amountBase, e?.cashflow?.feeLocal].map(n)).toEqual([439, 417.05, 1])
  })

  test('the list carries the same economics: the buy’s cost at its own FX, the dividend’s income; none for the rejected sale', async () => {
    const { G } = ids()
    const res = await get<Paged<Static<typeof TransactionView>>>(`/v1/portfolios/${G}/transactions`)
    expect(res.status).toBe(200)
    const byId = new Map(res.body.items.map((x) => [x.transactionId.split('-')[0], x]))
    const buy = byId.get('BUY')?.economics
    expect(Number(buy?.fxRate)).toBe(0.9)
    expect([buy?.position?.netCostLocal, buy?.position?.netCostBase, buy?.position?.realizedBase].map(Number)).toEqual([
      1002, 901.8, 0,
    ])
    expect([buy?.cashflow?.amountLocal, buy?.cashflow?.amountBase].map(Number)).toEqual([-1002, -901.8])
    const big = byId.get('BIG')
    expect(big?.rejection?.code).toBe('INSUFFICIENT_QUANTITY')
    expect(big?.economics).toBeNull()
    const div = byId.get('DIV')?.economics
    expect([div?.grossAmount, div?.position?.incomeBase, div?.position?.netCostBase].map(Number)).toEqual([
      5, 4.0375, 0,
    ])
    expect([div?.cashflow?.amountLocal, div?.cashflow?.feeLocal].map(Number)).toEqual([4.25, 0.75])
    // The single read is the list's row.
    const one = await get<Static<typeof TransactionView>>(`/v1/portfolios/${G}/transactions/DIV-${G}`)
    expect(one.body).toEqual(byId.get('DIV') as Static<typeof TransactionView>)
  })

  test('reprocess over HTTP from a transaction: what was lost from its trade date comes back, FX rates included', async () => {
    const { G } = ids()
    const post = async (body: unknown) => {
      const res = await reprocess(body)
      return { status: res.status, body: (await res.json()) as Record<string, unknown> }
    }
    const rows = async () =>
      (
        await pipeline.db.sql`select count(*)::int as n, count(c.fx_rate)::int as rated
        from position_history h left join cashflows c using (portfolio_id, transaction_id)
        where h.portfolio_id = ${G}`
      )[0] as { n: number; rated: number }
    const before = await rows()
    expect(before).toEqual({ n: 6, rated: 6 })
    // Lose Thursday on: the sale's two rows; and the buy's FX rate, as if derived before pas kept it.
    await pipeline.db.sql`delete from position_history where portfolio_id = ${G} and date >= '2025-01-09'`
    await pipeline.db.sql`update cashflows set fx_rate = null where portfolio_id = ${G}`
    expect(await rows()).toEqual({ n: 2, rated: 0 })

    const fromSale = await post({ portfolioId: G, transactionIds: [`SELL-${G}`, `DIV-${G}`] })
    expect(fromSale).toEqual({
      status: 202,
      body: {
        portfolioId: G,
        fromDate: '2025-01-09', // the earlier of the two trade dates
        stages: ['positions', 'valuation', 'timeseries'],
        transactions: [
          { transactionId: `SELL-${G}`, tradeDate: '2025-01-09' },
          { transactionId: `DIV-${G}`, tradeDate: '2025-01-10' },
        ],
      },
    })
    // From Thursday on: the rows come back with their FX rates; Monday's buy keeps its null.
    await settles(rows, { n: 6, rated: 4 })
    const fromStart = await post({ portfolioId: G, from: '2025-01-06' })
    expect([fromStart.status, fromStart.body.fromDate, fromStart.body.transactions]).toEqual([202, '2025-01-06', []])
    await settles(rows, { n: 6, rated: 6 })
    const sale = await get<Static<typeof TransactionView>>(`/v1/portfolios/${G}/transactions/SELL-${G}`)
    expect(Number(sale.body.economics?.position?.realizedFxBase)).toBe(20.04)
  }, 120_000)

  test('reprocess: what is wrong is named, and nothing is scheduled', async () => {
    const { G } = ids()
    const post = async (body: unknown) => {
      const res = await reprocess(body)
      return [res.status, ((await res.json()) as ErrorBody).field]
    }
    expect(await post({ portfolioId: G })).toEqual([400, 'from'])
    expect(await post({ portfolioId: G, from: '2025-01-06', transactionIds: ['X'] })).toEqual([400, 'transactionIds'])
    expect(await post({ portfolioId: G, from: '2025-02-30' })).toEqual([400, 'from'])
    expect(await post({ portfolioId: G, transactionIds: [] })).toEqual([400, 'transactionIds'])
    expect(await post({ portfolioId: G, transactionIds: [`BUY-${G}`, 'NOPE'] })).toEqual([422, 'transactionIds'])
    expect(await post({ portfolioId: 'nobody', from: '2025-01-06' })).toEqual([404, 'portfolioId'])
  })

  test('an unknown transaction is 404 naming transactionId', async () => {
    const { G } = ids()
    const res = await get(`/v1/portfolios/${G}/transactions/NOPE`)
    expect([res.status, res.body.field]).toEqual([404, 'transactionId'])
    expect((await get('/v1/portfolios/nobody/transactions/NOPE')).status).toBe(404)
  })
})
