import { describe, expect, test } from 'bun:test'
import { Value } from '@sinclair/typebox/value'
import { FxRate, Portfolio, Transaction } from './records.ts'

const errorsOf = (schema: Parameters<typeof Value.Errors>[0], value: unknown) =>
  [...Value.Errors(schema, value)].map((e) => e.path)

describe('record schemas', () => {
  const buy = {
    transactionId: 'T1',
    portfolioId: 'P1',
    type: 'BUY',
    tradeDate: '2025-01-02',
    securityId: 'AAPL',
    quantity: '10',
    price: '187.1234567891',
    currency: 'USD',
  }

  test('a transaction with decimal strings passes', () => {
    expect(errorsOf(Transaction, buy)).toEqual([])
  })

  test('money as a number, more than 10 decimal places, an unknown type or field are each named', () => {
    expect(errorsOf(Transaction, { ...buy, quantity: 10 })).toContain('/quantity')
    expect(errorsOf(Transaction, { ...buy, price: '1.12345678901' })).toContain('/price')
    expect(errorsOf(Transaction, { ...buy, type: 'GIFT' })).toContain('/type')
    expect(errorsOf(Transaction, { ...buy, colour: 'red' })).toContain('/colour')
    expect(errorsOf(Transaction, { ...buy, currency: 'usd' })).toContain('/currency')
  })

  test('a portfolio names its cost method from a closed set; an FX rate must be positive', () => {
    const p = { portfolioId: 'P1', baseCurrency: 'EUR', openDate: '2025-01-01' }
    expect(errorsOf(Portfolio, { ...p, costMethod: 'AVCO' })).toEqual([])
    expect(errorsOf(Portfolio, { ...p, costMethod: 'LIFO' })).toContain('/costMethod')
    expect(errorsOf(FxRate, { from: 'EUR', to: 'USD', date: '2025-01-01', rate: '-1.1' })).toContain('/rate')
  })
})
