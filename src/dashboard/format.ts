/**
 * How the dashboard writes figures: money exactly as the API sends it (decimal strings, formatted
 * by Intl without passing through a float), fractions as percentages, dates and times in the
 * reader's locale. Pure functions: the unit tests run them in Bun.
 */

/** Money in its currency, to the cent (the API's strings are exact; Intl formats a string as a decimal). */
export function money(value: string | null | undefined, currency: string, locale?: string): string {
  if (value === null || value === undefined || value === '') return '–'
  const format = new Intl.NumberFormat(locale, {
    style: 'currency',
    currency,
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  })
  // Intl.NumberFormat v3 takes a decimal string as it is (no float rounding of large amounts).
  return format.format(value as unknown as number)
}

/** Money in short (1.23M), three significant digits, for chart axes. */
export function moneyShort(value: number, currency: string, locale?: string): string {
  return new Intl.NumberFormat(locale, {
    style: 'currency',
    currency,
    notation: 'compact',
    maximumSignificantDigits: 3,
  }).format(value)
}

/** A fraction (0.0123) as a percentage with `digits` decimals (1.23 %); a dash for none. */
export function percent(value: number | null | undefined, locale?: string, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–'
  return new Intl.NumberFormat(locale, {
    style: 'percent',
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    signDisplay: 'exceptZero',
  }).format(value)
}

/** A share or a size (a weight, a volatility, a VaR) as a percentage, without a sign for positives. */
export function share(value: number | null | undefined, locale?: string, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–'
  return new Intl.NumberFormat(locale, {
    style: 'percent',
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value)
}

/** A plain number (a ratio, a quantity given as a string) in the locale. */
export function number(value: number | string | null | undefined, locale?: string, digits = 2): string {
  if (value === null || value === undefined || value === '') return '–'
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value as number)
}

/** A calendar date (YYYY-MM-DD, no time zone) in the locale, e.g. 30 Jun 2025. */
export function day(value: string | null | undefined, locale?: string): string {
  if (!value) return '–'
  const [y, m, d] = value.split('-').map(Number)
  const date = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1))
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(date)
}

/** How long ago an ISO instant was, relative to `now` (ms): "12 s ago", "3 min ago", "2 h ago", "4 days ago". */
export function ago(iso: string | null | undefined, now: number, locale?: string): string {
  if (!iso) return 'never'
  const seconds = Math.round((Date.parse(iso) - now) / 1000)
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto', style: 'short' })
  const abs = Math.abs(seconds)
  if (abs < 60) return format.format(seconds, 'second')
  if (abs < 3600) return format.format(Math.round(seconds / 60), 'minute')
  if (abs < 86_400) return format.format(Math.round(seconds / 3600), 'hour')
  return format.format(Math.round(seconds / 86_400), 'day')
}

/** The sign of a decimal string or number: -1, 0 or 1 (colours gains and losses). */
export function sign(value: string | number | null | undefined): -1 | 0 | 1 {
  if (value === null || value === undefined) return 0
  const n = typeof value === 'number' ? value : Number(value)
  return n > 0 ? 1 : n < 0 ? -1 : 0
}
