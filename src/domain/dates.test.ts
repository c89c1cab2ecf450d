import { describe, expect, test } from 'bun:test'
import {
  businessDayBefore,
  businessDays,
  fromEpochDay,
  isIsoDate,
  onOrAfterBusinessDay,
  onOrBeforeBusinessDay,
  toEpochDay,
} from './dates.ts'

describe('dates', () => {
  test('epoch days round-trip, across a leap day', () => {
    expect(fromEpochDay(toEpochDay('2024-02-29'))).toBe('2024-02-29')
    expect(toEpochDay('2024-03-01') - toEpochDay('2024-02-28')).toBe(2)
    expect(toEpochDay('1970-01-01')).toBe(0)
  })

  test('business days are Monday to Friday; a weekend date moves to the next Monday', () => {
    // 2025-01-03 is a Friday.
    expect(businessDays(toEpochDay('2025-01-03'), toEpochDay('2025-01-07')).map(fromEpochDay)).toEqual([
      '2025-01-03',
      '2025-01-06',
      '2025-01-07',
    ])
    expect(fromEpochDay(onOrAfterBusinessDay(toEpochDay('2025-01-04')))).toBe('2025-01-06')
    expect(fromEpochDay(onOrAfterBusinessDay(toEpochDay('2025-01-06')))).toBe('2025-01-06')
    // Sat 4 Jan → Fri 3 Jan; the day before Monday 6 Jan is Friday 3 Jan; before Tue 7 Jan, Mon 6 Jan.
    expect(fromEpochDay(onOrBeforeBusinessDay(toEpochDay('2025-01-04')))).toBe('2025-01-03')
    expect(fromEpochDay(businessDayBefore(toEpochDay('2025-01-06')))).toBe('2025-01-03')
    expect(fromEpochDay(businessDayBefore(toEpochDay('2025-01-07')))).toBe('2025-01-06')
  })

  test('isIsoDate accepts real dates only', () => {
    expect(isIsoDate('2025-02-28')).toBe(true)
    expect(isIsoDate('2025-02-30')).toBe(false)
    expect(isIsoDate('2025-2-3')).toBe(false)
  })
})
