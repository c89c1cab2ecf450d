/**
 * Calendar dates as ISO strings ('YYYY-MM-DD') on the wire and epoch days (integers) in loops.
 *
 * VALUATION CALENDAR: valuations and daily series exist for the days of the portfolio's calendar
 * (`Calendar` below): WEEKDAYS, Monday to Friday, unless the portfolio says ALL_DAYS or names a
 * holiday calendar (weekdays but its holidays, ingested as records). A day off
 * the calendar carries the previous price forward, and a flow dated on it belongs to the series
 * row of the next calendar day (a Saturday's deposit counts on Monday under WEEKDAYS). Everything
 * reported keeps the flow's own date, and money-weighted returns (XIRR) date it on that day.
 * The functions below without a calendar are WEEKDAYS' (the business date is one).
 */
export type IsoDate = string
const MS_PER_DAY = 86_400_000

const parse = (date: IsoDate): number => Math.floor(Date.parse(`${date}T00:00:00Z`) / MS_PER_DAY)
const format = (day: number): IsoDate => new Date(day * MS_PER_DAY).toISOString().slice(0, 10)

/**
 * The hot loops convert the same few thousand dates millions of times: both directions are
 * remembered for the calendar's range (1900–2199), so each date is parsed and formatted once.
 */
const FIRST = parse('1900-01-01')
const LAST = parse('2199-12-31')
const formatted: (IsoDate | undefined)[] = []
const parsed = new Map<IsoDate, number>()

export function toEpochDay(date: IsoDate): number {
  let day = parsed.get(date)
  if (day === undefined) {
    day = parse(date)
    if (day >= FIRST && day <= LAST && parsed.size < 200_000) parsed.set(date, day)
  }
  return day
}

export function fromEpochDay(day: number): IsoDate {
  if (day < FIRST || day > LAST || !Number.isInteger(day)) return format(day)
  let date = formatted[day - FIRST]
  if (date === undefined) {
    date = format(day)
    formatted[day - FIRST] = date
  }
  return date
}

/** 1970-01-01 was a Thursday: day 0 → weekday 4 (0 = Sunday). */
export const weekday = (day: number): number => (((day + 4) % 7) + 7) % 7
export const isBusinessDay = (day: number): boolean => {
  const w = weekday(day)
  return w !== 0 && w !== 6
}

/**
 * The built-in valuation calendars (records.ts `Portfolio.calendar`); any other id names a holiday
 * calendar.
 */
export const CALENDARS = ['WEEKDAYS', 'ALL_DAYS'] as const
export type CalendarId = string

/** A valuation calendar: the days a portfolio is valued and its series has points on. */
export type Calendar = {
  readonly id: CalendarId
  /** Whether `day` (an epoch day) is a valuation day. */
  isOpen(day: number): boolean
  /** `day` itself if open, else the next open day. */
  onOrAfter(day: number): number
  /** `day` itself if open, else the open day before. */
  onOrBefore(day: number): number
  /** The open day before `day`. */
  before(day: number): number
  /** The open days from `first` to `last` inclusive. */
  days(first: number, last: number): number[]
  /** Daily returns a year, to annualize by (risk): 252 trading days, or 365. */
  readonly daysPerYear: number
}

/** The calendar whose open days are those `isOpen` says (it must say so of some day in every week). */
function calendarFrom(id: CalendarId, isOpen: (day: number) => boolean, daysPerYear: number): Calendar {
  const onOrAfter = (day: number) => {
    let d = day
    while (!isOpen(d)) d++
    return d
  }
  const onOrBefore = (day: number) => {
    let d = day
    while (!isOpen(d)) d--
    return d
  }
  return {
    id,
    isOpen,
    onOrAfter,
    onOrBefore,
    before: (day) => onOrBefore(day - 1),
    days(first, last) {
      const days: number[] = []
      for (let d = onOrAfter(first); d <= last; d++) if (isOpen(d)) days.push(d)
      return days
    },
    daysPerYear,
  }
}

/** Monday to Friday: the default calendar, and the business date's. */
export const WEEKDAYS = calendarFrom('WEEKDAYS', isBusinessDay, 252)
export const ALL_DAYS = calendarFrom('ALL_DAYS', () => true, 365)

/** `day` itself if a business day, else the next Monday. */
export const onOrAfterBusinessDay = WEEKDAYS.onOrAfter
/** `day` itself if a business day, else the Friday before. */
export const onOrBeforeBusinessDay = WEEKDAYS.onOrBefore
/** Business days from `first` to `last` inclusive, as epoch days. */
export const businessDays = WEEKDAYS.days

/** Weekdays but `holidays` (ISO dates): a holiday calendar, as ingested. */
export function holidayCalendar(id: CalendarId, holidays: Iterable<IsoDate>): Calendar {
  const off = new Set([...holidays].map(toEpochDay))
  return calendarFrom(id, (day) => isBusinessDay(day) && !off.has(day), 252)
}

/**
 * A portfolio's valuation calendar: WEEKDAYS unless it says otherwise; a holiday calendar's
 * `holidays` are those stored for it (the stores read them with the portfolio).
 */
export function calendarOf(
  portfolio: { calendar?: CalendarId | undefined } | undefined,
  holidays: Iterable<IsoDate> = [],
): Calendar {
  const id = portfolio?.calendar
  if (id === undefined || id === 'WEEKDAYS') return WEEKDAYS
  if (id === 'ALL_DAYS') return ALL_DAYS
  return holidayCalendar(id, holidays)
}

/** A real calendar date written YYYY-MM-DD (2025-02-30 and 2025-13-01 are not). Never throws. */
export function isIsoDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false
  const day = toEpochDay(s)
  return Number.isFinite(day) && fromEpochDay(day) === s
}

/** The same calendar date `years` earlier; 29 February becomes 28 February in a common year. */
export function yearsBefore(date: IsoDate, years: number): IsoDate {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const lastDayOfMonth = new Date(Date.UTC(y - years, m, 0)).getUTCDate()
  return fromEpochDay(Date.UTC(y - years, m - 1, Math.min(d, lastDayOfMonth)) / MS_PER_DAY)
}
