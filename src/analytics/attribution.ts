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

/**
 * A position's day as attribution reads it: its values (base currency) and the segment it is in.
 * `income` is paid out of the position (a dividend into cash): part of its gain.
 */
export type SegmentedDay = {
  date: string
  segment: string
  bmv: number
  emv: number
  sod: number
  eod: number
  income: number
}
/** The benchmark's segments of one day: weight at the start of the day and return over it. */
export type BenchmarkDay = { segment: string; weight: number; return: number }

/**
 * A day's portfolio segments from its positions' days: a segment's capital is Σ (BMV + SOD) of
 * its positions, its gain Σ (EMV − BMV − SOD − EOD + income); its weight is its capital over the
 * portfolio's, its return gain / capital (0 without capital: a position bought at the close has
 * neither). So Σ wᵢrᵢ is the positions' return that day, Σ gain / Σ capital.
 */
export function portfolioSegments(days: readonly SegmentedDay[]): Map<string, { w: number; r: number }> {
  const bySegment = new Map<string, { capital: number; gain: number }>()
  let capital = 0
  for (const d of days) {
    const s = bySegment.get(d.segment) ?? { capital: 0, gain: 0 }
    s.capital += d.bmv + d.sod
    s.gain += d.emv - d.bmv - d.sod - d.eod + d.income
    capital += d.bmv + d.sod
    bySegment.set(d.segment, s)
  }
  return new Map(
    [...bySegment].map(([key, s]) => [
      key,
      { w: capital === 0 ? 0 : s.capital / capital, r: s.capital === 0 ? 0 : s.gain / s.capital },
    ]),
  )
}

/**
 * Attribution day by day, linked by Carino: for each date, the portfolio's segments (from its
 * positions' days that date) against the benchmark's; a segment on one side only weighs 0 on the
 * other (return 0).
 */
export function attributeDays(
  dates: readonly string[],
  positions: ReadonlyMap<string, readonly SegmentedDay[]>,
  benchmark: ReadonlyMap<string, readonly BenchmarkDay[]>,
  method: Method,
) {
  const periods = dates.map((date) => {
    const mine = portfolioSegments(positions.get(date) ?? [])
    const theirs = new Map((benchmark.get(date) ?? []).map((b) => [b.segment, b]))
    const keys = [...new Set([...mine.keys(), ...theirs.keys()])].sort()
    return attribute(
      keys.map((key) => ({
        key,
        w: mine.get(key)?.w ?? 0,
        r: mine.get(key)?.r ?? 0,
        W: theirs.get(key)?.weight ?? 0,
        b: theirs.get(key)?.return ?? 0,
      })),
      method,
    )
  })
  return { method, ...linkCarino(periods) }
}
