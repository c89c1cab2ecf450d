import { describe, expect, test } from 'bun:test'
import { relativeRisk } from './relative.ts'

describe('relativeRisk', () => {
  test('beta, tracking error and information ratio against a benchmark', () => {
    // r = 2 %, −1 %, 3 %; b = 1 %, 0 %, 2 %. Means 1.3333 % and 1 %.
    // cov = (0 × 0.667 + (−2.333)(−1) + 1.667 × 1) / 2 (%²) = 2; var(b) = (0 + 1 + 1) / 2 = 1 → beta 2.
    // Active 1 %, −1 %, 1 %: mean 0.3333 %, sample std √(2.6667/2) % = 1.154701 %;
    // TE = 1.154701 % × √252 = 18.3303 %; IR = 0.3333 % × 252 / 18.3303 % = 4.582576.
    const rel = relativeRisk([0.02, -0.01, 0.03], [0.01, 0, 0.02], 252)
    expect(rel.beta).toBeCloseTo(2, 12)
    expect(rel.trackingError).toBeCloseTo(Math.sqrt(0.0002 / 1.5) * Math.sqrt(252), 12)
    expect(rel.trackingError).toBeCloseTo(0.183303, 6)
    expect(rel.informationRatio).toBeCloseTo(4.582576, 5)
  })

  test('a portfolio that is its benchmark plus a constant has no tracking error and no information ratio', () => {
    const rel = relativeRisk([0.02, -0.01, 0.03], [0.01, -0.02, 0.02], 12)
    expect(rel.beta).toBeCloseTo(1, 12)
    expect(rel.trackingError).toBeCloseTo(0, 12)
    expect(rel.informationRatio).toBeNull()
  })
})
