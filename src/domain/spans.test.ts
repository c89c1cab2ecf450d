import { describe, expect, test } from 'bun:test'
import { coalesceJobs, jobOf, mergeSpans, seriesWindows, spansOf } from './spans.ts'

describe('spans of days to revalue', () => {
  test('overlapping and touching spans merge; disjoint ones stay apart, sorted', () => {
    expect(
      mergeSpans([
        { from: '2025-03-01', until: '2025-03-05' },
        { from: '2025-01-01', until: '2025-01-02' },
        { from: '2025-03-05', until: '2025-03-07' }, // touches the first: [Mar 1, Mar 7)
        { from: '2025-03-02', until: '2025-03-03' }, // inside it
      ]),
    ).toEqual([
      { from: '2025-01-01', until: '2025-01-02' },
      { from: '2025-03-01', until: '2025-03-07' },
    ])
  })

  test('an open span absorbs every span that starts on or after it, and extends one it overlaps', () => {
    expect(
      mergeSpans([
        { from: '2025-02-01', until: '2025-02-10' },
        { from: '2025-02-05' },
        { from: '2025-03-01', until: '2025-03-02' },
        { from: '2025-01-01', until: '2025-01-02' },
      ]),
    ).toEqual([{ from: '2025-01-01', until: '2025-01-02' }, { from: '2025-02-01' }])
  })

  test('a job of one open span is the plain job; otherwise it carries its spans from the first', () => {
    expect(jobOf('P', [{ from: '2025-02-01' }, { from: '2025-03-01', until: '2025-03-02' }])).toEqual({
      portfolioId: 'P',
      fromDate: '2025-02-01',
    })
    expect(
      jobOf('P', [
        { from: '2025-03-01', until: '2025-03-02' },
        { from: '2025-01-07', until: '2025-01-08' },
      ]),
    ).toEqual({
      portfolioId: 'P',
      fromDate: '2025-01-07',
      spans: [
        { from: '2025-01-07', until: '2025-01-08' },
        { from: '2025-03-01', until: '2025-03-02' },
      ],
    })
    expect(() => jobOf('P', [])).toThrow('at least one span')
  })

  test('jobs coalesce per portfolio: a plain job is an open span from its date', () => {
    const jobs = coalesceJobs([
      { portfolioId: 'A', fromDate: '2025-01-07', spans: [{ from: '2025-01-07', until: '2025-01-08' }] },
      { portfolioId: 'B', fromDate: '2025-05-01' },
      { portfolioId: 'A', fromDate: '2025-01-20' },
      { portfolioId: 'A', fromDate: '2025-02-03', spans: [{ from: '2025-02-03', until: '2025-02-04' }] },
    ])
    expect(jobs).toEqual([
      {
        portfolioId: 'A',
        fromDate: '2025-01-07',
        spans: [{ from: '2025-01-07', until: '2025-01-08' }, { from: '2025-01-20' }],
      },
      { portfolioId: 'B', fromDate: '2025-05-01' },
    ])
    expect(spansOf(jobs[1] as (typeof jobs)[number])).toEqual([{ from: '2025-05-01' }])
  })

  test("a portfolio's jobs coalesce into one of market data only when every one of them is", () => {
    const price = (portfolioId: string, day: string) => ({
      portfolioId,
      fromDate: day,
      spans: [{ from: day, until: '2025-03-31' }],
      marketData: true as const,
    })
    const jobs = coalesceJobs([
      price('A', '2025-03-03'),
      price('A', '2025-03-10'),
      price('B', '2025-03-03'),
      { portfolioId: 'B', fromDate: '2025-03-20' }, // a correction: its flows move
    ])
    expect(jobs.map((j) => [j.portfolioId, j.marketData])).toEqual([
      ['A', true],
      ['B', undefined],
    ])
  })

  test("series windows: each span's days and the business day on or after its end, capped at the business date", () => {
    const job = jobOf('P1', [
      // A price in force Tue 2025-01-07 up to its next price on Thu 01-09: Thu opens on Wed's close.
      { from: '2025-01-07', until: '2025-01-09' },
      // Up to a Saturday: the Monday after (01-20) opens on Friday's close.
      { from: '2025-01-15', until: '2025-01-18' },
      // Past the business date: cut there.
      { from: '2025-01-27', until: '2025-02-10' },
      // After the business date: nothing to write.
      { from: '2025-02-03', until: '2025-02-04' },
    ])
    expect(seriesWindows(job, '2025-01-31')).toEqual([
      { from: '2025-01-07', to: '2025-01-09', open: false },
      { from: '2025-01-15', to: '2025-01-20', open: false },
      { from: '2025-01-27', to: '2025-01-31', open: false },
    ])
    // A plain job runs from its date to the business date, and is open: it replaces whatever the
    // series holds from its date on, even past a business date moved back (to before the job, too).
    expect(seriesWindows({ fromDate: '2025-01-10' }, '2025-01-31')).toEqual([
      { from: '2025-01-10', to: '2025-01-31', open: true },
    ])
    expect(seriesWindows({ fromDate: '2025-02-10' }, '2025-01-31')).toEqual([
      { from: '2025-02-10', to: '2025-01-31', open: true },
    ])
  })
})
