import { describe, expect, test } from 'bun:test'
import { parsePeriods, resolvePeriod, resolvePreset } from './periods.ts'

describe('period presets', () => {
  const inception = '2020-01-15'
  test('month, quarter and year to date start on the first of the month, quarter and year', () => {
    expect(resolvePreset('MTD', '2025-08-20', inception)).toEqual({ ok: true, from: '2025-08-01', to: '2025-08-20' })
    expect(resolvePreset('QTD', '2025-08-20', inception)).toEqual({ ok: true, from: '2025-07-01', to: '2025-08-20' })
    expect(resolvePreset('QTD', '2025-12-31', inception)).toEqual({ ok: true, from: '2025-10-01', to: '2025-12-31' })
    expect(resolvePreset('YTD', '2025-08-20', inception)).toEqual({ ok: true, from: '2025-01-01', to: '2025-08-20' })
  })

  test('to-date presets start at inception for a portfolio that began within them', () => {
    expect(resolvePreset('YTD', '2020-03-31', inception)).toEqual({ ok: true, from: inception, to: '2020-03-31' })
  })

  test('N-year presets start the day after the same date N years before', () => {
    expect(resolvePreset('1Y', '2025-06-30', inception)).toEqual({ ok: true, from: '2024-07-01', to: '2025-06-30' })
    expect(resolvePreset('3Y', '2024-02-29', inception)).toEqual({ ok: true, from: '2021-03-01', to: '2024-02-29' })
    expect(resolvePreset('5Y', '2025-01-15', inception)).toEqual({ ok: true, from: '2020-01-16', to: '2025-01-15' })
  })

  test('a portfolio younger than an N-year preset has no figure for it, with the reason', () => {
    const r = resolvePreset('5Y', '2025-01-13', inception)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.reason).toContain('2020-01-15')
  })

  test('since inception runs from the first day of data', () => {
    expect(resolvePreset('SI', '2025-01-14', inception)).toEqual({ ok: true, from: inception, to: '2025-01-14' })
  })
})

describe('named periods', () => {
  test('a calendar year runs 1 January to 31 December, cut to the first day and the as-of date', () => {
    expect(resolvePeriod('Y2024', '2025-06-30', '2023-05-15')).toEqual({
      ok: true,
      from: '2024-01-01',
      to: '2024-12-31',
    })
    expect(resolvePeriod('Y2023', '2025-06-30', '2023-05-15')).toEqual({
      ok: true,
      from: '2023-05-15',
      to: '2023-12-31',
    })
    expect(resolvePeriod('Y2025', '2025-06-30', '2023-05-15')).toEqual({
      ok: true,
      from: '2025-01-01',
      to: '2025-06-30',
    })
    expect(resolvePeriod('Y2022', '2025-06-30', '2023-05-15')).toMatchObject({ ok: false })
    expect(resolvePeriod('Y2026', '2025-06-30', '2023-05-15')).toMatchObject({ ok: false })
    // Presets resolve as resolvePreset does.
    expect(resolvePeriod('YTD', '2025-06-30', '2023-05-15')).toEqual(resolvePreset('YTD', '2025-06-30', '2023-05-15'))
  })

  test('a list of presets and years parses; anything else is named', () => {
    expect(parsePeriods('MTD,QTD,YTD,1Y,3Y,SI,Y2024')).toEqual({
      ok: true,
      names: ['MTD', 'QTD', 'YTD', '1Y', '3Y', 'SI', 'Y2024'],
    })
    expect(parsePeriods('YTD,2Y')).toEqual({ ok: false, wrong: '2Y' })
    expect(parsePeriods('Y24')).toEqual({ ok: false, wrong: 'Y24' })
  })
})
