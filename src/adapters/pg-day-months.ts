import { fromEpochDay, toEpochDay } from '../domain/dates.ts'
import type { Sql, Tx } from './pg-client.ts'
import { copyRows } from './pg-copy.ts'
import type { ReplacedDays } from './pg-replaced-days.ts'

const COPY_TIMEOUT_MS = 60_000

/**
 * A per-day, per-portfolio table stored one row per portfolio-month (sql/0024_day_months.sql):
 * each row holds the month's `dates` in order and one array per column, a day's values at its
 * date's index. A back-dated change rewrites a row per month from its date, not a row per day.
 */
export type DayMonths = {
  table: 'portfolio_value_months' | 'portfolio_series_months'
  /** The columns after `dates`, in the order of a day's cells. */
  columns: readonly string[]
}

/** The valuation stage's day sums. */
export const VALUE_MONTHS: DayMonths = {
  table: 'portfolio_value_months',
  columns: ['emv_base', 'positions', 'complete'],
}

/**
 * The series stage's part of the portfolio series: each day's flows, fees and income. Its emv,
 * bmv and completeness are the day sums' (sql/0026_series_flows.sql), read beside it.
 */
export const SERIES_MONTHS: DayMonths = {
  table: 'portfolio_series_months',
  columns: ['sod_flow_base', 'eod_flow_base', 'fees_base', 'income_base'],
}

/** A day's row: its portfolio, date and cells in the table's column order (booleans 't' or 'f'). */
export type DayRow = { portfolioId: string; date: string; cells: readonly string[] }

/** One portfolio-month's days, date → cells, for an edit to change in place. */
export type MonthDays = Map<string, readonly string[]>

/** The first day of the month of `date` (ISO): a row's `month`. */
export const monthOf = (date: string): string => `${date.slice(0, 8)}01`

/** The days of `month`, first to last. */
function daysOfMonth(month: string): string[] {
  const days: string[] = []
  for (let day = toEpochDay(month); monthOf(fromEpochDay(day)) === month; day++) days.push(fromEpochDay(day))
  return days
}

const keyOf = (portfolioId: string, month: string) => `${portfolioId}\u0000${month}`
type Month = { portfolioId: string; month: string }

/**
 * A month row's dates and columns as comma-joined text, selected from `m`: decoding an array per
 * column costs less than a row per day.
 */
const joinedColumns = (t: DayMonths) =>
  ['dates', ...t.columns].map((c) => `array_to_string(m.${c}, ',') as ${c}`).join(', ')
type Joined = { portfolio_id: string; dates: string; [column: string]: string }

/** A month row's days, each date with its cells. */
function daysOfRow(t: DayMonths, row: Joined): [string, string[]][] {
  const columns = t.columns.map((c) => (row[c] as string).split(','))
  return row.dates.split(',').map((date, i) => [date, columns.map((c) => c[i] as string)])
}

/**
 * The days of each portfolio from `lo` to `hi` (both inclusive; one range per portfolio), in date
 * order, read a month row at a time.
 */
export async function readDays(
  sql: Sql | Tx,
  t: DayMonths,
  ranges: readonly { portfolioId: string; lo: string; hi: string }[],
): Promise<Map<string, DayRow[]>> {
  const out = new Map<string, DayRow[]>()
  if (ranges.length === 0) return out
  const rows = await sql<(Joined & { lo: string; hi: string })[]>`
    select m.portfolio_id, w.lo::text as lo, w.hi::text as hi, ${sql.unsafe(joinedColumns(t))}
    from unnest(${ranges.map((r) => r.portfolioId)}::text[], ${ranges.map((r) => r.lo)}::date[],
                ${ranges.map((r) => r.hi)}::date[]) as w(portfolio_id, lo, hi)
    cross join lateral (
      select * from ${sql(t.table)} m
      where m.portfolio_id = w.portfolio_id and m.month between date_trunc('month', w.lo)::date and w.hi
      offset 0) as m
    order by m.portfolio_id, m.month`.execute()
  for (const row of rows) {
    const days = out.get(row.portfolio_id) ?? []
    for (const [date, cells] of daysOfRow(t, row))
      if (date >= row.lo && date <= row.hi) days.push({ portfolioId: row.portfolio_id, date, cells })
    out.set(row.portfolio_id, days)
  }
  return out
}

/**
 * Replaces days: those `replaced` covers go, `rows` come in. Only the months either touches are
 * rewritten, and of those only the ones with a day left alone are read first. With `unchanged:
 * 'kept'` every month it touches is read (and every later one of an open range), and a month whose
 * days come out as they were is left as it is: for a table whose days rarely change when
 * recomputed (the series' flows), a read instead of a rewrite.
 */
export async function replaceDays(
  tx: Tx,
  t: DayMonths,
  replaced: ReplacedDays,
  rows: readonly DayRow[],
  options: { unchanged?: 'rewritten' | 'kept' } = {},
): Promise<void> {
  const months = new Map<string, Month>()
  const touch = (portfolioId: string, month: string) => months.set(keyOf(portfolioId, month), { portfolioId, month })
  for (const [portfolioId, date] of replaced.days()) touch(portfolioId, monthOf(date))
  for (const [portfolioId, from] of replaced.opens()) touch(portfolioId, monthOf(from))
  const added = new Map<string, DayRow[]>()
  for (const row of rows) {
    const month = monthOf(row.date)
    const key = keyOf(row.portfolioId, month)
    if (!months.has(key)) touch(row.portfolioId, month)
    const list = added.get(key)
    if (list) list.push(row)
    else added.set(key, [row])
  }
  const opened = replaced.opens()
  // Open from the month's first day or before: nothing of it is kept (most months of a long window).
  const keepsADay = ({ portfolioId, month }: Month) => {
    const open = opened.get(portfolioId)
    return !(open !== undefined && open <= month) && daysOfMonth(month).some((d) => !replaced.covers(portfolioId, d))
  }
  const opens = [...opened].map(([portfolioId, from]) => ({ portfolioId, month: monthOf(from) }))
  const edit = ({ portfolioId, month }: Month, days: MonthDays) => {
    for (const date of days.keys()) if (replaced.covers(portfolioId, date)) days.delete(date)
    for (const row of added.get(keyOf(portfolioId, month)) ?? []) days.set(row.date, row.cells)
  }
  // A month no day of which is kept holds the rows added to it, and nothing else.
  const wholly = (m: Month) => (keepsADay(m) ? undefined : (added.get(keyOf(m.portfolioId, m.month)) ?? []))
  if (options.unchanged === 'kept') await rewriteChanged(tx, t, [...months.values()], opens, edit, wholly)
  else await rewrite(tx, t, [...months.values()], keepsADay, opens, edit)
}

/** A stored month row and days to be, in date order: equal as their comma-joined text (no row: no days). */
function sameText(t: DayMonths, row: Joined | undefined, days: readonly DayRow[]): boolean {
  if (row === undefined) return days.length === 0
  return (
    row.dates === days.map((d) => d.date).join(',') &&
    t.columns.every((c, i) => row[c] === days.map((d) => d.cells[i]).join(','))
  )
}

/**
 * rewrite, writing only the months an edit changes: every month in `months` is read, and so is
 * every stored month from each of `dropFrom` on (edited like the others, so a later month is
 * deleted only when the edit leaves it empty). A month is compared with its stored row as the
 * comma-joined text PostgreSQL returns; one `wholly` gives the days of (none of its stored days
 * kept) is not taken apart into days and edited first.
 */
async function rewriteChanged(
  tx: Tx,
  t: DayMonths,
  months: readonly Month[],
  dropFrom: readonly Month[],
  edit: (month: Month, days: MonthDays) => void,
  wholly: (month: Month) => readonly DayRow[] | undefined,
): Promise<void> {
  if (months.length === 0 && dropFrom.length === 0) return
  // The months of an open range are read as one index range per portfolio; the others one by one.
  const openFrom = new Map(dropFrom.map((m) => [m.portfolioId, m.month]))
  const single = months.filter((m) => {
    const from = openFrom.get(m.portfolioId)
    return from === undefined || m.month < from
  })
  const rows = await tx<(Joined & { month: string })[]>`
    select m.portfolio_id, m.month::text as month, ${tx.unsafe(joinedColumns(t))}
    from ${tx(t.table)} m
    join unnest(${single.map((m) => m.portfolioId)}::text[], ${single.map((m) => m.month)}::date[])
      as w(portfolio_id, month) using (portfolio_id, month)
    union all
    select m.portfolio_id, m.month::text as month, ${tx.unsafe(joinedColumns(t))}
    from unnest(${dropFrom.map((m) => m.portfolioId)}::text[], ${dropFrom.map((m) => m.month)}::date[])
      as w(portfolio_id, month)
    cross join lateral (
      select * from ${tx(t.table)} m where m.portfolio_id = w.portfolio_id and m.month >= w.month offset 0) as m`.execute()
  const stored = new Map(rows.map((row) => [keyOf(row.portfolio_id, row.month), row]))
  const all = new Map(months.map((m) => [keyOf(m.portfolioId, m.month), m]))
  for (const row of rows)
    all.set(keyOf(row.portfolio_id, row.month), { portfolioId: row.portfolio_id, month: row.month })
  const changed: Month[] = []
  const written: string[][] = []
  for (const [key, month] of all) {
    const row = stored.get(key)
    const replacing = wholly(month)?.toSorted((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0))
    if (replacing !== undefined) {
      if (sameText(t, row, replacing)) continue
      changed.push(month)
      if (replacing.length > 0) written.push(monthRow(t, month, new Map(replacing.map((d) => [d.date, d.cells]))))
      continue
    }
    const days: MonthDays = new Map(row && daysOfRow(t, row))
    edit(month, days)
    const after = [...days.keys()]
      .sort()
      .map((date) => ({ ...month, date, cells: days.get(date) as readonly string[] }))
    if (sameText(t, row, after)) continue
    changed.push(month)
    if (days.size > 0) written.push(monthRow(t, month, days))
  }
  if (changed.length === 0) return
  await tx`delete from ${tx(t.table)} m
     using unnest(${changed.map((m) => m.portfolioId)}::text[], ${changed.map((m) => m.month)}::date[]) as w(portfolio_id, month)
     where m.portfolio_id = w.portfolio_id and m.month = w.month`.execute()
  await copyRows(tx, t.table, ['portfolio_id', 'month', 'dates', ...t.columns], written, COPY_TIMEOUT_MS)
}

/** A month's days as the COPY row of its table. */
function monthRow(t: DayMonths, month: Month, days: MonthDays): string[] {
  const dates = [...days.keys()].sort()
  const cells = dates.map((d) => days.get(d) as readonly string[])
  return [
    month.portfolioId,
    month.month,
    `{${dates.join(',')}}`,
    ...t.columns.map((_, c) => `{${cells.map((day) => day[c]).join(',')}}`),
  ]
}

/**
 * Edits the days of the months of `dates` (portfolio and date each) in place: an edit may change,
 * add or remove days of its month.
 */
export async function editDays(
  tx: Tx,
  t: DayMonths,
  dates: Iterable<{ portfolioId: string; date: string }>,
  edit: (month: Month, days: MonthDays) => void,
): Promise<void> {
  const months = new Map<string, Month>()
  for (const { portfolioId, date } of dates)
    months.set(keyOf(portfolioId, monthOf(date)), { portfolioId, month: monthOf(date) })
  await rewrite(tx, t, [...months.values()], () => true, [], edit)
}

/**
 * Rewrites portfolio-months: reads those `read` asks for, lets `edit` change each month's days,
 * then deletes the months, and every month of a portfolio in `dropFrom` from its month on, and
 * writes back those with days left. The caller holds the portfolios' write lock for its stage
 * (pg-lineage.ts lockPortfolios), so no other writer changes them between the read and the write.
 */
async function rewrite(
  tx: Tx,
  t: DayMonths,
  months: readonly Month[],
  read: (month: Month) => boolean,
  dropFrom: readonly Month[],
  edit: (month: Month, days: MonthDays) => void,
): Promise<void> {
  if (months.length === 0 && dropFrom.length === 0) return
  const toRead = months.filter(read)
  const stored = new Map<string, MonthDays>()
  if (toRead.length > 0) {
    const rows = await tx<(Joined & { month: string })[]>`
      select m.portfolio_id, m.month::text as month, ${tx.unsafe(joinedColumns(t))}
      from ${tx(t.table)} m
      join unnest(${toRead.map((m) => m.portfolioId)}::text[], ${toRead.map((m) => m.month)}::date[])
        as w(portfolio_id, month) using (portfolio_id, month)`.execute()
    for (const row of rows) stored.set(keyOf(row.portfolio_id, row.month), new Map(daysOfRow(t, row)))
  }
  const written: string[][] = []
  for (const month of months) {
    const days = stored.get(keyOf(month.portfolioId, month.month)) ?? new Map()
    edit(month, days)
    if (days.size > 0) written.push(monthRow(t, month, days))
  }
  // Both deletes in one round trip (the connection pipelines them, in order).
  await Promise.all([
    tx`delete from ${tx(t.table)} m
       using unnest(${months.map((m) => m.portfolioId)}::text[], ${months.map((m) => m.month)}::date[]) as w(portfolio_id, month)
       where m.portfolio_id = w.portfolio_id and m.month = w.month`.execute(),
    dropFrom.length === 0
      ? undefined
      : tx`delete from ${tx(t.table)} m
           using unnest(${dropFrom.map((m) => m.portfolioId)}::text[], ${dropFrom.map((m) => m.month)}::date[]) as w(portfolio_id, month)
           where m.portfolio_id = w.portfolio_id and m.month >= w.month`.execute(),
  ])
  await copyRows(tx, t.table, ['portfolio_id', 'month', 'dates', ...t.columns], written, COPY_TIMEOUT_MS)
}
