import { describe, expect, test } from 'bun:test'
import { parseCsv } from './csv.ts'

describe('parseCsv', () => {
  test('maps rows to records by the header; empty cells are left out', () => {
    expect(parseCsv('securityId,date,price,currency\r\nAAPL,2025-01-02,187.5,USD\nSAP,2025-01-02,,EUR\n')).toEqual([
      { securityId: 'AAPL', date: '2025-01-02', price: '187.5', currency: 'USD' },
      { securityId: 'SAP', date: '2025-01-02', currency: 'EUR' },
    ])
  })

  test('quoted cells keep commas, doubled quotes and line breaks', () => {
    expect(parseCsv('name,note\n"Acme, Inc.","said ""hi""\nthen left"')).toEqual([
      { name: 'Acme, Inc.', note: 'said "hi"\nthen left' },
    ])
  })

  test('a header alone gives no records', () => {
    expect(parseCsv('a,b\n')).toEqual([])
    expect(parseCsv('')).toEqual([])
  })
})
