import { describe, expect, test } from 'bun:test'
import type { Instrument } from '../domain/records.ts'
import { type Holding, maturityBucket } from './holdings.ts'

const bond = (maturityDate: string | undefined, positionId = 'B1'): Holding => ({
  position: { positionId } as Holding['position'],
  instrument: { securityId: positionId, name: 'A bond', currency: 'EUR', maturityDate } as Instrument & {
    updatedAt: string
  },
  value: 0n,
})

describe('maturity buckets', () => {
  test('whole years from the as-of date, each lower bound inclusive', () => {
    const asOf = '2025-01-10'
    expect(
      [
        '2025-01-09', // past: matured
        '2025-01-10', // today: under a year
        '2026-01-09', // a day short of a year
        '2026-01-10', // exactly a year: 1-3y
        '2028-01-10', // exactly 3 years: 3-5y
        '2030-01-09',
        '2030-01-10', // 5 years: 5-10y
        '2035-01-10', // 10 years: > 10y
      ].map((d) => maturityBucket(bond(d), asOf)),
    ).toEqual(['matured', '< 1y', '< 1y', '1-3y', '3-5y', '3-5y', '5-10y', '> 10y'])
  })

  test('no maturity date is none; cash is Cash; a leap day counts to 28 February', () => {
    expect(maturityBucket(bond(undefined), '2025-01-10')).toBe('none')
    expect(maturityBucket(bond('2026-01-01', 'CASH:EUR'), '2025-01-10')).toBe('Cash')
    // From 29 Feb 2024, a year on is 28 Feb 2025: a bond maturing that day is 1-3y.
    expect(maturityBucket(bond('2025-02-28'), '2024-02-29')).toBe('1-3y')
    expect(maturityBucket(bond('2025-02-27'), '2024-02-29')).toBe('< 1y')
  })
})
