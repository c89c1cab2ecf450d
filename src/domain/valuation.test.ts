import { describe, expect, test } from 'bun:test'
import { toEpochDay } from './dates.ts'
import { FxTable, PriceTable } from './market-data.ts'
import { recompute } from './positions.ts'
import type { Instrument, Portfolio, Price, Transaction } from './records.ts'
import { type ValuationContext, valuationOf, valuePosition, valueRanges } from './valuation.ts'

const portfolio: Portfolio = { portfolioId: 'P1', baseCurrency: 'USD', openDate: '2025-01-01' }
const instruments = new Map<string, Instrument>([
  ['AAPL', { securityId: 'AAPL', name: 'Apple', currency: 'USD' }],
  ['SAP', { securityId: 'SAP', name: 'SAP', currency: 'EUR' }],
])
const fx = FxTable.of([{ from: 'EUR', to: 'USD', date: '2025-01-01', rate: '1.25' }])
const t = (id: string, fields: Omit<Transaction, 'transactionId' | 'portfolioId'>): Transaction => ({
  transactionId: id,
  portfolioId: 'P1',
  ...fields,
})

function history(txns: Transaction[], positionId: string) {
  return recompute([], txns, { portfolio, instruments, fx }).rows.filter((r) => r.positionId === positionId)
}
const ctxWith = (prices: Price[]): ValuationContext => ({ portfolio, fx, prices: PriceTable.of(prices) })
const days = (from: string, to: string) => [toEpochDay(from), toEpochDay(to)] as const

describe('valuePosition', () => {
  const apple = history(
    [
      t('B1', {
        type: 'BUY',
        tradeDate: '2025-01-08',
        securityId: 'AAPL',
        quantity: '50',
        price: '12',
        currency: 'USD',
      }),
      t('S1', {
        type: 'SELL',
        tradeDate: '2025-01-15',
        securityId: 'AAPL',
        quantity: '50',
        price: '16',
        currency: 'USD',
      }),
    ],
    'AAPL',
  )

  test('uses the latest price on or before each business day, skips weekends, and values the closing day at zero', () => {
    const ctx = ctxWith([
      { securityId: 'AAPL', date: '2025-01-07', price: '11', currency: 'USD' },
      { securityId: 'AAPL', date: '2025-01-10', price: '15', currency: 'USD' },
      { securityId: 'AAPL', date: '2025-01-14', price: '16', currency: 'USD' },
    ])
    const v = valuePosition(apple, ...days('2025-01-01', '2025-01-20'), ctx)
    // Held from Wed Jan 8 (cost 50 × 12 = 600); sold Wed Jan 15; Jan 11-12 are a weekend.
    expect(v.map((x) => [x.date, x.price, x.marketValueBase, x.unrealizedBase])).toEqual([
      ['2025-01-08', '11', '550', '-50'], // 50 × 11 (Jan 7 price carried) − 600
      ['2025-01-09', '11', '550', '-50'],
      ['2025-01-10', '15', '750', '150'],
      ['2025-01-13', '15', '750', '150'], // Monday: Friday's price
      ['2025-01-14', '16', '800', '200'],
      ['2025-01-15', undefined, '0', '0'], // closed that day: value 0, no price, then no more rows
    ])
  })

  test('valued from the closing day itself (a recompute from the sale), the closing day is still valued at zero', () => {
    const ctx = ctxWith([{ securityId: 'AAPL', date: '2025-01-14', price: '16', currency: 'USD' }])
    // The sale on Wed Jan 15 asks for a recompute from Jan 15: the position was held on Jan 14, so
    // Jan 15 is its closing day and is valued at 0, exactly as a run from Jan 1 values it.
    const fromSale = valuePosition(apple, ...days('2025-01-15', '2025-01-20'), ctx)
    expect(fromSale.map((x) => [x.date, x.marketValueBase])).toEqual([['2025-01-15', '0']])
    const fromStart = valuePosition(apple, ...days('2025-01-01', '2025-01-20'), ctx)
    expect(fromStart.filter((x) => x.date >= '2025-01-15')).toEqual(fromSale)
  })

  test('over scattered ranges, each day is valued as a run over all of them values it, the closing day included', () => {
    const ctx = ctxWith([
      { securityId: 'AAPL', date: '2025-01-07', price: '11', currency: 'USD' },
      { securityId: 'AAPL', date: '2025-01-10', price: '15', currency: 'USD' },
    ])
    // Thu Jan 9 alone, then Mon Jan 13 to Wed Jan 15 (the sale): 550; 750, 750 and the closing day 0.
    const v = valueRanges(apple, [days('2025-01-09', '2025-01-09'), days('2025-01-13', '2025-01-20')], ctx).map(
      valuationOf,
    )
    expect(v.map((x) => [x.date, x.marketValueBase])).toEqual([
      ['2025-01-09', '550'],
      ['2025-01-13', '750'],
      ['2025-01-14', '750'],
      ['2025-01-15', '0'],
    ])
    const whole = valuePosition(apple, ...days('2025-01-01', '2025-01-20'), ctx)
    expect(v).toEqual(whole.filter((x) => x.date === '2025-01-09' || x.date >= '2025-01-13'))
  })

  test('a day with no price yet is reported unvalued, not valued at zero', () => {
    const ctx = ctxWith([{ securityId: 'AAPL', date: '2025-01-10', price: '15', currency: 'USD' }])
    const v = valuePosition(apple, ...days('2025-01-08', '2025-01-10'), ctx)
    expect(v.map((x) => [x.date, x.status, x.marketValueBase])).toEqual([
      ['2025-01-08', 'MISSING_PRICE', undefined],
      ['2025-01-09', 'MISSING_PRICE', undefined],
      ['2025-01-10', 'VALUED', '750'],
    ])
  })

  test('a foreign position is valued in local and base currency; a price quoted in another currency is converted', () => {
    const sap = history(
      [
        t('B2', {
          type: 'BUY',
          tradeDate: '2025-01-06',
          securityId: 'SAP',
          quantity: '10',
          price: '100',
          currency: 'EUR',
        }),
      ],
      'SAP',
    )
    // Cost EUR 1,000 = USD 1,250. Jan 6: EUR 120 → MV EUR 1,200 = USD 1,500.
    // Jan 7: quoted USD 162.50 → × (1 / 1.25 = 0.8) = EUR 130 → MV EUR 1,300 = USD 1,625.
    const ctx = ctxWith([
      { securityId: 'SAP', date: '2025-01-06', price: '120', currency: 'EUR' },
      { securityId: 'SAP', date: '2025-01-07', price: '162.50', currency: 'USD' },
    ])
    const v = valuePosition(sap, ...days('2025-01-06', '2025-01-07'), ctx)
    expect(
      v.map((x) => [x.price, x.fxRate, x.marketValueLocal, x.marketValueBase, x.unrealizedLocal, x.unrealizedBase]),
    ).toEqual([
      ['120', '1.25', '1200', '1500', '200', '250'],
      ['130', '1.25', '1300', '1625', '300', '375'],
    ])
  })

  test('a foreign position with no FX rate is reported MISSING_FX', () => {
    const jpy = new Map(instruments).set('TM', { securityId: 'TM', name: 'Toyota', currency: 'JPY' })
    const jpFx = FxTable.of([{ from: 'JPY', to: 'USD', date: '2025-01-01', rate: '0.0064' }])
    const rows = recompute(
      [],
      [
        t('B3', {
          type: 'BUY',
          tradeDate: '2025-01-06',
          securityId: 'TM',
          quantity: '100',
          price: '2500',
          currency: 'JPY',
        }),
      ],
      { portfolio, instruments: jpy, fx: jpFx },
    ).rows.filter((r) => r.positionId === 'TM')
    const ctx: ValuationContext = {
      portfolio,
      fx,
      prices: PriceTable.of([{ securityId: 'TM', date: '2025-01-06', price: '2600', currency: 'JPY' }]),
    }
    expect(valuePosition(rows, ...days('2025-01-06', '2025-01-06'), ctx).map((x) => x.status)).toEqual(['MISSING_FX'])
  })
})
