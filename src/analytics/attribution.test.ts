import { describe, expect, test } from 'bun:test'
import { attribute, attributeDays, carinoK, linkCarino, portfolioSegments, type Segment } from './attribution.ts'

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

  test('Carino’s per-period factor against FinFacts’ published example', () => {
    // "Carino Linking", finfacts.io/calculations/linking-carino, section 4: portfolio 2.50 %,
    // 1.80 %, −0.50 % against 2.20 %, 1.50 %, −0.80 % give kₜ = 0.977040, 0.983769, 1.006543 (six
    // places). (Its horizon scaling differs from Carino's K: only the per-period factors are compared.)
    expect(Math.abs(carinoK(0.025, 0.022) - 0.97704)).toBeLessThanOrEqual(5e-7)
    expect(Math.abs(carinoK(0.018, 0.015) - 0.983769)).toBeLessThanOrEqual(5e-7)
    expect(Math.abs(carinoK(-0.005, -0.008) - 1.006543)).toBeLessThanOrEqual(5e-7)
  })
})

describe('a published Brinson–Fachler example', () => {
  test('AcadiFi’s Silverleaf Capital fund, four sectors: the published figures to their rounding', () => {
    // "How does the Brinson-Hood-Beebower performance attribution model separate allocation from
    // selection effects?", AcadiFi community (acadifi.com/community/performance-attribution-brinson-model-
    // selection-allocation-cfa), worked example (allocation against the benchmark total, i.e. the
    // Brinson–Fachler form): benchmark 6.88 %, portfolio 8.20 %, active +1.32 %; Technology
    // allocation +0.218 %, selection +0.560 %, interaction +0.140 % (rounded to 0.001 %).
    const a = attribute(
      [
        { key: 'Technology', w: 0.35, r: 0.12, W: 0.28, b: 0.1 },
        { key: 'Healthcare', w: 0.25, r: 0.08, W: 0.22, b: 0.09 },
        { key: 'Financials', w: 0.2, r: 0.06, W: 0.3, b: 0.05 },
        { key: 'Energy', w: 0.2, r: 0.04, W: 0.2, b: 0.03 },
      ],
      'BF',
    )
    const half = 0.00001 / 2 // half of the source's last digit, 0.001 percentage points
    expect(a.benchmarkReturn).toBeCloseTo(0.0688, 15)
    expect(a.portfolioReturn).toBeCloseTo(0.082, 15)
    expect(a.active).toBeCloseTo(0.0132, 15)
    const tech = a.segments.find((s) => s.key === 'Technology')
    expect(Math.abs((tech?.allocation ?? Number.NaN) - 0.00218)).toBeLessThanOrEqual(half)
    expect(Math.abs((tech?.selection ?? Number.NaN) - 0.0056)).toBeLessThanOrEqual(half)
    expect(Math.abs((tech?.interaction ?? Number.NaN) - 0.0014)).toBeLessThanOrEqual(half)
    expect(a.total.allocation + a.total.selection + a.total.interaction).toBeCloseTo(0.0132, 15)
  })
})

describe('attribution from positions’ days', () => {
  // One day: A (Equity) 5,000 → 5,100, C (Equity) 1,000 → 980, B (Bond) 2,000 → 2,000, cash 2,000.
  const day = (segment: string, bmv: number, emv: number, sod = 0) =>
    ({ date: '2025-01-07', segment, bmv, emv, sod, eod: 0, income: 0 }) as const
  const tuesday = [
    day('Equity', 5000, 5100),
    day('Equity', 1000, 980),
    day('Bond', 2000, 2000),
    day('Cash', 2000, 2000),
  ]

  test('segments: capital-weighted, returns as gain over capital', () => {
    // Equity: capital 6,000 of 10,000, gain 80 → 80 / 6,000; Bond and Cash: 2,000 each, no gain.
    const s = portfolioSegments(tuesday)
    expect(s.get('Equity')).toEqual({ w: 0.6, r: 80 / 6000 })
    expect(s.get('Bond')).toEqual({ w: 0.2, r: 0 })
    expect(s.get('Cash')).toEqual({ w: 0.2, r: 0 })
    // A deposit at the start of the day is capital of its day: cash 2,000 + 1,000 in, worth 3,000.
    expect(portfolioSegments([day('Cash', 2000, 3000, 1000)]).get('Cash')).toEqual({ w: 1, r: 0 })
    expect(portfolioSegments([])).toEqual(new Map())
  })

  test('one day against a benchmark without cash: Brinson–Fachler by hand', () => {
    // Benchmark: Equity 50 % returning 2 %, Bond 50 % returning 0.1 %: B = 1.05 %; R = 0.8 %.
    // Allocation (w − W)(b − B): Equity 0.1 × 0.95 % = 0.095 %, Bond −0.3 × −0.95 % = 0.285 %,
    // Cash 0.2 × −1.05 % = −0.21 %. Selection W(r − b): Equity 0.5 × (1/75 − 2 %), Bond 0.5 × −0.1 %.
    // Interaction (w − W)(r − b): Equity 0.1 × (1/75 − 2 %), Bond −0.3 × −0.1 %. One day: linked = itself.
    const a = attributeDays(
      ['2025-01-07'],
      new Map([['2025-01-07', tuesday]]),
      new Map([
        [
          '2025-01-07',
          [
            { segment: 'Equity', weight: 0.5, return: 0.02 },
            { segment: 'Bond', weight: 0.5, return: 0.001 },
          ],
        ],
      ]),
      'BF',
    )
    expect(a.portfolioReturn).toBeCloseTo(0.008, 15)
    expect(a.benchmarkReturn).toBeCloseTo(0.0105, 15)
    const by = new Map(a.segments.map((s) => [s.key, s]))
    expect(by.get('Equity')?.allocation).toBeCloseTo(0.00095, 15)
    expect(by.get('Bond')?.allocation).toBeCloseTo(0.00285, 15)
    expect(by.get('Cash')?.allocation).toBeCloseTo(-0.0021, 15)
    expect(by.get('Equity')?.selection).toBeCloseTo(0.5 * (1 / 75 - 0.02), 15)
    expect(by.get('Bond')?.selection).toBeCloseTo(-0.0005, 15)
    expect(by.get('Equity')?.interaction).toBeCloseTo(0.1 * (1 / 75 - 0.02), 15)
    expect(by.get('Bond')?.interaction).toBeCloseTo(0.0003, 15)
    expect(a.total.allocation + a.total.selection + a.total.interaction).toBeCloseTo(0.008 - 0.0105, 15)
  })
})
