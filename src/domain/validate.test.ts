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

  test('records are keyed by portfolio, security or pair', () => {
    expect(keyOf('transaction', { portfolioId: 'P7' })).toBe('P7')
    expect(keyOf('price', { securityId: 'S1' })).toBe('S1')
    expect(keyOf('fx', { from: 'EUR', to: 'USD' })).toBe('EUR/USD')
  })
})
