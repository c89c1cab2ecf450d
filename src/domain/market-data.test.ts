import { describe, expect, test } from 'bun:test'
import { toEpochDay } from './dates.ts'
import { FxTable, PriceTable, type Quote } from './market-data.ts'
import { str } from './money.ts'

const day = toEpochDay
const shown = (q: Quote | undefined) => (q ? str(q.value) : undefined)

describe('PriceTable', () => {
  const prices = PriceTable.of([
    { securityId: 'A', date: '2025-01-03', price: '10', currency: 'USD' },
    { securityId: 'A', date: '2025-01-07', price: '11', currency: 'USD' },
    { securityId: 'A', date: '2025-01-07', price: '11.5', currency: 'USD' }, // a correction of that day
  ])

  test('the price of a day is the latest on or before it', () => {
    expect(prices.latest('A', day('2025-01-02'))).toBeUndefined()
    expect(shown(prices.latest('A', day('2025-01-06')))).toBe('10')
    expect(prices.latest('A', day('2025-01-06'))?.day).toBe(day('2025-01-03'))
    expect(shown(prices.latest('A', day('2025-02-01')))).toBe('11.5')
    expect(prices.latest('B', day('2025-02-01'))).toBeUndefined()
  })

  test('from series read in bulk (epoch days ascending), the same answers, currency per day', () => {
    const bulk = PriceTable.ofSeries([
      {
        securityId: 'A',
        days: [day('2025-01-03'), day('2025-01-07')],
        texts: ['10', '11.5'],
        currencies: ['USD', 'EUR'],
      },
    ])
    expect(bulk.latest('A', day('2025-01-02'))).toBeUndefined()
    expect([shown(bulk.latest('A', day('2025-01-06'))), bulk.latest('A', day('2025-01-06'))?.currency]).toEqual([
      '10',
      'USD',
    ])
    expect([shown(bulk.latest('A', day('2025-02-01'))), bulk.latest('A', day('2025-02-01'))?.currency]).toEqual([
      '11.5',
      'EUR',
    ])
    expect(bulk.of('B')(day('2025-02-01'))).toBeUndefined()
  })
})

describe('FxTable', () => {
  const fx = FxTable.of([
    { from: 'EUR', to: 'USD', date: '2025-01-02', rate: '1.25' },
    { from: 'USD', to: 'EUR', date: '2025-01-06', rate: '0.75' },
  ])

  test('a currency against itself is 1', () => {
    expect(shown(fx.rate('JPY', 'JPY', 0))).toBe('1')
  })

  test('a pair not given is the inverse of its opposite, rounded to 10 places', () => {
    // USD/EUR on Jan 3: only EUR/USD 1.25 exists → 1 / 1.25 = 0.8
    expect(shown(fx.rate('USD', 'EUR', day('2025-01-03')))).toBe('0.8')
    // EUR/USD on Jan 7: USD/EUR 0.75 (Jan 6) is newer than EUR/USD (Jan 2) → 1 / 0.75 = 1.3333333333
    expect(shown(fx.rate('EUR', 'USD', day('2025-01-07')))).toBe('1.3333333333')
    // ...but on Jan 5 the direct EUR/USD is the latest
    expect(shown(fx.rate('EUR', 'USD', day('2025-01-05')))).toBe('1.25')
  })

  test('no rate before the first one; a cross without USD legs has none', () => {
    expect(fx.rate('EUR', 'USD', day('2025-01-01'))).toBeUndefined()
    expect(fx.rate('EUR', 'GBP', day('2025-02-01'))).toBeUndefined()
  })

  test('a pair with neither quote is crossed through USD, rounded once, dated by the older leg', () => {
    const crossed = FxTable.of([
      { from: 'EUR', to: 'USD', date: '2025-01-02', rate: '1.25' },
      { from: 'GBP', to: 'USD', date: '2025-01-06', rate: '1.6' },
      { from: 'CHF', to: 'JPY', date: '2025-01-02', rate: '170' },
    ])
    // EUR/GBP on Jan 7 = EUR/USD 1.25 × USD/GBP (1 / 1.6 = 0.625) = 0.78125, as of Jan 2 (the older leg).
    expect(crossed.rate('EUR', 'GBP', day('2025-01-07'))).toMatchObject({ day: day('2025-01-02'), currency: 'GBP' })
    expect(shown(crossed.rate('EUR', 'GBP', day('2025-01-07')))).toBe('0.78125')
    // GBP/EUR = 1.6 × (1 / 1.25 = 0.8) = 1.28.
    expect(shown(crossed.rate('GBP', 'EUR', day('2025-01-07')))).toBe('1.28')
    // Before the GBP leg exists there is no cross; CHF/JPY is given, so it is not crossed.
    expect(crossed.rate('EUR', 'GBP', day('2025-01-05'))).toBeUndefined()
    expect(shown(crossed.rate('CHF', 'JPY', day('2025-01-07')))).toBe('170')
    // A pair given directly wins over the cross, however old.
    const both = FxTable.of([
      { from: 'EUR', to: 'USD', date: '2025-01-06', rate: '1.25' },
      { from: 'USD', to: 'GBP', date: '2025-01-06', rate: '0.625' },
      { from: 'EUR', to: 'GBP', date: '2025-01-02', rate: '0.8' },
    ])
    expect(shown(both.rate('EUR', 'GBP', day('2025-01-07')))).toBe('0.8')
  })
})
