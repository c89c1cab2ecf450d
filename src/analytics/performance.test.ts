import { describe, expect, test } from 'bun:test'
import { contribution, missingDays, mwrFlows, type PortfolioDay, type PositionDay } from './performance.ts'
import { xirr } from './xirr.ts'

const day = (date: string, bmv: number, emv: number, extra: Partial<PortfolioDay> = {}): PortfolioDay => ({
  date,
  bmv,
  emv,
  sod: 0,
  eod: 0,
  fees: 0,
  complete: true,
  ...extra,
})

describe('missing days', () => {
  test('a business day with no point, or an incomplete one, is missing; weekends are not', () => {
    const days = [
      day('2025-03-06', 100, 100),
      day('2025-03-07', 100, 100, { complete: false }),
      day('2025-03-11', 1, 1),
    ]
    // Thu 6 present, Fri 7 incomplete, Sat/Sun skipped, Mon 10 absent, Tue 11 present.
    expect(missingDays(days, '2025-03-06', '2025-03-11')).toEqual(['2025-03-07', '2025-03-10'])
    // Points outside the range count for nothing; a range past the last point is missing to its end.
    expect(missingDays(days, '2025-03-07', '2025-03-07')).toEqual(['2025-03-07'])
    expect(missingDays(days, '2025-03-11', '2025-03-13')).toEqual(['2025-03-12', '2025-03-13'])
    expect(missingDays(days, '2025-03-01', '2025-03-06')).toEqual(['2025-03-03', '2025-03-04', '2025-03-05'])
    expect(missingDays([], '2025-03-08', '2025-03-09')).toEqual([])
  })
})

describe('money-weighted return flows', () => {
  test('a deposit in the middle of a year: each flow on its own date, solved by XIRR', () => {
    // 1,000 at the close of 2024-01-01 (the first day's BMV), a 500 deposit on 2024-07-02, whatever
    // its start-of-day timing in the TWR (182 days before the end), 1,650 at the end of 2024-12-31
    // (365 days after the start). Solve 1,000·(1+r)^(365/365) + 500·(1+r)^(182/365) = 1,650 by
    // hand: r ≈ 12.075 % (by substitution: 1.12075^0.498630 = e^(0.498630 × 0.113999) = 1.058491,
    // and 1,120.75 + 529.25 = 1,650.00).
    const days = [
      day('2024-01-02', 1000, 1001),
      day('2024-07-02', 1001, 1540, { sod: 500 }),
      day('2024-12-31', 1540, 1650),
    ]
    const flows = mwrFlows(days, [{ date: '2024-07-02', amount: 500 }])
    expect(flows).toEqual([
      { date: '2024-01-01', amount: -1000 },
      { date: '2024-07-02', amount: -500 },
      { date: '2024-12-31', amount: 1650 },
    ])
    const result = xirr(flows)
    expect(result.ok).toBe(true)
    if (result.ok) {
      const r = result.rate
      expect(1000 * (1 + r) ** (365 / 365) + 500 * (1 + r) ** (182 / 365)).toBeCloseTo(1650, 6)
      expect(r).toBeCloseTo(0.12075, 4)
    }
  })

  test('a deposit on a Saturday is dated Saturday, though the series counts it on Monday; the start is Friday’s close', () => {
    // A period from Monday 2024-01-08: its BMV is Friday's close; Saturday's 50 counts at the start of Monday.
    const days = [day('2024-01-08', 100, 160, { sod: 50 })]
    expect(mwrFlows(days, [{ date: '2024-01-06', amount: 50 }])).toEqual([
      { date: '2024-01-05', amount: -100 },
      { date: '2024-01-06', amount: -50 },
      { date: '2024-01-08', amount: 160 },
    ])
  })
})

describe('contribution', () => {
  test('each position over the capital at risk, linked by the growth before each day; fees are the rest', () => {
    // Day 1: stock A 600 → 660 (+60), cash 400: the portfolio 1,000 → 1,060, +6 %.
    // Day 2: A pays a 10 dividend into cash and falls to 650 (gain 650 − 660 + 10 = 0); a 5 fee is
    // paid from cash. Cash 400 → 405 with flows +10 − 5 (gain 0). Portfolio 1,060 → 1,055.
    // TWR = 1.06 × (1,055 / 1,060) − 1 = 5.5 %. A contributed 60 / 1,000 = 6 %; the fee
    // −5 / 1,060 × 1.06 = −0.5 %.
    const portfolio = [day('2025-03-03', 1000, 1060), day('2025-03-04', 1060, 1055, { fees: 5 })]
    const positions: PositionDay[] = [
      { positionId: 'A', date: '2025-03-03', bmv: 600, emv: 660, sod: 0, eod: 0, fees: 0 },
      { positionId: 'CASH:EUR', date: '2025-03-03', bmv: 400, emv: 400, sod: 0, eod: 0, fees: 0 },
      { positionId: 'A', date: '2025-03-04', bmv: 660, emv: 650, sod: 0, eod: 0, fees: 0, income: 10 },
      { positionId: 'CASH:EUR', date: '2025-03-04', bmv: 400, emv: 405, sod: 0, eod: 5, fees: 5 },
    ]
    const c = contribution(portfolio, positions)
    expect(c.total).toBeCloseTo(0.055, 12)
    expect(c.positions[0]).toEqual({
      positionId: 'A',
      contribution: expect.closeTo(0.06, 12),
      twr: expect.closeTo(0.1, 12),
    })
    expect(c.positions[1]?.contribution).toBeCloseTo(0, 12)
    expect(c.other).toBeCloseTo(-0.005, 12)
  })
})
