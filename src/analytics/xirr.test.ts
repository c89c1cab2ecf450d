import { describe, expect, test } from 'bun:test'
import { xirr } from './xirr.ts'

describe('xirr', () => {
  test('irregular dates: the published XIRR example gives 37.34 %', () => {
    // Microsoft's XIRR documentation example: −10,000 on 2008-01-01, 2,750 on 2008-03-01, 4,250 on
    // 2008-10-30, 3,250 on 2009-02-15, 2,750 on 2009-04-01 → 0.373362535 (37.34 %).
    const result = xirr([
      { date: '2008-01-01', amount: -10000 },
      { date: '2008-03-01', amount: 2750 },
      { date: '2008-10-30', amount: 4250 },
      { date: '2009-02-15', amount: 3250 },
      { date: '2009-04-01', amount: 2750 },
    ])
    expect(result.ok).toBe(true)
    if (result.ok) {
      expect(result.rate).toBeCloseTo(0.373362535, 8)
      expect(result.annualized).toBe(true)
    }
  })

  test('one year exactly: 100 in, 110 out is 10 %', () => {
    const result = xirr([
      { date: '2025-01-01', amount: -100 },
      { date: '2026-01-01', amount: 110 },
    ])
    expect(result.ok && result.rate).toBeCloseTo(0.1, 10)
  })

  test('under a year the period return is given, not annualized', () => {
    // 100 → 105 over 146 days: the rate solves 1.05 = (1 + r)^(146/365); the period return is 5 %.
    const result = xirr([
      { date: '2025-01-01', amount: -100 },
      { date: '2025-05-27', amount: 105 },
    ])
    expect(result.ok).toBe(true)
    if (result.ok) {
      expect(result.annualized).toBe(false)
      expect(result.periodReturn).toBeCloseTo(0.05, 10)
    }
  })

  test('flows that never change sign have no solution, and say so', () => {
    const result = xirr([
      { date: '2025-01-01', amount: -100 },
      { date: '2025-06-01', amount: -50 },
    ])
    expect(result).toEqual({ ok: false, reason: 'the cash flows never change sign, so no rate makes them worth zero' })
  })
})
