import { fromEpochDay, toEpochDay, yearsBefore } from '../domain/dates.ts'

/**
 * PERIODS. A period runs from `from` to `to`, both inclusive, in calendar dates. Presets end on the
 * as-of date (by default the business date):
 * - MTD, QTD, YTD start on the first day of the month, quarter or year, or on the portfolio's first
 *   day when it started later;
 * - 1Y, 3Y, 5Y start the day after the same date N years earlier (1Y to 2025-06-30 is
 *   2024-07-01..2025-06-30); a portfolio younger than that has no figure for the preset;
 * - SI (since inception) starts on the portfolio's first day of data.
 */
export const Presets = ['MTD', 'QTD', 'YTD', '1Y', '3Y', '5Y', 'SI'] as const
export type Preset = (typeof Presets)[number]

export type Period = { from: string; to: string }
export type Resolved = ({ ok: true } & Period) | { ok: false; reason: string }

export function resolvePreset(preset: Preset, asOf: string, inception: string): Resolved {
  if (asOf < inception) return { ok: false, reason: `the portfolio has no data before ${inception}` }
  const [year, month] = asOf.split('-').map(Number) as [number, number]
  const startOf = (m: number) => `${year}-${String(m).padStart(2, '0')}-01`
  const clamp = (from: string): Resolved => ({ ok: true, from: from < inception ? inception : from, to: asOf })
  switch (preset) {
    case 'MTD':
      return clamp(startOf(month))
    case 'QTD':
      return clamp(startOf(month - ((month - 1) % 3)))
    case 'YTD':
      return clamp(startOf(1))
    case 'SI':
      return { ok: true, from: inception, to: asOf }
    default: {
      const years = Number(preset.slice(0, 1))
      const from = fromEpochDay(toEpochDay(yearsBefore(asOf, years)) + 1)
      return from < inception
        ? {
            ok: false,
            reason: `the portfolio's data starts on ${inception}, less than ${years} year(s) before ${asOf}`,
          }
        : { ok: true, from, to: asOf }
    }
  }
}

/** A preset or a named calendar year, `Y2024`. */
export type PeriodName = Preset | `Y${number}`

/** `MTD,QTD,YTD,1Y,3Y,SI,Y2024`: the names, or the first one that is neither a preset nor a year. */
export function parsePeriods(list: string): { ok: true; names: PeriodName[] } | { ok: false; wrong: string } {
  const names = list.split(',')
  const wrong = names.find((n) => !(Presets as readonly string[]).includes(n) && !/^Y\d{4}$/.test(n))
  return wrong === undefined ? { ok: true, names: names as PeriodName[] } : { ok: false, wrong }
}

/**
 * A preset (resolvePreset), or calendar year `Y2024`: 1 January to 31 December, cut to the
 * portfolio's first day and to the as-of date when they fall inside it; no figure for a year that
 * ends before the first day or starts after the as-of date.
 */
export function resolvePeriod(name: PeriodName, asOf: string, inception: string): Resolved {
  if (!/^Y\d{4}$/.test(name)) return resolvePreset(name as Preset, asOf, inception)
  const year = name.slice(1)
  const [first, last] = [`${year}-01-01`, `${year}-12-31`]
  if (last < inception) return { ok: false, reason: `the portfolio's data starts on ${inception}, after ${year}` }
  if (first > asOf) return { ok: false, reason: `${year} starts after ${asOf}` }
  return { ok: true, from: first < inception ? inception : first, to: last > asOf ? asOf : last }
}
