import { describe, expect, test } from 'bun:test'
import { dailyReturns, monthlyReturns, type SeriesDay, twr } from './returns.ts'

// 1,000 grows 1 % on day 1; on day 2 a 500 deposit arrives and the portfolio ends at 1,530 (20 earned);
// day 3 grows 1 % again (1,530 → 1,545.30); day 4 pays a 10 fee (1,545.30 → 1,535.30).
const days: SeriesDay[] = [
  { date: '2025-03-03', bmv: 1000, emv: 1010, sod: 0, eod: 0, fees: 0 },
  { date: '2025-03-04', bmv: 1010, emv: 1530, sod: 500, eod: 0, fees: 0 },
  { date: '2025-03-05', bmv: 1530, emv: 1545.3, sod: 0, eod: 0, fees: 0 },
  { date: '2025-03-06', bmv: 1545.3, emv: 1535.3, sod: 0, eod: 0, fees: 10 },
]
const asEod = days.map((d) => ({ ...d, eod: d.sod, sod: 0 }))

describe('time-weighted return', () => {
  test('a mid-period flow at the start of the day earns on the larger base', () => {
    // Day 2: 20 / (1,010 + 500) = 1.324503 %. Over days 1-3: 1.01 × 1530/1510 × 1.01 − 1 = 3.361126 %.
    const r = dailyReturns(days, 'start')
    expect(r[1]?.r).toBeCloseTo(20 / 1510, 12)
    expect(twr(r, '2025-03-03', '2025-03-05').cumulative).toBeCloseTo(1.0201 * (1530 / 1510) - 1, 12)
  })

  test('the same flow at the end of the day earns on the old base only', () => {
    // Day 2: 20 / 1,010 = 1.980198 %. Over days 1-3: 1.01 × 1030/1010 × 1.01 − 1 = 1.01 × 1.03 − 1 = 4.03 %.
    const r = dailyReturns(days, 'end')
    expect(r[1]?.r).toBeCloseTo(20 / 1010, 12)
    expect(twr(r, '2025-03-03', '2025-03-05').cumulative).toBeCloseTo(0.0403, 12)
  })

  test('recorded timing follows each flow: a deposit at start equals the start convention, at end the end one', () => {
    expect(dailyReturns(days)).toEqual(dailyReturns(days, 'start'))
    expect(dailyReturns(asEod)[1]?.r).toBeCloseTo(20 / 1010, 12)
  })

  test('net returns keep fees inside; gross adds them back', () => {
    expect(dailyReturns(days, 'recorded', 'net')[3]?.r).toBeCloseTo(-10 / 1545.3, 12)
    expect(dailyReturns(days, 'recorded', 'gross')[3]?.r).toBe(0)
  })

  test('a period under a year is not annualized; over a year it is', () => {
    const short = twr(dailyReturns(days), '2025-03-03', '2025-03-06')
    expect(short.annualized).toBeNull()
    // Two years at +21 % in total: (1.21)^(365/730) − 1 = 10 %.
    const long = twr([{ date: '2024-01-01', r: 0.21 }], '2024-01-01', '2025-12-30')
    expect(long.days).toBe(730)
    expect(long.annualized).toBeCloseTo(0.1, 12)
  })

  test('months link their own days', () => {
    const m = monthlyReturns([
      { date: '2025-01-30', r: 0.1 },
      { date: '2025-01-31', r: 0.1 },
      { date: '2025-02-03', r: -0.5 },
    ])
    expect(m.map((x) => x.month)).toEqual(['2025-01', '2025-02'])
    expect(m[0]?.r).toBeCloseTo(0.21, 12)
    expect(m[1]?.r).toBeCloseTo(-0.5, 12)
  })
})
