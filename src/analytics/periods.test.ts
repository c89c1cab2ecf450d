import { describe, expect, test } from 'bun:test'
import { resolvePreset } from './periods.ts'

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
