import { type Calendar, fromEpochDay, toEpochDay, WEEKDAYS } from './dates.ts'
import type { Span, ValuationJob } from './records.ts'

/**
 * Spans of days to revalue (records.ts `Span`: from `from` to the day before `until`, or open to
 * the business date). ISO dates compare as strings.
 */

/** A job's spans: its own, or one open span from its date. */
export const spansOf = (job: Pick<ValuationJob, 'fromDate' | 'spans'>): Span[] => job.spans ?? [{ from: job.fromDate }]

/** Spans sorted and merged where they overlap or touch; an open span absorbs every later one. */
export function mergeSpans(spans: readonly Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0))
  const out: Span[] = []
  for (const span of sorted) {
    const last = out.at(-1)
    if (last === undefined || (last.until !== undefined && span.from > last.until)) {
      out.push(span)
      continue
    }
    if (last.until === undefined) continue
    out[out.length - 1] =
      span.until === undefined ? { from: last.from } : { from: last.from, until: maxDate(last.until, span.until) }
  }
  return out
}

const maxDate = (a: string, b: string) => (a > b ? a : b)

/**
 * A job for these spans: the plain job (from a date on) when they are one open span. `since`: the
 * earliest ingest time behind it (records.ts), when known.
 */
export function jobOf(portfolioId: string, spans: readonly Span[], since?: number): ValuationJob {
  const merged = mergeSpans(spans)
  const first = merged[0]
  if (first === undefined) throw new Error(`a valuation job for ${portfolioId} needs at least one span`)
  const job: ValuationJob =
    merged.length === 1 && first.until === undefined
      ? { portfolioId, fromDate: first.from }
      : { portfolioId, fromDate: first.from, spans: merged }
  if (since !== undefined) job.since = since
  return job
}

/** The earlier of two optional ingest times (a notice's `since`, records.ts). */
export const earlier = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b)

/**
 * One job per portfolio: the union of the spans its jobs ask for, since the earliest of them; of
 * market data only when all of them are; with the dates whose flows moved (`flows`) when each of
 * them names its own or is market data's (which moves none).
 */
export function coalesceJobs(jobs: readonly ValuationJob[]): ValuationJob[] {
  return [...Map.groupBy(jobs, (j) => j.portfolioId)].map(([portfolioId, own]) => {
    const since = own.reduce<number | undefined>((min, j) => earlier(min, j.since), undefined)
    const job = jobOf(portfolioId, own.flatMap(spansOf), since)
    if (own.every((j) => j.marketData)) return { ...job, marketData: true }
    if (!own.every((j) => j.flows !== undefined || j.marketData)) return job
    return { ...job, flows: [...new Set(own.flatMap((j) => j.flows ?? []))].sort() }
  })
}

/**
 * coalesceJobs for the valuation stage: also the union of the spans each job revalues as a whole
 * (its `revalue`, else all its spans), kept as `revalue` when it is not all of the job's spans.
 */
export function coalesceValuationJobs(jobs: readonly ValuationJob[]): ValuationJob[] {
  return [...Map.groupBy(jobs, (j) => j.portfolioId)].flatMap(([, own]) =>
    coalesceJobs(own).map((job) => {
      const revalue = mergeSpans(own.flatMap((j) => j.revalue ?? spansOf(j)))
      const all = spansOf(job)
      const same =
        revalue.length === all.length && revalue.every((s, i) => s.from === all[i]?.from && s.until === all[i]?.until)
      return same ? job : { ...job, revalue }
    }),
  )
}

/**
 * The days of a portfolio's series that a job's revaluation changes, as inclusive windows up to
 * the business date: each span's days, and the business day on or after its end, whose opening
 * value (the previous business day's close) was revalued. An open span runs to the business date
 * and is `open`: what the series holds after it (the business date moved back) goes too.
 */
export function seriesWindows(
  job: Pick<ValuationJob, 'fromDate' | 'spans'>,
  businessDate: string,
  calendar: Calendar = WEEKDAYS,
): { from: string; to: string; open: boolean }[] {
  return spansOf(job)
    .filter((span) => span.until === undefined || span.from <= businessDate)
    .map(({ from, until }) => {
      const to = until === undefined ? businessDate : fromEpochDay(calendar.onOrAfter(toEpochDay(until)))
      return { from, to: to < businessDate ? to : businessDate, open: until === undefined }
    })
}
