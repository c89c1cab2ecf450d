import { describe, expect, test } from 'bun:test'
import { cagr, calmar, capture, drawdownDurations, jensen, omega, semiDeviation, shape } from './ratios.ts'
import { downsideDeviation, maxDrawdown } from './risk.ts'

// r = 1 %, −2 %, 1.5 %, −0.5 %, 2 % (mean 0.4 %); benchmark b = 0.5 %, −1 %, 1 %, 0, 1.5 % (mean 0.4 %).
const r = [0.01, -0.02, 0.015, -0.005, 0.02]
const b = [0.005, -0.01, 0.01, 0, 0.015]
const dated = r.map((x, i) => ({ date: `2025-01-${String(i + 6).padStart(2, '0')}`, r: x }))

describe('the risk-ratio set, by hand', () => {
  test('CAGR over calendar days, and Calmar over the max drawdown', () => {
    // Wealth 1.01 × 0.98 × 1.015 × 0.995 × 1.02 = 1.0196162...; over 7 days: ^(365/7).
    const cumulative = 1.01 * 0.98 * 1.015 * 0.995 * 1.02 - 1
    const c = cagr(cumulative, 7)
    expect(c).toBeCloseTo((1 + cumulative) ** (365 / 7) - 1, 12)
    // The max drawdown is Tuesday's −2 % (from Monday's peak 1.01 to 0.9898).
    const dd = maxDrawdown(dated)
    expect(dd.maxDrawdown).toBeCloseTo(-0.02, 14)
    expect(calmar(c, dd)).toBeCloseTo((c as number) / 0.02, 12)
    expect(calmar(0.1, { maxDrawdown: 0, peak: null, trough: null, recovery: null })).toBeNull()
    expect(cagr(-1, 7)).toBeNull()
  })

  test('downside deviation below a MAR, semi-deviation below the mean, omega', () => {
    // Below 0: −2 % and −0.5 %: (0.0004 + 0.000025) / 5 = 0.000085.
    expect(downsideDeviation(r, 1, 0)).toBeCloseTo(Math.sqrt(0.000085), 15)
    expect(downsideDeviation(r, 252, 0)).toBeCloseTo(Math.sqrt(0.000085 * 252), 14)
    // Below the mean 0.4 %: −2.4 % and −0.9 %: (0.000576 + 0.000081) / 5 = 0.0001314.
    expect(semiDeviation(r, 1)).toBeCloseTo(Math.sqrt(0.0001314), 15)
    // Gains over 0: 1 + 1.5 + 2 = 4.5 %; losses 2 + 0.5 = 2.5 %: 1.8.
    expect(omega(r, 0)).toBeCloseTo(1.8, 14)
    expect(omega([0.01, 0.02], 0)).toBeNull()
  })

  test('skewness and excess kurtosis as population moments', () => {
    // Deviations from 0.4 %: 0.6, −2.4, 1.1, −0.9, 1.6 (%); m2 = Σd² / 5 = 0.000214.
    const d = [0.006, -0.024, 0.011, -0.009, 0.016]
    const m = (p: number) => d.reduce((s, x) => s + x ** p, 0) / 5
    expect(m(2)).toBeCloseTo(0.000214, 15)
    // m3 = −0.00000891 / 5 = −1.782e-6: skew = m3 / m2^1.5 ≈ −0.5692.
    const s = shape(r)
    expect(s.skewness).toBeCloseTo(-1.782e-6 / 0.000214 ** 1.5, 10)
    expect(s.skewness).toBeCloseTo(-0.5692, 4)
    expect(s.excessKurtosis).toBeCloseTo(m(4) / m(2) ** 2 - 3, 10)
  })

  test('downside deviation against Bacon’s example (PerformanceAnalytics), semi-deviation as its wrapper', () => {
    // Bacon, Practical Portfolio Performance Measurement and Attribution (2008), the portfolio's 24
    // monthly returns as PerformanceAnalytics ships them (data/portfolio_bacon.csv); its
    // DownsideDeviation documentation: MAR 0.5 % a month → expected 0.0255.
    const bacon = [
      0.3, 2.6, 1.1, -1.0, 1.5, 2.5, 1.6, 6.7, -1.4, 4.0, -0.5, 8.1, 4.0, -3.7, -6.1, 1.7, -4.9, -2.2, 7.0, 5.8, -6.5,
      2.4, -0.5, -0.9,
    ].map((x) => x / 100)
    expect(Math.abs(downsideDeviation(bacon, 1, 0.005) - 0.0255)).toBeLessThanOrEqual(0.00005)
    // PerformanceAnalytics documents SemiDeviation as DownsideDeviation with MAR = mean(R), n in full.
    const m = bacon.reduce((s, x) => s + x, 0) / bacon.length
    expect(semiDeviation(bacon, 1)).toBe(downsideDeviation(bacon, 1, m))
  })

  test('CAGR, Calmar and omega against published examples', () => {
    // "How to Calculate Revenue Growth for 3 Years", The Motley Fool (fool.com/knowledge-center,
    // 2016): $30 million growing to $45 million in three years is 14.5 % a year; in four years,
    // 10.7 % (both rounded to 0.1 %). Three and four years of 365 days, as CAGR counts them here.
    expect(Math.abs((cagr(0.5, 3 * 365) as number) - 0.145)).toBeLessThanOrEqual(0.0005)
    expect(Math.abs((cagr(0.5, 4 * 365) as number) - 0.107)).toBeLessThanOrEqual(0.0005)
    // "Calmar Ratio", prop365.com glossary: 15 % a year over a 10 % maximum drawdown is 1.5; 12 %
    // over 8 % is 1.5; 10 % over 5 % is 2.0.
    const dd = (maxDrawdown: number) => ({ maxDrawdown, peak: null, trough: null, recovery: null })
    expect(calmar(0.15, dd(-0.1))).toBeCloseTo(1.5, 14)
    expect(calmar(0.12, dd(-0.08))).toBeCloseTo(1.5, 14)
    expect(calmar(0.1, dd(-0.05))).toBeCloseTo(2, 14)
    // "Omega Ratio", PortfolioEffect glossary: omega is 1 when the threshold is the expected return.
    expect(omega(r, r.reduce((s, x) => s + x, 0) / r.length)).toBeCloseTo(1, 14)
  })

  test('Jensen’s beta and alpha are the least-squares slope and intercept: the spreadsheet standard’s examples', () => {
    // ECMA-376 (Office Open XML) SpreadsheetML reference, SLOPE and INTERCEPT (as Excel documents
    // them): SLOPE({2,3,9,1,8,7,5},{6,5,11,7,5,4,4}) = 0.305555556 and
    // INTERCEPT({2,3,9,1,8},{6,5,11,7,5}) = 0.048387097 (nine places). With no risk-free rate, beta
    // is the slope of the portfolio's returns on the benchmark's and alpha the intercept.
    const slope = jensen([2, 3, 9, 1, 8, 7, 5], [6, 5, 11, 7, 5, 4, 4], 252, 0)
    expect(Math.abs((slope?.beta ?? Number.NaN) - 0.305555556)).toBeLessThanOrEqual(5e-10)
    const intercept = jensen([2, 3, 9, 1, 8], [6, 5, 11, 7, 5], 252, 0)
    expect(Math.abs((intercept?.alpha ?? Number.NaN) - 0.048387097)).toBeLessThanOrEqual(5e-10)
  })

  test('drawdown duration and recovery against a published example', () => {
    // "Recovery Time", hypercode risk-management lesson 10: equity 100, 110, 105, 95, 100, 108,
    // 115 peaks at 110 (index 1), bottoms at 95 (index 3) and is back above the peak at index 6:
    // recovery time, counted from the peak, 6 − 1 = 5 periods. Here the run under water is counted
    // (indices 2 to 5: 4 periods, so 5 from the peak to the day it recovered) and the recovery
    // from the trough (6 − 3 = 3 periods).
    const equity = [100, 110, 105, 95, 100, 108, 115]
    const days = equity.slice(1).map((v, i) => ({ date: `d${i + 1}`, r: v / (equity[i] as number) - 1 }))
    const dd = maxDrawdown(days)
    expect([dd.peak, dd.trough, dd.recovery]).toEqual(['d1', 'd3', 'd6'])
    expect(dd.maxDrawdown).toBeCloseTo(95 / 110 - 1, 14)
    const d = drawdownDurations(days, dd)
    expect(d.longestDrawdown).toEqual({ periods: 4, from: 'd2', to: 'd6', recovered: true })
    expect((d.longestDrawdown?.periods ?? 0) + 1).toBe(5) // from the peak, as the source counts
    expect(d.recoveryPeriods).toBe(3)
  })

  test('up and down capture against YCharts’ example', () => {
    // "Upside/Downside Capture Ratio", YCharts glossary: an investment rising 15 % when its
    // benchmark rises 10 % and falling 12 % when it falls 10 % captures 1.5 of the upside and 1.2
    // of the downside: (0.15 / 0.10) / (0.12 / 0.10) = 1.25.
    const c = capture([0.15, -0.12], [0.1, -0.1])
    expect(c.up).toBeCloseTo(1.5, 14)
    expect(c.down).toBeCloseTo(1.2, 14)
    expect((c.up as number) / (c.down as number)).toBeCloseTo(1.25, 14)
  })

  test('skewness against SciPy’s documented example', () => {
    // scipy.stats.skew documentation (SciPy 1.1.0, Examples; bias=True, the Fisher–Pearson
    // coefficient m3 / m2^1.5 of population moments, as here): skew([1, 2, 3, 4, 5]) = 0.0 and
    // skew([2, 8, 0, 4, 1, 9, 9, 0]) = 0.2650554122698573.
    expect(shape([1, 2, 3, 4, 5]).skewness).toBe(0)
    expect(shape([2, 8, 0, 4, 1, 9, 9, 0]).skewness).toBeCloseTo(0.2650554122698573, 15)
  })

  test('excess kurtosis against Excel’s documented KURT example, through the sample adjustment', () => {
    // Microsoft's KURT documentation (support.office.com, "KURT function"; Office 97 help alike):
    // KURT(3,4,5,2,3,4,5,6,4,7) = −0.1518. KURT is the sample-adjusted G₂; this answers the
    // population g₂ = m₄ / m₂² − 3, and G₂ = ((n + 1) g₂ + 6)(n − 1) / ((n − 2)(n − 3)).
    const x = [3, 4, 5, 2, 3, 4, 5, 6, 4, 7]
    const g2 = shape(x).excessKurtosis as number
    const n = x.length
    const G2 = (((n + 1) * g2 + 6) * (n - 1)) / ((n - 2) * (n - 3))
    expect(Math.abs(G2 - -0.1518)).toBeLessThanOrEqual(0.00005)
  })

  test('drawdown duration and recovery time', () => {
    // Wealth 1.01 (peak), 0.9898, 1.0046, 0.9996, 1.0196: below the peak Tuesday to Thursday (3
    // periods), back above it on Friday; the max drawdown's trough (Tuesday) recovered 3 periods on.
    const d = drawdownDurations(dated, maxDrawdown(dated))
    expect(d).toEqual({
      longestDrawdown: { periods: 3, from: '2025-01-07', to: '2025-01-10', recovered: true },
      recoveryPeriods: 3,
    })
    // Not recovered: the run lasts to the end.
    const falling = [
      { date: 'a', r: 0.01 },
      { date: 'b', r: -0.01 },
      { date: 'c', r: -0.01 },
    ]
    expect(drawdownDurations(falling, maxDrawdown(falling))).toEqual({
      longestDrawdown: { periods: 2, from: 'b', to: null, recovered: false },
      recoveryPeriods: null,
    })
  })

  test('Jensen’s alpha and beta by least squares; up and down capture', () => {
    // x = b, y = r (rf 0), both of mean 0.4 %. Deviations dx = 0.1, −1.4, 0.6, −0.4, 1.1 (%),
    // dy = 0.6, −2.4, 1.1, −0.9, 1.6 (%): Σdx² = 3.7e-4, Σdx·dy = 6.2e-4, beta = 6.2 / 3.7;
    // alpha = 0.4 % − beta × 0.4 %.
    const j = jensen(r, b, 252, 0)
    expect(j?.beta).toBeCloseTo(6.2 / 3.7, 12)
    expect(j?.alpha).toBeCloseTo(0.004 - (6.2 / 3.7) * 0.004, 14)
    expect(j?.alphaAnnualized).toBeCloseTo((0.004 - (6.2 / 3.7) * 0.004) * 252, 12)
    // Up: b > 0 on days 1, 3, 5: mean r 1.5 % over mean b 1 % = 1.5. Down: b < 0 on day 2 only:
    // −2 % / −1 % = 2. Day 4 (b = 0) counts for neither.
    const c = capture(r, b)
    expect(c.up).toBeCloseTo(1.5, 14)
    expect(c.down).toBeCloseTo(2, 14)
    expect(capture([0.01], [0.01]).down).toBeNull()
    expect(jensen(r, [0, 0, 0, 0, 0], 252, 0)).toBeNull()
  })
})
