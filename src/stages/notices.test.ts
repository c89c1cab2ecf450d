import { describe, expect, test } from 'bun:test'
import type { DeadLetter } from '../ports/input-store.ts'
import { DAYS_PER_SLICE, earliestPerPortfolio, inSlices, PORTFOLIOS_PER_SLICE, ROWS_PER_WRITE } from './notices.ts'

type Job = { portfolioId: string; fromDate: string }
const jobs = (n: number): Job[] =>
  Array.from({ length: n }, (_, i) => ({ portfolioId: `P${i}`, fromDate: '2025-01-01' }))

/** Runs inSlices with results of `rows(i)` rows for portfolio i; returns the writes (portfolio ids) and the parked letters. */
async function run(
  count: number,
  rows: (i: number) => number,
  failing = new Set<number>(),
  daysOf?: (job: Job) => number,
) {
  const writes: string[][] = []
  const loads: number[] = []
  const parked: DeadLetter[] = []
  await inSlices(
    jobs(count),
    async (slice) => {
      loads.push(slice.length)
      return slice
    },
    (job) => {
      const i = Number(job.portfolioId.slice(1))
      if (failing.has(i)) throw new Error(`cannot value ${job.portfolioId}`)
      return { job, rows: rows(i) }
    },
    async (results) => {
      writes.push(results.map((r) => r.job.portfolioId))
    },
    {
      stage: 'valuation',
      batch: { records: [], nextOffsets: [] },
      sink: { deadLetter: async (letters) => void parked.push(...letters) },
      jobOf: (job) => job,
      rowsOf: (r) => r.rows,
      daysOf,
    },
  )
  return { writes, loads, parked }
}

describe('inSlices', () => {
  test('loads and writes in slices of portfolios; a day of rows each is one write per slice', async () => {
    const { writes, loads } = await run(PORTFOLIOS_PER_SLICE + 3, () => 21)
    expect(loads).toEqual([PORTFOLIOS_PER_SLICE, 3])
    expect(writes.map((w) => w.length)).toEqual([PORTFOLIOS_PER_SLICE, 3])
  })

  test('long histories are written as soon as they reach the row budget, whole portfolios each time', async () => {
    // 0.4 of the budget each: the third portfolio reaches it (1.2), so writes hold 3, 3, 3, then the last 1.
    const { writes } = await run(10, () => ROWS_PER_WRITE * 0.4)
    expect(writes.map((w) => w.length)).toEqual([3, 3, 3, 1])
    expect(writes.flat()).toEqual(jobs(10).map((j) => j.portfolioId))
  })

  test('a portfolio the engine cannot compute is parked; the others are written', async () => {
    const { writes, parked } = await run(4, () => 10, new Set([2]))
    expect(writes.flat()).toEqual(['P0', 'P1', 'P3'])
    expect(parked.map((l) => [l.key, l.code])).toEqual([['P2', 'COMPUTE_FAILED']])
  })

  test('jobs spanning many days come in smaller slices, so a slice loads a bounded span of prices', async () => {
    // Five years each: DAYS_PER_SLICE (fifty portfolios' year) holds ten; a day each still holds fifty.
    const long = await run(
      25,
      () => 10,
      new Set(),
      () => DAYS_PER_SLICE / 10,
    )
    expect(long.loads).toEqual([10, 10, 5])
    const daily = await run(
      PORTFOLIOS_PER_SLICE + 1,
      () => 10,
      new Set(),
      () => 1,
    )
    expect(daily.loads).toEqual([PORTFOLIOS_PER_SLICE, 1])
    // One job longer than the whole budget still goes, alone.
    const huge = await run(
      2,
      () => 10,
      new Set(),
      () => DAYS_PER_SLICE * 3,
    )
    expect(huge.loads).toEqual([1, 1])
  })

  test('the next slice is loaded while the one before is written; a load that fails fails the batch there', async () => {
    const events: string[] = []
    const parking = {
      stage: 'valuation',
      batch: { records: [], nextOffsets: [] },
      sink: { deadLetter: async () => {} },
      jobOf: (job: Job) => job,
      // A job per slice: a slice of PORTFOLIOS_PER_SLICE yields to the event loop that many times,
      // which took over 5 s once, run after the pipeline tests in one process.
      daysOf: () => DAYS_PER_SLICE,
    }
    const slicesOf = (n: number) => jobs(n)
    const sliceOf = (slice: Job[]) => Number(slice[0]?.portfolioId.slice(1))
    const load = async (slice: Job[]) => {
      events.push(`load ${sliceOf(slice)}`)
      if (sliceOf(slice) === 2 && events.includes('failing')) throw new Error('PostgreSQL went away')
      return slice
    }
    const write = async (results: Job[]) => {
      events.push(`write ${sliceOf(results)}`)
      await Bun.sleep(5)
      events.push(`written ${sliceOf(results)}`)
    }
    const steps: [string, number][] = []
    await inSlices(slicesOf(3), load, (job) => job, write, {
      ...parking,
      steps: (step, seconds) => steps.push([step, seconds]),
    })
    // Each slice timed: waited for, computed, written (a write sleeps 5 ms).
    expect(steps.map(([step]) => step)).toEqual([
      'load',
      'compute',
      'write',
      'load',
      'compute',
      'write',
      'load',
      'compute',
      'write',
    ])
    for (const [step, seconds] of steps) expect(seconds).toBeGreaterThanOrEqual(step === 'write' ? 0.004 : 0)
    // Slice 1 was asked for before slice 0 was computed, slice 2 before slice 1.
    expect(events).toEqual([
      'load 0',
      'load 1',
      'write 0',
      'written 0',
      'load 2',
      'write 1',
      'written 1',
      'write 2',
      'written 2',
    ])
    events.length = 0
    events.push('failing')
    await expect(inSlices(slicesOf(3), load, (job) => job, write, parking)).rejects.toThrow('PostgreSQL went away')
    // The slices before it were written; nothing after it.
    expect(events.filter((e) => e.startsWith('written'))).toEqual(['written 0', 'written 1'])
  })
})

describe('earliestPerPortfolio', () => {
  test('one request per portfolio: the earliest date and since, the positions named together, none if one names none', () => {
    expect(
      earliestPerPortfolio([
        { portfolioId: 'A', fromDate: '2025-03-01', since: 20, positions: ['S1', 'CASH:USD'] },
        { portfolioId: 'B', fromDate: '2025-02-01', positions: ['S2'] },
        { portfolioId: 'A', fromDate: '2025-01-15', since: 30, positions: ['S3', 'CASH:USD'] },
        { portfolioId: 'C', fromDate: '2025-01-01', positions: ['S4'] },
        { portfolioId: 'C', fromDate: '2025-02-01', since: 5 },
      ]),
    ).toEqual([
      { portfolioId: 'A', fromDate: '2025-01-15', since: 20, positions: ['S1', 'CASH:USD', 'S3'] },
      { portfolioId: 'B', fromDate: '2025-02-01', positions: ['S2'] },
      { portfolioId: 'C', fromDate: '2025-01-01', since: 5 },
    ])
  })
})
