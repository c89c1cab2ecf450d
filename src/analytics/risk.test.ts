import { describe, expect, test } from 'bun:test'
import {
  cornishFisherZ,
  inverseNormal,
  maxDrawdown,
  normalCdf,
  quantileOf,
  sampleStd,
  sharpe,
  sortino,
  valueAtRisk,
  volatility,
} from './risk.ts'

// r = 1 %, −2 %, 1.5 %, −0.5 %, 2 %: mean 0.4 %; deviations 0.6, −2.4, 1.1, −0.9, 1.6 (%);
// squares sum 10.7 (%²) → sample variance 10.7/4 = 2.675 → std 1.635543 %.
const r = [0.01, -0.02, 0.015, -0.005, 0.02]
const dated = r.map((x, i) => ({ date: `2025-01-0${i + 1}`, r: x }))

describe('risk statistics', () => {
  test('volatility is the sample standard deviation times √k', () => {
    expect(sampleStd(r)).toBeCloseTo(Math.sqrt(0.0002675), 12)
    expect(volatility(r, 252)).toBeCloseTo(Math.sqrt(0.0002675) * Math.sqrt(252), 12)
  })

  test('the sample standard deviation against Microsoft’s STDEV example', () => {
    // Microsoft's STDEV documentation (support.microsoft.com, "STDEV function"): the breaking
    // strengths 1345, 1301, 1368, 1322, 1310, 1370, 1318, 1350, 1303, 1299 → 27.46391572 (n − 1).
    // Volatility is this times √k, on simple returns or on log returns ln(1 + r) alike.
    const strengths = [1345, 1301, 1368, 1322, 1310, 1370, 1318, 1350, 1303, 1299]
    expect(Math.abs(sampleStd(strengths) - 27.46391572)).toBeLessThanOrEqual(5e-9)
    expect(volatility(strengths, 4)).toBeCloseTo(2 * sampleStd(strengths), 12)
  })

  test('Sharpe: mean excess return over its standard deviation, annualized', () => {
    // rf 0: 0.004 / 0.016355427 = 0.2445669; × √252 (15.874508) = 3.882383
    expect(sharpe(r, 252)).toBeCloseTo((0.004 / Math.sqrt(0.0002675)) * Math.sqrt(252), 10)
    expect(sharpe(r, 252)).toBeCloseTo(3.882383, 5)
  })

  test('Sortino: only the returns below the target count as risk', () => {
    // Downside: (−0.02)² + (−0.005)² = 0.000425; / 5 = 0.000085 → 0.0092195445; 0.004 / that × √252 = 6.887329
    expect(sortino(r, 252)).toBeCloseTo((0.004 / Math.sqrt(0.000085)) * Math.sqrt(252), 10)
    expect(sortino(r, 252)).toBeCloseTo(6.887329, 5)
  })

  test('max drawdown: peak, trough and recovery dates', () => {
    // Wealth 1.01, 0.9898, 1.004647, 0.99962377, 1.01961625: from 1.01 down to 0.9898 (−2 %),
    // back above 1.01 on day 5.
    expect(maxDrawdown(dated)).toEqual({
      maxDrawdown: expect.closeTo(-0.02, 12) as unknown as number,
      peak: '2025-01-01',
      trough: '2025-01-02',
      recovery: '2025-01-05',
    })
    expect(maxDrawdown(dated.slice(0, 3)).recovery).toBeNull()
  })

  test('historical VaR and expected shortfall at 95 %: the worst of five returns', () => {
    // ⌈5 × 0.05⌉ = 1: the smallest return, −2 %, is both the VaR and the mean of the tail; × √10 over 10 days.
    expect(valueAtRisk(r, 0.95, 1, 'historical')).toEqual({ var: 0.02, expectedShortfall: 0.02 })
    expect(valueAtRisk(r, 0.95, 10, 'historical').var).toBeCloseTo(0.02 * Math.sqrt(10), 12)
  })

  test('quantiles by nearest rank or by linear interpolation (numpy’s default)', () => {
    // numpy.percentile's documented example: a = [[10, 7, 4], [3, 2, 1]], percentile 50 → 3.5.
    const a = [1, 2, 3, 4, 7, 10]
    expect(quantileOf(a, 0.5, 'linear')).toBe(3.5)
    expect(quantileOf(a, 0.5, 'nearest-rank')).toBe(3) // ⌈6 × 0.5⌉ = 3rd
    expect([quantileOf(a, 0, 'linear'), quantileOf(a, 1, 'linear')]).toEqual([1, 10])
    expect([quantileOf(a, 0, 'nearest-rank'), quantileOf(a, 1, 'nearest-rank')]).toEqual([1, 10])
  })

  test('historical VaR by linear interpolation; any confidence in (0, 1), a gain below the median', () => {
    // Five returns sorted −5 %, −2 %, 1 %, 3 %, 4 %. At 90 %: h = 4 × 0.1 = 0.4 between −5 % and
    // −2 %: −5 + 0.4 × 3 = −3.8 %, so VaR 3.8 %; the tail at or below it is −5 % alone: ES 5 %.
    const five = [0.03, -0.05, 0.01, 0.04, -0.02]
    const linear = valueAtRisk(five, 0.9, 1, 'historical', 'linear')
    expect(linear.var).toBeCloseTo(0.038, 15)
    expect(linear.expectedShortfall).toBeCloseTo(0.05, 15)
    // Nearest rank at 90 %: ⌈5 × 0.1⌉ = 1st: −5 %.
    expect(valueAtRisk(five, 0.9, 1, 'historical').var).toBeCloseTo(0.05, 15)
    // At 10 %: the 90th percentile, h = 3.6: 3 + 0.6 × 1 = 3.6 %, a gain: VaR −3.6 %; ES the mean of
    // the four returns at or below it: (−5 − 2 + 1 + 3) / 4 = −0.75 % → 0.75 %.
    const low = valueAtRisk(five, 0.1, 1, 'historical', 'linear')
    expect(low.var).toBeCloseTo(-0.036, 15)
    expect(low.expectedShortfall).toBeCloseTo(0.0075, 15)
    expect(() => valueAtRisk(five, 1, 1, 'historical')).toThrow(RangeError)
    expect(() => valueAtRisk(five, 0, 1, 'gaussian')).toThrow(RangeError)
  })

  test('Gaussian VaR uses the normal quantile; Cornish-Fisher adjusts it for skew and kurtosis', () => {
    // Worked by hand, not with the module's helpers. z(5 %) = −1.644853627 (normal tables), μ = 0.4 %,
    // sample σ = 1.6355427 %: Gaussian VaR = −(μ + zσ) = −(0.004 − 0.0269022838) = 2.29022838 %.
    expect(valueAtRisk(r, 0.95, 1, 'gaussian').var).toBeCloseTo(0.0229022838, 9)
    // Moments with the population σ (variance 10.7 / 5 = 2.14 %², σ = 1.4628739 %):
    //   skew S = (Σd³ / 5) / σ³ = (−8.91 / 5) / 3.1305501 = −0.5692290
    //   excess kurtosis K = (Σd⁴ / 5) / σ⁴ − 3 = (41.981 / 5) / 4.5796 − 3 = −1.1666084
    // Cornish-Fisher: z + (z² − 1)S/6 + (z³ − 3z)K/24 − (2z³ − 5z)S²/36
    //   = −1.6448536 − 0.1618075 − 0.0235430 − 0.0060860 = −1.8241181
    // VaR = −(0.004 − 1.8241181 × 0.016355427) = 2.58342312 %.
    expect(valueAtRisk(r, 0.95, 1, 'cornish-fisher').var).toBeCloseTo(0.0258342312, 9)
  })

  test('the Cornish–Fisher quantile against AcadiFi’s worked example', () => {
    // "How does the Cornish-Fisher expansion adjust VaR for non-normality…", AcadiFi community
    // (acadifi.com/community/cornish-fisher-expansion-var-adjustment-skewness-kurtosis), "Havenbrook
    // Capital": 99 %, σ = 1.2 %, S = −0.7, K = 4.5 → z_CF = −3.708 and z_CF·σ = −4.45 % (the source
    // rounds z to −2.326 and each term to three or four places). Its VaR line, 0.03 % + 4.45 %, adds
    // the mean; here a positive mean lowers the loss: VaR = −(μ + z_CF·σ) (the conventions above).
    const z = cornishFisherZ(inverseNormal(0.01), -0.7, 4.5)
    expect(Math.abs(z - -3.708)).toBeLessThanOrEqual(0.001)
    expect(Math.abs(z * 0.012 - -0.0445)).toBeLessThanOrEqual(0.00005)
  })

  test('Gaussian expected shortfall: 2.0627 standard deviations at 95 % (the standard normal tail mean)', () => {
    // φ(1.644854) / 0.05 = 0.1031356 / 0.05 = 2.062712 (tabulated 95 % normal ES: 2.063σ).
    // r = [1 %, −1 %]: μ = 0, σ = √(0.0002 / 1) = 1.414214 %, so ES = 2.062712 × 1.414214 % = 2.917116 %.
    const es = valueAtRisk([0.01, -0.01], 0.95, 1, 'gaussian').expectedShortfall
    expect(es).toBeCloseTo(0.02917116, 7)
  })

  test('the inverse normal to double precision, against Wichura’s AS 241', () => {
    // Φ⁻¹ by Wichura's Algorithm AS 241 (Applied Statistics 37, 1988; accurate to about 1e-16), as
    // Python 3.11's statistics.NormalDist().inv_cdf computes it, for each p below. Acklam's
    // approximation alone is off by up to ~1e-9; the refinement step must bring it to a few ulps.
    const as241: [number, number][] = [
      [0.975, 1.9599639845400536],
      [0.95, 1.6448536269514715],
      [0.05, -1.6448536269514726],
      [0.99, 2.3263478740408408],
      [0.999, 3.090232306167813],
      [0.3, -0.5244005127080407],
      [0.02425, -1.9729610513118845], // Acklam's region boundary
      [0.97575, 1.9729610513118847],
      [1e-10, -6.361340902404056],
      [1e-300, -37.0470962993612],
    ]
    for (const [p, z] of as241)
      expect(Math.abs(inverseNormal(p) - z)).toBeLessThanOrEqual(4e-15 * Math.max(1, Math.abs(z)))
    expect(inverseNormal(0.5)).toBe(0)
    expect(() => inverseNormal(0)).toThrow(RangeError)
    expect(() => inverseNormal(1)).toThrow(RangeError)
  })

  test('the normal distribution function: tabulated values, and tails with their relative precision', () => {
    // Φ(1.96) = 0.9750021048517796 and Φ(−1.96) = 0.024997895148220428 (Python 3.11's
    // statistics.NormalDist().cdf, through erf); Φ(−10) = 7.6198530241605e-24 (Abramowitz and
    // Stegun, table 26.1: the tail keeps its relative precision where 1 − Φ(10) would be 0).
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517796, 15)
    expect(Math.abs(normalCdf(-1.96) / 0.024997895148220428 - 1)).toBeLessThan(1e-14)
    expect(Math.abs(normalCdf(-10) / 7.6198530241605e-24 - 1)).toBeLessThan(1e-12)
    expect(normalCdf(0)).toBe(0.5)
  })
})
