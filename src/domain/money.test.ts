import { describe, expect, test } from 'bun:test'
import { atScale, centsOf, dec, fromScaled, mulScaled, str, toCents, toFloat, toScaled } from './money.ts'

describe('scaled integers (rule 3 in the hot loops)', () => {
  test('parse and format: 10^-10 units, plain notation, no trailing zeros', () => {
    expect(toScaled('1')).toBe(10_000_000_000n)
    expect(toScaled('-12.5')).toBe(-125_000_000_000n)
    expect(toScaled('0.0000000001')).toBe(1n)
    expect(toScaled('-0.25')).toBe(-2_500_000_000n)
    // PostgreSQL's text of a computed numeric pads with zeros; a significant 11th place is refused.
    expect(toScaled('103.07000000000000000000')).toBe(1_030_700_000_000n)
    expect(toScaled('-0.10000000000')).toBe(-1_000_000_000n)
    expect(() => toScaled('0.00000000001')).toThrow('more than 10 decimal places')
    expect(fromScaled(0n)).toBe('0')
    expect(fromScaled(1n)).toBe('0.0000000001')
    expect(fromScaled(-2_500_000_000n)).toBe('-0.25')
    expect(fromScaled(125_000_000_000n)).toBe('12.5')
    expect(fromScaled(123_456_789_012_345_678_901_234_567n)).toBe('12345678901234567.8901234567')
  })

  test('toFloat is the double the decimal text parses to, on either side of 2^53', () => {
    expect(toFloat(toScaled('0.1'))).toBe(0.1)
    expect(toFloat(toScaled('-1234.5678901234'))).toBe(-1234.5678901234)
    let seed = 7
    const next = () => {
      seed = (seed * 48271) % 2147483647
      return BigInt(seed)
    }
    for (let i = 0; i < 20_000; i++) {
      // Magnitudes from 10^-10 to ~10^17 units, so both branches are taken.
      const n = (next() * next() * next()) >> BigInt(i % 60)
      for (const v of [n, -n]) expect(toFloat(v)).toBe(Number(fromScaled(v)))
    }
  })

  test('centsOf rounds to the cent half-even, as toCents does the decimal', () => {
    // Halves go to the even cent: 0.005 → 0.00, 0.015 → 0.02, 0.025 → 0.02; past half, away.
    expect(centsOf(toScaled('0.005'))).toBe('0.00')
    expect(centsOf(toScaled('0.015'))).toBe('0.02')
    expect(centsOf(toScaled('0.025'))).toBe('0.02')
    expect(centsOf(toScaled('-12.3450000001'))).toBe('-12.35')
    expect(centsOf(toScaled('1234567.891'))).toBe('1234567.89')
    let seed = 11
    const next = () => {
      seed = (seed * 48271) % 2147483647
      return BigInt(seed)
    }
    for (let i = 0; i < 20_000; i++) {
      // Random magnitudes, and every tenth one on an exact half cent.
      const n = i % 10 === 0 ? next() * 100_000_000n + 50_000_000n : (next() * next()) >> BigInt(i % 40)
      for (const v of [n, -n]) expect(centsOf(v)).toBe(toCents(dec(fromScaled(v))))
    }
  })

  test('a product rounds half-even at the tenth place', () => {
    // 0.00001 × 0.000005 = 5e-11: exactly half a unit, rounds to the even 0.
    expect(fromScaled(mulScaled(toScaled('0.00001'), toScaled('0.000005')))).toBe('0')
    // 0.00001 × 0.000015 = 1.5e-10: half, rounds to the even 2e-10.
    expect(fromScaled(mulScaled(toScaled('0.00001'), toScaled('0.000015')))).toBe('0.0000000002')
    // Negative: −1.5e-10 → −2e-10 (half-even on the magnitude).
    expect(fromScaled(mulScaled(toScaled('-0.00001'), toScaled('0.000015')))).toBe('-0.0000000002')
    // 17,500 × 0.9523809524 = 16,666.666667 exactly; 5,005 × 0.9090909091 = 4,550.0000000455.
    expect(fromScaled(mulScaled(toScaled('17500'), toScaled('0.9523809524')))).toBe('16666.666667')
    expect(fromScaled(mulScaled(toScaled('5005'), toScaled('0.9090909091')))).toBe('4550.0000000455')
  })

  test('agrees with the decimal path digit for digit on 20,000 random products at the schema limits', () => {
    let seed = 7
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
      return seed / 2_147_483_648
    }
    // Up to 12 integer digits (quantities), 9 (prices) or 6 (rates), each with up to 10 places.
    const decimal = (intDigits: number) => {
      const whole = String(Math.floor(random() * 10 ** intDigits))
      const places = Math.floor(random() * 11)
      const fraction = Array.from({ length: places }, () => Math.floor(random() * 10)).join('')
      const sign = random() < 0.2 ? '-' : ''
      return `${sign}${whole}${places > 0 ? `.${fraction}` : ''}`
    }
    for (let i = 0; i < 20_000; i++) {
      const [a, b] = [decimal(12), decimal(i % 2 ? 9 : 6)]
      const viaDecimal = str(atScale(dec(a).times(dec(b))))
      const viaIntegers = fromScaled(mulScaled(toScaled(a), toScaled(b)))
      if (viaDecimal !== viaIntegers) expect({ a, b, viaIntegers }).toEqual({ a, b, viaIntegers: viaDecimal })
      expect(fromScaled(toScaled(a))).toBe(str(dec(a)))
    }
  })
})
