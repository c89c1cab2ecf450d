import { describe, expect, test } from 'bun:test'
import {
  ALL_DAYS,
  businessDays,
  calendarOf,
  fromEpochDay,
  isIsoDate,
  onOrAfterBusinessDay,
  onOrBeforeBusinessDay,
  toEpochDay,
  WEEKDAYS,
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
    expect(fromEpochDay(WEEKDAYS.before(toEpochDay('2025-01-06')))).toBe('2025-01-03')
    expect(fromEpochDay(WEEKDAYS.before(toEpochDay('2025-01-07')))).toBe('2025-01-06')
  })

  test('calendars: ALL_DAYS has every day; a holiday calendar skips its holidays as it skips weekends', () => {
    const day = (d: string) => toEpochDay(d)
    const iso = (days: number[]) => days.map(fromEpochDay)
    expect(iso(ALL_DAYS.days(day('2025-01-03'), day('2025-01-06')))).toEqual([
      '2025-01-03',
      '2025-01-04',
      '2025-01-05',
      '2025-01-06',
    ])
    expect(fromEpochDay(ALL_DAYS.before(day('2025-01-06')))).toBe('2025-01-05')
    // Good Friday 18 and Easter Monday 21 April 2025 off: Thu 17 → Tue 22.
    const target = calendarOf({ calendar: 'TARGET' }, ['2025-04-18', '2025-04-21'])
    expect(target.id).toBe('TARGET')
    expect(iso(target.days(day('2025-04-17'), day('2025-04-22')))).toEqual(['2025-04-17', '2025-04-22'])
    expect(fromEpochDay(target.onOrAfter(day('2025-04-18')))).toBe('2025-04-22')
    expect(fromEpochDay(target.onOrBefore(day('2025-04-21')))).toBe('2025-04-17')
    expect(fromEpochDay(target.before(day('2025-04-22')))).toBe('2025-04-17')
    expect([target.daysPerYear, ALL_DAYS.daysPerYear, calendarOf(undefined).daysPerYear]).toEqual([252, 365, 252])
    // Named but without holidays, it is Monday to Friday.
    expect(iso(calendarOf({ calendar: 'TARGET' }).days(day('2025-04-17'), day('2025-04-22')))).toEqual(
      iso(WEEKDAYS.days(day('2025-04-17'), day('2025-04-22'))),
    )
    expect(calendarOf({ calendar: 'ALL_DAYS' })).toBe(ALL_DAYS)
    expect(calendarOf({})).toBe(WEEKDAYS)
  })

  test('isIsoDate accepts real dates only', () => {
    expect(isIsoDate('2025-02-28')).toBe(true)
    expect(isIsoDate('2025-02-30')).toBe(false)
    expect(isIsoDate('2025-2-3')).toBe(false)
  })
})
