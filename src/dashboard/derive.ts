/**
 * The few figures the dashboard derives from the API's answers to draw them: capital invested
 * over time, the drawdown curve, a benchmark rebased to the portfolio's start, and row sorting.
 * Pure functions on float64 (chart lines, not money that is stored or summed for a statement).
 */

export type SeriesDay = {
  date: string
  bmvBase: string
  emvBase: string
  sodFlowBase: string
  eodFlowBase: string
}

/**
 * Net invested capital at the end of each day: the value the portfolio started with (the first
 * day's beginning value) plus every external flow so far, signed (deposits in, withdrawals out).
 * Fees and income are returns, not capital, so they stay out.
 */
export function investedCapital(days: readonly SeriesDay[]): { date: string; value: number }[] {
  let invested = days.length > 0 ? Number(days[0]?.bmvBase) : 0
  return days.map((d) => {
    invested += Number(d.sodFlowBase) + Number(d.eodFlowBase)
    return { date: d.date, value: invested }
  })
}

/**
 * The drawdown after each period from the cumulative returns: (1 + c) / max(1 + c so far, 1) − 1,
 * the start (growth 1) counting as the first peak.
 */
export function drawdowns(cumulative: readonly { period: string; cumulative: number }[]) {
  let peak = 1
  return cumulative.map(({ period, cumulative: c }) => {
    const growth = 1 + c
    peak = Math.max(peak, growth)
    return { period, drawdown: growth / peak - 1 }
  })
}

/**
 * A benchmark's cumulative return on each of `dates`, from its level on `start` (the portfolio's
 * first day, before any return): level(d) / level(start) − 1, each level the latest on or before
 * its date. Null where the benchmark has no level yet.
 */
export function rebase(
  levels: readonly { date: string; level: string | null }[],
  start: string,
  dates: readonly string[],
): (number | null)[] {
  const known = levels.filter((l) => l.level !== null).map((l) => ({ date: l.date, level: Number(l.level) }))
  let i = -1
  const levelOn = (date: string): number | null => {
    while (i + 1 < known.length && (known[i + 1]?.date ?? '') <= date) i++
    return i >= 0 ? (known[i]?.level ?? null) : null
  }
  const base = levelOn(start)
  return dates.map((date) => {
    if (base === null || base === 0) return null
    const level = levelOn(date)
    return level === null ? null : level / base - 1
  })
}

export type SortKey<T> = (row: T) => string | number | null

/** Rows sorted by a key, nulls last whichever the direction; stable, so ties keep their order. */
export function sortRows<T>(rows: readonly T[], key: SortKey<T>, direction: 'asc' | 'desc'): T[] {
  const flip = direction === 'asc' ? 1 : -1
  return rows
    .map((row, index) => ({ row, index, k: key(row) }))
    .sort((a, b) => {
      if (a.k === null || b.k === null) return a.k === b.k ? a.index - b.index : a.k === null ? 1 : -1
      const order =
        typeof a.k === 'number' && typeof b.k === 'number' ? a.k - b.k : String(a.k).localeCompare(String(b.k))
      return order === 0 ? a.index - b.index : order * flip
    })
    .map(({ row }) => row)
}

/** The kind of a CSV upload from its header row: the ingest path it goes to, or undefined. */
export function csvKind(header: string): 'transactions' | 'prices' | 'benchmarks' | 'benchmark-segments' | undefined {
  const columns = new Set(
    header
      .replace(/^\uFEFF/, '')
      .split(',')
      .map((c) => c.trim().replace(/^"|"$/g, '')),
  )
  if (columns.has('transactionId')) return 'transactions'
  if (columns.has('benchmarkId')) return columns.has('segment') ? 'benchmark-segments' : 'benchmarks'
  if (columns.has('securityId') && columns.has('price')) return 'prices'
  return undefined
}
