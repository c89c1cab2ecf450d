import { describe, expect, test } from 'bun:test'
import {
  dailyReturn,
  dailyReturns,
  link,
  longerThanAYear,
  monthlyReturns,
  quarterlyReturns,
  type SeriesDay,
  twr,
  weeklyReturns,
} from './returns.ts'

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
    expect(dailyReturns(days)[1]?.r).toBeCloseTo(20 / 1510, 12)
    expect(dailyReturns(asEod)[1]?.r).toBeCloseTo(20 / 1010, 12)
    // A day with both: 500 in at the start, 200 out at the end, 20 earned (1,010 + 500 + 20 − 200 = 1,330).
    // Recorded: 20 / (1,010 + 500) = 1.324503 %; all at the start: 20 / 1,310 = 1.526718 %;
    // all at the end: 20 / 1,010 = 1.980198 %. Recorded is neither of the other two.
    const both: SeriesDay = { date: '2025-03-04', bmv: 1010, emv: 1330, sod: 500, eod: -200, fees: 0 }
    expect(dailyReturn(both).r).toBeCloseTo(0.01324503, 8)
    expect(dailyReturn(both, 'start').r).toBeCloseTo(0.01526718, 8)
    expect(dailyReturn(both, 'end').r).toBeCloseTo(0.01980198, 8)
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
    expect(m.map((x) => x.period)).toEqual(['2025-01', '2025-02'])
    expect(m[0]?.r).toBeCloseTo(0.21, 12)
    expect(m[1]?.r).toBeCloseTo(-0.5, 12)
  })

  test('quarters link their own days: March and April fall in Q1 and Q2', () => {
    const q = quarterlyReturns([
      { date: '2025-02-28', r: 0.1 },
      { date: '2025-03-31', r: 0.1 },
      { date: '2025-04-01', r: -0.5 },
      { date: '2025-12-31', r: 0.2 },
    ])
    expect(q.map((x) => x.period)).toEqual(['2025-Q1', '2025-Q2', '2025-Q4'])
    expect(q[0]?.r).toBeCloseTo(0.21, 12) // 1.1 × 1.1 − 1
    expect(q[1]?.r).toBeCloseTo(-0.5, 12)
    expect(q[2]?.r).toBeCloseTo(0.2, 12)
  })

  test('exactly one calendar year is not annualized, a day more is', () => {
    expect(longerThanAYear('2024-03-01', '2025-02-28')).toBe(false) // 365 days
    expect(longerThanAYear('2024-03-01', '2025-03-01')).toBe(true) // 366 days
    expect(longerThanAYear('2023-03-01', '2024-02-29')).toBe(false) // a leap year: 366 days and still one year
  })

  test('weeks run Monday to Sunday and are labelled by their Friday', () => {
    const w = weeklyReturns([
      { date: '2025-03-03', r: 0.1 }, // Monday
      { date: '2025-03-07', r: 0.1 }, // Friday
      { date: '2025-03-10', r: -0.1 }, // next Monday
    ])
    expect(w.map((x) => x.period)).toEqual(['2025-03-07', '2025-03-14'])
    expect(w[0]?.r).toBeCloseTo(0.21, 12)
  })
})

describe('negative values and wipe-outs', () => {
  test('a short whose liability shrinks earns: −1,000 → −900 is +10 %', () => {
    expect(dailyReturn({ date: '2025-03-03', bmv: -1000, emv: -900, sod: 0, eod: 0, fees: 0 }).r).toBeCloseTo(0.1, 12)
    expect(dailyReturn({ date: '2025-03-03', bmv: -1000, emv: -1100, sod: 0, eod: 0, fees: 0 }).r).toBeCloseTo(-0.1, 12)
  })

  test('losing more than the capital at risk is a −100 % wipe-out, and the period links to −100 %', () => {
    // A short of −1,000 whose liability triples to −3,000: −200 % capped at −100 %.
    const wiped = dailyReturn({ date: '2025-03-04', bmv: -1000, emv: -3000, sod: 0, eod: 0, fees: 0 })
    expect(wiped).toEqual({ date: '2025-03-04', r: -1, wipeOut: true })
    expect(link([{ r: 0.05 }, wiped, { r: 0.2 }])).toBe(-1)
  })

  test('nothing at risk returns 0', () => {
    expect(dailyReturn({ date: '2025-03-03', bmv: 0, emv: 0, sod: 0, eod: 0, fees: 0 }).r).toBe(0)
  })

  test('a position counts the income it paid out as part of its return', () => {
    // 1,000 of stock pays a 20 dividend (into cash) and ends at 990: (990 − 1,000 + 20) / 1,000 = 1 %.
    expect(dailyReturn({ date: '2025-03-03', bmv: 1000, emv: 990, sod: 0, eod: 0, fees: 0, income: 20 }).r).toBeCloseTo(
      0.01,
      12,
    )
  })
})
