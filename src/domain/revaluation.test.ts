import { describe, expect, test } from 'bun:test'
import { toEpochDay } from './dates.ts'
import { FxTable, PriceTable } from './market-data.ts'
import { changedPositions, dayDeltas, valuedRows } from './revaluation.ts'
import { type HeldRow, valueDays } from './valuation.ts'

const row = (positionId: string, date: string, quantity: string, currency = 'USD'): HeldRow => ({
  portfolioId: 'P',
  positionId,
  date,
  currency,
  quantity,
  costLocal: '0',
  costBase: '0',
})

describe('changedPositions', () => {
  test('a position is changed when a valued field of a row, the number of its rows, or its presence differs', () => {
    const before = [row('A', '2025-01-06', '10'), row('B', '2025-01-06', '5'), row('C', '2025-01-07', '1')]
    const after = [
      row('A', '2025-01-06', '15'), // quantity
      row('B', '2025-01-06', '5'),
      row('B', '2025-01-08', '0'), // a row more
      row('D', '2025-01-07', '1'), // new; C is gone
    ]
    expect([...changedPositions(before, after)].sort()).toEqual(['A', 'B', 'C', 'D'])
  })

  test('equal quantities written differently, and costs, do not count', () => {
    const before = [{ ...row('A', '2025-01-06', '10.50'), costBase: '99' }, row('B', '2025-01-06', '5', 'EUR')]
    const after = [row('A', '2025-01-06', '10.5'), row('B', '2025-01-06', '5', 'EUR')]
    expect(changedPositions(before, after).size).toBe(0)
    expect([...changedPositions(before, [after[0] as HeldRow, row('B', '2025-01-06', '5', 'GBP')])]).toEqual(['B'])
  })
})

describe('dayDeltas', () => {
  // Base USD, A priced 10 from Mon 2025-01-06 and 12 from Thu 01-09; business days 01-06 to 01-10.
  const ctx = {
    portfolio: { portfolioId: 'P', baseCurrency: 'USD', openDate: '2025-01-01' } as never,
    prices: PriceTable.ofSeries([
      {
        securityId: 'A',
        days: [toEpochDay('2025-01-06'), toEpochDay('2025-01-09')],
        texts: ['10', '12'],
        currencies: ['USD', 'USD'],
      },
    ]),
    fx: FxTable.of([]),
  }
  const days = (rows: HeldRow[]) => valueDays(rows, toEpochDay('2025-01-06'), toEpochDay('2025-01-10'), ctx)

  test('what the new rows add minus what the valued rows added, per day; equal days left out', () => {
    // Valued: 10 held from 01-06. Now: 15 from 01-06, sold down to 5 on 01-09.
    // 01-06..08: 150 − 100 = 50; 01-09..10: 5 × 12 − 10 × 12 = −60. Same count of positions each day.
    const valued = [row('A', '2025-01-06', '10')]
    const now = [row('A', '2025-01-06', '15'), row('A', '2025-01-09', '5')]
    const scaled = (n: string) => BigInt(n) * 10n ** 10n // money.ts SCALE
    expect(dayDeltas(days(now), days(valued))).toEqual([
      { date: '2025-01-06', emvBase: scaled('50'), positions: 0 },
      { date: '2025-01-07', emvBase: scaled('50'), positions: 0 },
      { date: '2025-01-08', emvBase: scaled('50'), positions: 0 },
      { date: '2025-01-09', emvBase: scaled('-60'), positions: 0 },
      { date: '2025-01-10', emvBase: scaled('-60'), positions: 0 },
    ])
    expect(dayDeltas(days(valued), days(valued))).toEqual([])
  })

  test('a position that is new adds itself; one that is gone takes itself away', () => {
    // Bought on Thu 01-09: 2 × 12 = 24 on 01-09 and 01-10, one position more.
    const added = dayDeltas(days([row('A', '2025-01-09', '2')]), [])
    expect(added.map((d) => [d.date, d.emvBase / 10n ** 10n, d.positions])).toEqual([
      ['2025-01-09', 24n, 1],
      ['2025-01-10', 24n, 1],
    ])
    const gone = dayDeltas([], days([row('A', '2025-01-09', '2')]))
    expect(gone.map((d) => [d.date, d.emvBase / 10n ** 10n, d.positions])).toEqual([
      ['2025-01-09', -24n, -1],
      ['2025-01-10', -24n, -1],
    ])
  })

  test('days on one side only, before, between and after the days on both', () => {
    // Valued: 4 bought on Wed 01-08, sold whole on Fri 01-10 (the closing day valued at zero).
    // Now: 3 bought on Tue 01-07, held to the end.
    // 01-07: now only, 3 × 10 = 30, one position more.
    // 01-08: 30 − 40 = −10. 01-09: 3 × 12 − 4 × 12 = −12.
    // 01-10: 36 − 0 (the valued closing day counts as a position): +36, no change in count.
    const valued = [row('A', '2025-01-08', '4'), row('A', '2025-01-10', '0')]
    const now = [row('A', '2025-01-07', '3')]
    const deltas = dayDeltas(days(now), days(valued))
    expect(deltas.map((d) => [d.date, d.emvBase / 10n ** 10n, d.positions])).toEqual([
      ['2025-01-07', 30n, 1],
      ['2025-01-08', -10n, 0],
      ['2025-01-09', -12n, 0],
      ['2025-01-10', 36n, 0],
    ])
    // And the other way round: each figure negated.
    expect(dayDeltas(days(valued), days(now)).map((d) => [d.date, d.emvBase / 10n ** 10n, d.positions])).toEqual([
      ['2025-01-07', -30n, -1],
      ['2025-01-08', 10n, 0],
      ['2025-01-09', 12n, 0],
      ['2025-01-10', -36n, 0],
    ])
  })
})

test('valuedRows: the history before the pending date, then the rows it was valued with', () => {
  const history = [row('A', '2025-01-02', '1'), row('A', '2025-01-06', '15'), row('A', '2025-01-09', '5')]
  expect(valuedRows(history, '2025-01-06', [row('A', '2025-01-06', '10')])).toEqual([
    row('A', '2025-01-02', '1'),
    row('A', '2025-01-06', '10'),
  ])
})
