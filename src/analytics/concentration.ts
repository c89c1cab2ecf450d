/**
 * CONCENTRATION as of a date, on market values in base currency (float64 weights):
 * weight = value / total; HHI = Σ weight²; top-N share = the N largest weights summed. Issuer
 * exposure sums positions by ultimate parent issuer, else issuer; positions with neither are
 * grouped as 'Unclassified' and flagged.
 */
export type Holding = { positionId: string; value: number; issuerId?: string; ultimateParentIssuerId?: string }

export type Concentration = {
  total: number
  weights: { positionId: string; weight: number }[]
  hhi: number
  largest: number
  top5: number
  top10: number
  issuers: { issuer: string; weight: number; unclassified: boolean }[]
}

export function concentration(holdings: readonly Holding[]): Concentration {
  const total = holdings.reduce((s, h) => s + h.value, 0)
  const weights = holdings
    .map((h) => ({ positionId: h.positionId, weight: total === 0 ? 0 : h.value / total }))
    .sort((a, b) => b.weight - a.weight)
  const top = (n: number) => weights.slice(0, n).reduce((s, w) => s + w.weight, 0)
  const byIssuer = new Map<string, number>()
  for (const h of holdings) {
    const issuer = h.ultimateParentIssuerId ?? h.issuerId ?? 'Unclassified'
    byIssuer.set(issuer, (byIssuer.get(issuer) ?? 0) + (total === 0 ? 0 : h.value / total))
  }
  return {
    total,
    weights,
    hhi: weights.reduce((s, w) => s + w.weight ** 2, 0),
    largest: weights[0]?.weight ?? 0,
    top5: top(5),
    top10: top(10),
    issuers: [...byIssuer]
      .map(([issuer, weight]) => ({ issuer, weight, unclassified: issuer === 'Unclassified' }))
      .sort((a, b) => b.weight - a.weight),
  }
}
