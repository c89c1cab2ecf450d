import { describe, expect, test } from 'bun:test'
import { keyOf, validateRecord } from './validate.ts'

describe('validateRecord', () => {
  test('each problem names its field', () => {
    expect(validateRecord('price', { securityId: 'A', date: '2025-02-30', price: '1.5', currency: 'USD' })).toEqual([
      { field: 'date', message: '2025-02-30 is not a calendar date' },
    ])
    const problems = validateRecord('transaction', {
      transactionId: 'T',
      portfolioId: 'P',
      type: 'BUY',
      currency: 'USD',
      quantity: 5,
    })
    expect(problems.map((p) => p.field).sort()).toEqual(['quantity', 'tradeDate'])
  })

  test('an FX pair needs two currencies and a positive rate; a CANCEL needs its target', () => {
    expect(validateRecord('fx', { from: 'EUR', to: 'EUR', date: '2025-01-02', rate: '0' }).map((p) => p.field)).toEqual(
      ['to', 'rate'],
    )
    expect(
      validateRecord('transaction', {
        transactionId: 'T',
        portfolioId: 'P',
        type: 'CANCEL',
        tradeDate: '2025-01-02',
        currency: 'USD',
      }),
    ).toEqual([{ field: 'cancels', message: 'a CANCEL names the transaction it cancels' }])
  })

  describe('what PostgreSQL or the engine cannot take is refused at the edge, naming the field', () => {
    const buy = {
      transactionId: 'T1',
      portfolioId: 'P1',
      type: 'BUY',
      tradeDate: '2025-01-06',
      securityId: 'AAPL',
      quantity: '10',
      price: '187.5',
      currency: 'USD',
    }
    const fieldsOf = (kind: Parameters<typeof validateRecord>[0], record: unknown) =>
      validateRecord(kind, record).map((p) => p.field)

    test('a valid record passes', () => {
      expect(validateRecord('transaction', buy)).toEqual([])
      expect(validateRecord('fx', { from: 'EUR', to: 'USD', date: '2025-01-02', rate: '0.000001' })).toEqual([])
    })

    test.each([
      ['year 0 (PostgreSQL has no year 0)', '0000-01-01'],
      ['month 13', '2025-13-01'],
      ['month 00', '2025-00-10'],
      ['day 00', '2025-01-00'],
      ['a day the month lacks', '2025-02-29'],
      ['before 1970', '1900-01-02'],
      ['after 2099', '9999-12-31'],
    ])('a date: %s', (_, date) => {
      expect(fieldsOf('transaction', { ...buy, tradeDate: date })).toEqual(['tradeDate'])
      expect(fieldsOf('businessDate', { date })).toEqual(['date'])
      expect(fieldsOf('price', { securityId: 'A', date, price: '1', currency: 'USD' })).toEqual(['date'])
      expect(fieldsOf('portfolio', { portfolioId: 'P', baseCurrency: 'EUR', openDate: date })).toEqual(['openDate'])
    })

    test('a bond may mature from 1900 to 2199, and only on a calendar date', () => {
      const bond = { securityId: 'B', name: 'Bond', currency: 'EUR' }
      expect(fieldsOf('instrument', { ...bond, maturityDate: '2125-06-30' })).toEqual([])
      expect(fieldsOf('instrument', { ...bond, maturityDate: '2125-02-30' })).toEqual(['maturityDate'])
      expect(fieldsOf('instrument', { ...bond, maturityDate: '2300-01-01' })).toEqual(['maturityDate'])
    })

    test.each([
      ['a NUL character', 'A\u0000B'],
      ['a lone high surrogate', 'A\ud800'],
      ['a lone low surrogate', '\udc00B'],
      ['a line feed', 'A\nB'],
      ['surrounding spaces', ' A '],
      ['129 characters', 'x'.repeat(129)],
    ])('an id with %s', (_, id) => {
      expect(fieldsOf('transaction', { ...buy, transactionId: id })).toEqual(['transactionId'])
      expect(fieldsOf('portfolio', { portfolioId: id, baseCurrency: 'EUR', openDate: '2025-01-01' })).toEqual([
        'portfolioId',
      ])
    })

    test('free text: a NUL in a name, a 1 MiB client id; a paired surrogate (an emoji) is fine', () => {
      const instrument = { securityId: 'S', name: 'Nestl\u00e9 \ud83c\udf6b', currency: 'CHF' }
      expect(fieldsOf('instrument', instrument)).toEqual([])
      expect(fieldsOf('instrument', { ...instrument, name: 'A\u0000' })).toEqual(['name'])
      const portfolio = { portfolioId: 'P', baseCurrency: 'EUR', openDate: '2025-01-01' }
      expect(fieldsOf('portfolio', { ...portfolio, clientId: 'c'.repeat(1 << 20) })).toEqual(['clientId'])
      expect(fieldsOf('portfolio', { ...portfolio, bookingCentre: 'Z\u00fcrich' })).toEqual([])
    })

    test('currencies are ISO 4217 codes', () => {
      expect(validateRecord('transaction', { ...buy, currency: 'QQQ' })).toEqual([
        { field: 'currency', message: 'QQQ is not an ISO 4217 currency code' },
      ])
      expect(fieldsOf('fx', { from: 'XYZ', to: 'USD', date: '2025-01-02', rate: '1' })).toEqual(['from'])
      expect(fieldsOf('portfolio', { portfolioId: 'P', baseCurrency: 'ABC', openDate: '2025-01-01' })).toEqual([
        'baseCurrency',
      ])
    })

    test('magnitudes: quantity below 10^12, price below 10^9, amounts below 10^15, rates from 10^-6 below 10^6', () => {
      expect(fieldsOf('transaction', { ...buy, quantity: '999999999999.9999999999' })).toEqual([])
      expect(fieldsOf('transaction', { ...buy, quantity: '1000000000000' })).toEqual(['quantity'])
      expect(fieldsOf('transaction', { ...buy, quantity: '100000000000000000000', price: '1e20' })).toEqual([
        'quantity',
        'price',
      ])
      expect(fieldsOf('transaction', { ...buy, price: '1000000000' })).toEqual(['price'])
      expect(fieldsOf('transaction', { ...buy, fee: '1000000000000000' })).toEqual(['fee'])
      expect(fieldsOf('transaction', { ...buy, type: 'SPLIT', ratio: '0.0000001' })).toEqual(['ratio'])
      expect(fieldsOf('fx', { from: 'EUR', to: 'USD', date: '2025-01-02', rate: '1000000' })).toEqual(['rate'])
      expect(fieldsOf('fx', { from: 'EUR', to: 'USD', date: '2025-01-02', rate: '0.0000009' })).toEqual(['rate'])
    })
  })

  test('a benchmark segment: a known classification, a weight from 0 to 1, a return above −1', () => {
    const segment = { benchmarkId: 'BM', date: '2025-01-07', classification: 'sector', segment: 'Tech' }
    expect(validateRecord('benchmarkSegment', { ...segment, weight: '0.25', return: '-0.03' })).toEqual([])
    expect(validateRecord('benchmarkSegment', { ...segment, weight: '1.5', return: '-1' })).toEqual([
      { field: 'weight', message: 'must be at most 1 (the whole benchmark)' },
      { field: 'return', message: 'must be above -1 (a loss of more than 100 %)' },
    ])
    const colour = validateRecord('benchmarkSegment', {
      ...segment,
      classification: 'colour',
      weight: '0',
      return: '0',
    })
    expect(colour.map((p) => p.field)).toEqual(['classification'])
    expect(keyOf('benchmarkSegment', { ...segment, weight: '0', return: '0' })).toBe('BM')
  })

  test('a holiday: a real date, in a calendar of its own (WEEKDAYS and ALL_DAYS are built in)', () => {
    expect(validateRecord('holiday', { calendarId: 'TARGET', date: '2025-12-25', name: 'Christmas' })).toEqual([])
    expect(validateRecord('holiday', { calendarId: 'TARGET', date: '2025-12-25', cancelled: true })).toEqual([])
    expect(validateRecord('holiday', { calendarId: 'WEEKDAYS', date: '2025-02-30' })).toEqual([
      { field: 'date', message: '2025-02-30 is not a calendar date' },
      { field: 'calendarId', message: 'WEEKDAYS is built in; a holiday calendar needs an id of its own' },
    ])
    expect(keyOf('holiday', { calendarId: 'TARGET', date: '2025-12-25' })).toBe('holidays/TARGET')
  })

  test('records are keyed by portfolio, security or pair', () => {
    expect(keyOf('transaction', { portfolioId: 'P7' })).toBe('P7')
    expect(keyOf('price', { securityId: 'S1' })).toBe('S1')
    expect(keyOf('fx', { from: 'EUR', to: 'USD' })).toBe('EUR/USD')
  })
})
