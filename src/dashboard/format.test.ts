import { describe, expect, test } from 'bun:test'
import { ago, day, money, moneyShort, number, percent, share, sign } from './format.ts'

describe('format', () => {
  test('money to the cent in its currency, from the exact string', () => {
    expect(money('1234.5', 'EUR', 'en-US')).toBe('€1,234.50')
    expect(money('-0.005', 'USD', 'en-US')).toBe('-$0.01') // half away from zero, as Intl rounds
    // German groups with dots and puts the symbol after a (no-break) space.
    expect(money('1234.5', 'EUR', 'de-DE').replace(/\s/g, ' ')).toBe('1.234,50 €')
    // 2^53 + 1 is not a float64; the string keeps the last digit.
    expect(money('9007199254740993.01', 'USD', 'en-US')).toBe('$9,007,199,254,740,993.01')
    expect(money(null, 'EUR', 'en-US')).toBe('–')
  })

  test('fractions as signed percentages', () => {
    expect(percent(0.012345, 'en-US')).toBe('+1.23%')
    expect(percent(-0.5, 'en-US', 1)).toBe('-50.0%')
    expect(percent(0, 'en-US')).toBe('0.00%')
    expect(percent(null, 'en-US')).toBe('–')
    // Shares and sizes go unsigned; a negative one keeps its minus.
    expect(share(0.1234, 'en-US', 1)).toBe('12.3%')
    expect(share(-0.05, 'en-US')).toBe('-5.00%')
    expect(share(undefined, 'en-US')).toBe('–')
  })

  test('dates without a time zone shift, and how long ago', () => {
    expect(day('2025-06-30', 'en-GB')).toBe('30 Jun 2025')
    const now = Date.parse('2025-06-30T12:00:00Z')
    expect(ago('2025-06-30T11:59:48Z', now, 'en')).toBe('12 sec. ago')
    expect(ago('2025-06-30T09:00:00Z', now, 'en')).toBe('3 hr. ago')
    expect(ago(null, now, 'en')).toBe('never')
  })

  test('compact money for axes, plain numbers', () => {
    expect(moneyShort(1_234_567, 'USD', 'en-US')).toBe('$1.23M')
    expect(moneyShort(987_654, 'EUR', 'en-US')).toBe('€988K')
    expect(number('1234.5678', 'en-US')).toBe('1,234.57')
    expect(number(null, 'en-US')).toBe('–')
  })

  test('sign', () => {
    expect([sign('-0.01'), sign('0'), sign(3), sign(null)]).toEqual([-1, 0, 1, 0])
  })
})
