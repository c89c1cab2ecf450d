import { describe, expect, test } from 'bun:test'
import { concentration } from './concentration.ts'

describe('concentration', () => {
  test('HHI and issuer exposure with two securities of one issuer', () => {
    // Values 500, 300, 200 (total 1,000): weights 0.5, 0.3, 0.2; HHI = 0.25 + 0.09 + 0.04 = 0.38.
    // The bond and the share of ACME count together: 0.5 + 0.2 = 0.7; the rest is unclassified.
    const c = concentration([
      { positionId: 'ACME-BOND', value: 500, issuerId: 'ACME-FIN', ultimateParentIssuerId: 'ACME' },
      { positionId: 'OTHER', value: 300 },
      { positionId: 'ACME-SHARE', value: 200, issuerId: 'ACME' },
    ])
    expect(c.hhi).toBeCloseTo(0.38, 12)
    expect(c.largest).toBeCloseTo(0.5, 12)
    expect(c.top5).toBeCloseTo(1, 12)
    expect(c.issuers).toEqual([
      { issuer: 'ACME', weight: expect.closeTo(0.7, 12) as unknown as number, unclassified: false },
      { issuer: 'Unclassified', weight: expect.closeTo(0.3, 12) as unknown as number, unclassified: true },
    ])
  })
})
