import { describe, expect, test } from 'bun:test'
import { currencyReturns } from './currency.ts'

const day = (date: string, bmv: number, emv: number, fx: number, fxBefore: number, sod = 0) => ({
  date,
  bmv,
  emv,
  sod,
  eod: 0,
  fees: 0,
  fx,
  fxBefore,
})

describe('a position’s return in its own currency and the FX part', () => {
  test('a EUR share held by a USD portfolio: the base return is the local return compounded with the rate’s move', () => {
    // Bought Mon: 100 EUR at 1.10 = USD 110 in (SOD), worth 110 at the close: 0 %.
    // Tue: the share is 105 EUR (+5 %), EUR/USD 1.20 (+9.0909 %): USD 126, +14.5454 %.
    // Wed: 102.9 EUR (−2 %), 1.20: USD 123.48, −2 %.
    // Local: 1.05 × 0.98 − 1 = 2.9 %; FX: 1.2 / 1.1 − 1 = 9.0909 %; base: 123.48 / 110 − 1 = 12.2545 %.
    const r = currencyReturns([
      day('2025-01-06', 0, 110, 1.1, Number.NaN, 110),
      day('2025-01-07', 110, 126, 1.2, 1.1),
      day('2025-01-08', 126, 123.48, 1.2, 1.2),
    ])
    expect(r.base).toBeCloseTo(123.48 / 110 - 1, 14)
    expect(r.local).toBeCloseTo(1.05 * 0.98 - 1, 14)
    expect(r.currency).toBeCloseTo(1.2 / 1.1 - 1, 14)
    expect((1 + r.local) * (1 + r.currency) - 1).toBeCloseTo(r.base, 14)
  })

  test('in the base currency (fx 1) local and base are the same; no days, no return', () => {
    const r = currencyReturns([day('2025-01-06', 100, 103, 1, 1), day('2025-01-07', 103, 100.94, 1, 1)])
    expect(r.local).toBeCloseTo(1.03 * 0.98 - 1, 14) // +3 %, then −2 %: 0.94 %
    expect(r.local).toBe(r.base)
    expect(r.currency).toBe(0)
    expect(currencyReturns([])).toEqual({ base: 0, local: 0, currency: 0 })
  })
})
