import { describe, expect, test } from 'bun:test'
import { attribute, carinoK, linkCarino, type Segment } from './attribution.ts'

// Equities and bonds. Portfolio 60 / 40 returning 10 % and 2 %; benchmark 50 / 50 returning 8 % and 3 %.
// R = 0.6 × 10 % + 0.4 × 2 % = 6.8 %; B = 0.5 × 8 % + 0.5 × 3 % = 5.5 %; active 1.3 %.
const month1: Segment[] = [
  { key: 'Equity', w: 0.6, r: 0.1, W: 0.5, b: 0.08 },
  { key: 'Bond', w: 0.4, r: 0.02, W: 0.5, b: 0.03 },
]

describe('Brinson attribution, by hand', () => {
  test('Brinson–Hood–Beebower: allocation, selection and interaction add up to the active return', () => {
    const a = attribute(month1, 'BHB')
    expect(a.portfolioReturn).toBeCloseTo(0.068, 15)
    expect(a.benchmarkReturn).toBeCloseTo(0.055, 15)
    // Allocation: +0.1 × 8 % = 0.8 %, −0.1 × 3 % = −0.3 %. Selection: 0.5 × 2 % = 1 %, 0.5 × −1 % = −0.5 %.
    // Interaction: 0.1 × 2 % = 0.2 %, −0.1 × −1 % = 0.1 %. Totals 0.5 % + 0.5 % + 0.3 % = 1.3 %.
    const [eq, bd] = a.segments
    expect([eq?.allocation, eq?.selection, eq?.interaction]).toEqual([
      expect.closeTo(0.008, 15),
      expect.closeTo(0.01, 15),
      expect.closeTo(0.002, 15),
    ])
    expect([bd?.allocation, bd?.selection, bd?.interaction]).toEqual([
      expect.closeTo(-0.003, 15),
      expect.closeTo(-0.005, 15),
      expect.closeTo(0.001, 15),
    ])
    expect(a.total.allocation + a.total.selection + a.total.interaction).toBeCloseTo(a.active, 15)
  })

  test('Brinson–Fachler: allocation against the benchmark’s total; the same sum', () => {
    // Equity: +0.1 × (8 % − 5.5 %) = 0.25 %; Bond: −0.1 × (3 % − 5.5 %) = 0.25 %: 0.5 % in all, as BHB.
    const a = attribute(month1, 'BF')
    expect(a.segments.map((s) => s.allocation)).toEqual([expect.closeTo(0.0025, 15), expect.closeTo(0.0025, 15)])
    expect(a.total.allocation).toBeCloseTo(0.005, 15)
    expect(a.total.allocation + a.total.selection + a.total.interaction).toBeCloseTo(0.013, 15)
  })

  test('Carino linking: the linked effects add up to the linked active return', () => {
    // Month 2: the portfolio 50 / 50 returning −4 % and 1 % (R = −1.5 %); the benchmark 50 / 50
    // returning −5 % and 1 % (B = −2 %). Linked: R = 1.068 × 0.985 − 1, B = 1.055 × 0.98 − 1.
    const month2: Segment[] = [
      { key: 'Equity', w: 0.5, r: -0.04, W: 0.5, b: -0.05 },
      { key: 'Bond', w: 0.5, r: 0.01, W: 0.5, b: 0.01 },
    ]
    const linked = linkCarino([attribute(month1, 'BHB'), attribute(month2, 'BHB')])
    const R = 1.068 * 0.985 - 1
    const B = 1.055 * 0.98 - 1
    expect(linked.portfolioReturn).toBeCloseTo(R, 15)
    expect(linked.benchmarkReturn).toBeCloseTo(B, 15)
    const t = linked.total
    expect(t.allocation + t.selection + t.interaction).toBeCloseTo(R - B, 14)
    // Month 2's only effect is equity selection, 0.5 × 1 % = 0.5 %, scaled by k₂ / K.
    const K = (Math.log(1 + R) - Math.log(1 + B)) / (R - B)
    const k1 = (Math.log(1.068) - Math.log(1.055)) / 0.013
    const k2 = (Math.log(0.985) - Math.log(0.98)) / 0.005
    expect(linked.segments.find((s) => s.key === 'Equity')?.selection).toBeCloseTo((0.01 * k1 + 0.005 * k2) / K, 14)
    expect(carinoK(0.05, 0.05)).toBeCloseTo(1 / 1.05, 15)
  })
})
