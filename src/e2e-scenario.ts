import { businessDays, fromEpochDay, toEpochDay } from './domain/dates.ts'
import { FxTable, PriceTable } from './domain/market-data.ts'
import { recompute } from './domain/positions.ts'
import type { FxRate, Instrument, Portfolio, Price, Transaction } from './domain/records.ts'
import { portfolioSeries, seriesMoney } from './domain/timeseries.ts'
import { applyCancels } from './domain/transactions.ts'
import { valuationOf, valueDays } from './domain/valuation.ts'

/**
 * The end-to-end scenario (src/e2e.it.test.ts): two portfolios, FIFO and AVCO, in a base currency
 * other than USD, holding a USD stock and a stock in the
 * base currency for five weeks: deposits, buys, partial sells, a USD dividend net of withholding, a
 * fee, a withdrawal; then a back-dated buy before the sale and a late price correction.
 * `expected` computes what the stored tables must hold by running the pure engine on the same
 * inputs, in the test process; headline figures are also worked by hand in the test.
 */
/** The database's order for text (C collation). */
const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

export function scenario(run: string, base: string) {
  const US = `US-${run}`
  const LOC = `LOC-${run}`
  const instruments: Instrument[] = [
    { securityId: US, name: 'US stock', currency: 'USD' },
    { securityId: LOC, name: 'Local stock', currency: base },
  ]
  const portfolios: Portfolio[] = [
    { portfolioId: `FIFO-${run}`, baseCurrency: base, openDate: '2025-01-01', costMethod: 'FIFO' },
    { portfolioId: `AVCO-${run}`, baseCurrency: base, openDate: '2025-01-01', costMethod: 'AVCO' },
  ]
  const businessDate = '2025-02-07'
  const days = businessDays(toEpochDay('2025-01-06'), toEpochDay(businessDate)).map(fromEpochDay)
  const prices: Price[] = days.flatMap((date, d) => [
    { securityId: US, date, price: (50 + ((d * 7) % 11) - 3).toFixed(2), currency: 'USD' },
    { securityId: LOC, date, price: (20 + ((d * 5) % 7) / 2).toFixed(2), currency: base },
  ])
  // 1 base = 1.10 USD, then 1.05 from Jan 13, 1.08 from Jan 27.
  const fx: FxRate[] = [
    { from: base, to: 'USD', date: '2025-01-01', rate: '1.10' },
    { from: base, to: 'USD', date: '2025-01-13', rate: '1.05' },
    { from: base, to: 'USD', date: '2025-01-27', rate: '1.08' },
  ]
  const trades = (portfolioId: string): Transaction[] => {
    const t = (n: string, tradeDate: string, fields: Partial<Transaction>): Transaction => ({
      transactionId: `${portfolioId}-${n}`,
      portfolioId,
      tradeDate,
      type: 'BUY',
      currency: 'USD',
      ...fields,
    })
    return [
      t('D1', '2025-01-06', { type: 'DEPOSIT', grossAmount: '100000', currency: base }),
      t('D2', '2025-01-06', { type: 'DEPOSIT', grossAmount: '50000' }),
      t('B1', '2025-01-07', { securityId: US, quantity: '100', price: '50', fee: '5' }),
      t('B2', '2025-01-08', { securityId: LOC, quantity: '200', price: '20', fee: '2', currency: base }),
      t('B3', '2025-01-14', { securityId: US, quantity: '100', price: '55', fee: '5' }),
      t('V1', '2025-01-20', { type: 'DIVIDEND', securityId: US, grossAmount: '80', fee: '12' }),
      t('S1', '2025-01-22', { type: 'SELL', securityId: US, quantity: '150', price: '60', fee: '6' }),
      t('F1', '2025-01-24', { type: 'FEE', grossAmount: '25', currency: base }),
      t('W1', '2025-01-28', { type: 'WITHDRAWAL', grossAmount: '5000', currency: base }),
      t('S2', '2025-02-03', { type: 'SELL', securityId: LOC, quantity: '50', price: '22', fee: '1', currency: base }),
    ]
  }
  const backDated = (portfolioId: string): Transaction => ({
    transactionId: `${portfolioId}-B0`,
    portfolioId,
    type: 'BUY',
    tradeDate: '2025-01-09',
    securityId: US,
    quantity: '50',
    price: '45',
    currency: 'USD',
  })
  const correction: Price = { securityId: US, date: '2025-01-15', price: '70.00', currency: 'USD' }

  /** What the tables must hold for one portfolio, given its transactions and the prices so far. */
  function expected(portfolio: Portfolio, txns: readonly Transaction[], pricesSoFar: readonly Price[]) {
    const ctx = { portfolio, instruments: new Map(instruments.map((i) => [i.securityId, i])), fx: FxTable.of(fx) }
    const fold = recompute([], applyCancels(txns).active, ctx)
    const from = toEpochDay(portfolio.openDate)
    const to = toEpochDay(businessDate)
    const days = [...Map.groupBy(fold.rows, (r) => r.positionId).values()].flatMap((history) =>
      valueDays(history, from, to, { ...ctx, prices: PriceTable.of(pricesSoFar) }),
    )
    const valuations = days.map(valuationOf)
    return {
      // By day, then position (byte order), each position's rows in the order the fold applied them.
      positions: fold.rows
        .map((r, i) => ({ r, seq: fold.seqs[i] as number }))
        .sort((a, b) => byteOrder(a.r.date, b.r.date) || byteOrder(a.r.positionId, b.r.positionId) || a.seq - b.seq)
        .map(({ r }) => [r.positionId, r.date, r.quantity, r.costLocal, r.costBase, r.realizedLocal, r.realizedBase]),
      valuations: valuations
        .map((v) => [v.positionId, v.date, v.status, v.marketValueBase ?? null])
        .sort((a, b) => byteOrder(String(a[1]), String(b[1])) || byteOrder(String(a[0]), String(b[0]))),
      series: portfolioSeries(portfolio.portfolioId, days, fold.cashflows, from, to).map((p) => [
        p.date,
        ...seriesMoney(p),
      ]),
    }
  }

  return { US, LOC, instruments, portfolios, businessDate, prices, fx, trades, backDated, correction, expected }
}
