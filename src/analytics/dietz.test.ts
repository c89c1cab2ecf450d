import { describe, expect, test } from 'bun:test'
import { linkDietz, modifiedDietz, seriesDietz } from './dietz.ts'

describe('Modified Dietz', () => {
  test('Wikipedia’s example: 100 at the start of year one, 50 in at its end, 300 at the end of year two → 120 %', () => {
    // "Modified Dietz method", Wikipedia, section Example: the inflow at the end of the first year
    // is weighted 1/2 (two 365-day years): (300 − 100 − 50) / (100 + 50 × 0.5) = 150 / 125 = 120 %.
    const r = modifiedDietz({
      start: '2021-12-31',
      end: '2023-12-31',
      bmv: 100,
      emv: 300,
      flows: [{ date: '2022-12-31', amount: 50, timing: 'EOD' }],
    })
    expect(r).toEqual({ ok: true, r: 1.2, averageCapital: 125 })
  })

  test('a 90-day period with a deposit on day 20 and a withdrawal on day 60 → 13.37 %', () => {
    // The worked example of "Modified Dietz Method Cash Flow Weighting Days Calculation Example"
    // (snowdaycalculatornow.com): BV 100,000; +20,000 on day 20 (weight 70/90); −10,000 on day 60
    // (weight 30/90); EV 125,000: 15,000 / 112,222.22 = 13.37 %.
    const r = modifiedDietz({
      start: '2025-01-01',
      end: '2025-04-01', // 90 days
      bmv: 100_000,
      emv: 125_000,
      flows: [
        { date: '2025-01-21', amount: 20_000, timing: 'EOD' },
        { date: '2025-03-02', amount: -10_000, timing: 'EOD' },
      ],
    })
    expect(r.ok && r.r).toBeCloseTo(15_000 / (100_000 + (20_000 * 70) / 90 - (10_000 * 30) / 90), 14)
    expect(r.ok && Math.round(r.r * 10_000) / 100).toBe(13.37)
  })

  test('a start-of-day flow is in for its own day; no flows is the simple return; no capital, no return', () => {
    // Over 10 days from 1,000, a deposit of 100 at the start of day 6 is in for days 6..10: 5/10.
    const sod = modifiedDietz({
      start: '2025-01-05',
      end: '2025-01-15',
      bmv: 1000,
      emv: 1150,
      flows: [{ date: '2025-01-11', amount: 100, timing: 'SOD' }],
    })
    expect(sod.ok && sod.r).toBeCloseTo(50 / 1050, 14)
    const none = modifiedDietz({ start: '2025-01-05', end: '2025-01-15', bmv: 1000, emv: 1100, flows: [] })
    expect(none.ok && none.r).toBeCloseTo(0.1, 14)
    // A flow dated before the start (a Saturday's, for a period from Monday) is in for the whole period.
    const early = modifiedDietz({
      start: '2025-01-05',
      end: '2025-01-15',
      bmv: 0,
      emv: 110,
      flows: [{ date: '2025-01-04', amount: 100, timing: 'SOD' }],
    })
    expect(early.ok && early.r).toBeCloseTo(0.1, 14)
    expect(modifiedDietz({ start: '2025-01-05', end: '2025-01-15', bmv: 0, emv: 0, flows: [] }).ok).toBe(false)
    expect(modifiedDietz({ start: '2025-01-05', end: '2025-01-05', bmv: 1, emv: 1, flows: [] }).ok).toBe(false)
  })

  test('sub-periods link geometrically', () => {
    const a = { ok: true as const, r: 0.1, averageCapital: 1 }
    const b = { ok: true as const, r: -0.05, averageCapital: 1 }
    expect(linkDietz([a, b])).toBeCloseTo(1.1 * 0.95 - 1, 15)
    expect(linkDietz([a, { ok: false, reason: 'x' }])).toBeNull()
  })
})

describe('Modified Dietz of a daily series: the whole span and its calendar months linked', () => {
  test('two months, a deposit in each, a flow at the opening close left out (worked by hand)', () => {
    const day = (date: string, bmv: number, emv: number) => ({ date, bmv, emv, sod: 0, eod: 0, fees: 0 })
    // Thu 30 and Fri 31 January, Mon 3 and Tue 4 February 2025.
    const days = [
      day('2025-01-30', 1000, 1010),
      day('2025-01-31', 1010, 1120),
      day('2025-02-03', 1120, 1130),
      day('2025-02-04', 1130, 1250),
    ]
    const flows = [
      { date: '2025-01-29', amount: 500, timing: 'EOD' as const }, // at the close the span starts from: in its BMV
      { date: '2025-01-31', amount: 100, timing: 'EOD' as const },
      { date: '2025-02-04', amount: 100, timing: 'SOD' as const },
    ]
    const r = seriesDietz(days, flows)
    // Whole: from the close of Wed 29 January to Tue 4 February, T = 6 days. The end-of-day flow
    // of 31 January is in from day 2 (weight 4/6); the start-of-day flow of 4 February from the
    // close of 3 February, day 5 (weight 1/6): (1,250 − 1,000 − 200) / (1,000 + 400/6 + 100/6)
    // = 50 / (6,500 / 6) = 3/65.
    expect(r.period).toBeCloseTo(3 / 65, 14)
    // January: 29 → 31 January, T = 2; the flow of the 31st at its end weighs 0:
    // (1,120 − 1,000 − 100) / 1,000 = 0.02. February: from the close of 2 February (the day before
    // the 3rd; its BMV 1,120 is Friday's close), T = 2; the flow at the start of the 4th is in from
    // day 1 (weight 1/2): (1,250 − 1,120 − 100) / (1,120 + 50) = 30 / 1,170. Linked: Π(1 + R) − 1.
    expect(r.linkedMonthly).toBeCloseTo(1.02 * (1 + 30 / 1170) - 1, 14)
    expect(r.unavailable).toBeNull()
    expect(seriesDietz([], flows)).toEqual({ period: null, linkedMonthly: null, unavailable: 'no days in the period' })
  })
})
