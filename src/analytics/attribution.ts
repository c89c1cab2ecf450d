/**
 * RETURN ATTRIBUTION (Brinson), single period and linked (float64). For segments i with portfolio
 * weights wᵢ and returns rᵢ, benchmark weights Wᵢ and returns bᵢ, R = Σ wᵢrᵢ and B = Σ Wᵢbᵢ:
 *
 *   Brinson–Hood–Beebower:  allocation  Aᵢ = (wᵢ − Wᵢ)·bᵢ
 *   Brinson–Fachler:        allocation  Aᵢ = (wᵢ − Wᵢ)·(bᵢ − B)
 *   both:                   selection   Sᵢ = Wᵢ·(rᵢ − bᵢ),   interaction  Iᵢ = (wᵢ − Wᵢ)·(rᵢ − bᵢ)
 *
 * In both forms Σᵢ (Aᵢ + Sᵢ + Iᵢ) = R − B (Brinson–Fachler's allocations differ per segment only:
 * Σ (wᵢ − Wᵢ)·B = 0 when both weights sum to 1). A segment missing on one side has weight 0 there.
 *
 * Over several periods the effects are linked by Carino's method: with
 *   kₜ = (ln(1 + Rₜ) − ln(1 + Bₜ)) / (Rₜ − Bₜ)   (1 / (1 + Rₜ) when Rₜ = Bₜ)
 *   K  = (ln(1 + R) − ln(1 + B)) / (R − B)         for the linked R = Π(1 + Rₜ) − 1, B likewise,
 * each effect's linked value is Σₜ effectₜ · kₜ / K, and the linked effects add up to R − B, the
 * linked active return.
 */
export type Segment = { key: string; w: number; r: number; W: number; b: number }
export type Method = 'BHB' | 'BF'
export type Effects = { allocation: number; selection: number; interaction: number }
export type Attribution = {
  method: Method
  portfolioReturn: number
  benchmarkReturn: number
  active: number
  segments: (Effects & { key: string })[]
  total: Effects
}

export function attribute(segments: readonly Segment[], method: Method): Attribution {
  const R = segments.reduce((s, x) => s + x.w * x.r, 0)
  const B = segments.reduce((s, x) => s + x.W * x.b, 0)
  const rows = segments.map((x) => ({
    key: x.key,
    allocation: (x.w - x.W) * (method === 'BHB' ? x.b : x.b - B),
    selection: x.W * (x.r - x.b),
    interaction: (x.w - x.W) * (x.r - x.b),
  }))
  return { method, portfolioReturn: R, benchmarkReturn: B, active: R - B, segments: rows, total: sumEffects(rows) }
}

const sumEffects = (rows: readonly Effects[]): Effects => ({
  allocation: rows.reduce((s, x) => s + x.allocation, 0),
  selection: rows.reduce((s, x) => s + x.selection, 0),
  interaction: rows.reduce((s, x) => s + x.interaction, 0),
})

/** Carino's k for returns R and B (the log ratio per unit of arithmetic difference). */
export function carinoK(R: number, B: number): number {
  return Math.abs(R - B) < 1e-15 ? 1 / (1 + R) : (Math.log1p(R) - Math.log1p(B)) / (R - B)
}

/** Periods' attributions linked by Carino: per segment and in total, with the linked returns. */
export function linkCarino(periods: readonly Attribution[]): Omit<Attribution, 'method'> & { linking: 'Carino' } {
  const R = periods.reduce((g, p) => g * (1 + p.portfolioReturn), 1) - 1
  const B = periods.reduce((g, p) => g * (1 + p.benchmarkReturn), 1) - 1
  const K = carinoK(R, B)
  const bySegment = new Map<string, Effects>()
  for (const p of periods) {
    const k = carinoK(p.portfolioReturn, p.benchmarkReturn) / K
    for (const s of p.segments) {
      const acc = bySegment.get(s.key) ?? { allocation: 0, selection: 0, interaction: 0 }
      acc.allocation += s.allocation * k
      acc.selection += s.selection * k
      acc.interaction += s.interaction * k
      bySegment.set(s.key, acc)
    }
  }
  const segments = [...bySegment].map(([key, e]) => ({ key, ...e }))
  return {
    linking: 'Carino',
    portfolioReturn: R,
    benchmarkReturn: B,
    active: R - B,
    segments,
    total: sumEffects(segments),
  }
}
