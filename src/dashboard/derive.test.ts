import { describe, expect, test } from 'bun:test'
import { csvKind, drawdowns, investedCapital, rebase, sortRows } from './derive.ts'

const day = (date: string, bmv: string, emv: string, sod: string, eod: string) => ({
  date,
  bmvBase: bmv,
  emvBase: emv,
  sodFlowBase: sod,
  eodFlowBase: eod,
})

describe('investedCapital', () => {
  test('the starting value plus every external flow so far, signed', () => {
    // Starts with 1000 held, deposits 500 at the start of day 2, withdraws 200 at the end of day 3:
    // 1000, 1500, 1300, and a day without flows keeps 1300.
    const days = [
      day('2025-01-06', '1000', '1010', '0', '0'),
      day('2025-01-07', '1010', '1520', '500', '0'),
      day('2025-01-08', '1520', '1330', '0', '-200'),
      day('2025-01-09', '1330', '1340', '0', '0'),
    ]
    expect(investedCapital(days).map((d) => d.value)).toEqual([1000, 1500, 1300, 1300])
    expect(investedCapital([])).toEqual([])
  })
})

describe('drawdowns', () => {
  test('the fall from the highest growth so far, the start counting as a peak of 1', () => {
    // Growth 0.95 (−5 % from the start), 1.10 (new peak), 0.99 (1 − 0.99/1.10 = 10 % down), 1.21 (new peak).
    const curve = drawdowns([
      { period: 'a', cumulative: -0.05 },
      { period: 'b', cumulative: 0.1 },
      { period: 'c', cumulative: -0.01 },
      { period: 'd', cumulative: 0.21 },
    ]).map((d) => d.drawdown)
    expect(curve[0]).toBeCloseTo(-0.05, 12)
    expect(curve[1]).toBe(0)
    expect(curve[2]).toBeCloseTo(0.99 / 1.1 - 1, 12)
    expect(curve[2]).toBeCloseTo(-0.1, 12)
    expect(curve[3]).toBe(0)
  })
})

describe('rebase', () => {
  test('levels over the level on the start day, the latest level on or before each date', () => {
    const levels = [
      { date: '2025-01-03', level: '200' },
      { date: '2025-01-06', level: '210' },
      { date: '2025-01-08', level: '190' },
    ]
    // From 01-03 (200): 01-06 210/200 − 1 = 5 %; 01-07 has no level, 01-06's holds; 01-08 190/200 − 1 = −5 %.
    const r = rebase(levels, '2025-01-03', ['2025-01-06', '2025-01-07', '2025-01-08'])
    expect(r[0]).toBeCloseTo(0.05, 12)
    expect(r[1]).toBeCloseTo(0.05, 12)
    expect(r[2]).toBeCloseTo(-0.05, 12)
  })

  test('no level on or before the start: no line', () => {
    expect(rebase([{ date: '2025-02-01', level: '100' }], '2025-01-01', ['2025-02-03'])).toEqual([null])
  })
})

describe('sortRows', () => {
  const rows = [
    { id: 'b', v: 2 },
    { id: 'a', v: null },
    { id: 'c', v: 1 },
    { id: 'd', v: 2 },
  ]
  test('by a number either way, ties in their order, nulls last', () => {
    expect(sortRows(rows, (r) => r.v, 'asc').map((r) => r.id)).toEqual(['c', 'b', 'd', 'a'])
    expect(sortRows(rows, (r) => r.v, 'desc').map((r) => r.id)).toEqual(['b', 'd', 'c', 'a'])
  })
  test('by text', () => {
    expect(sortRows(rows, (r) => r.id, 'desc').map((r) => r.id)).toEqual(['d', 'c', 'b', 'a'])
  })
})

describe('csvKind', () => {
  test('from the header row', () => {
    expect(csvKind('transactionId,portfolioId,type,tradeDate')).toBe('transactions')
    expect(csvKind('\uFEFFsecurityId,date,price,currency')).toBe('prices')
    expect(csvKind('benchmarkId,date,level')).toBe('benchmarks')
    expect(csvKind('benchmarkId,date,classification,segment,weight,return')).toBe('benchmark-segments')
    expect(csvKind('"securityId","date","price"')).toBe('prices')
    expect(csvKind('name,value')).toBeUndefined()
  })
})
