import { afterAll, describe, expect, test } from 'bun:test'
import { freshDatabase } from '../testing/infra.ts'
import { rewritten, rowVersions } from '../testing/pipeline.ts'
import { type DayRow, editDays, readDays, replaceDays, VALUE_MONTHS } from './pg-day-months.ts'
import { ReplacedDays } from './pg-replaced-days.ts'

const db = await freshDatabase('day_months')
afterAll(() => db.drop())

/** A day sum of `emv` on one position, complete. */
const day = (portfolioId: string, date: string, emv: string): DayRow => ({
  portfolioId,
  date,
  cells: [emv, '1', 't'],
})
/** The portfolio's days as stored, [date, emv], read a day at a time through the view of the old name. */
const stored = async (portfolioId: string) =>
  (
    await db.sql`select date::text as d, emv_base::text as e from portfolio_values
                 where portfolio_id = ${portfolioId} order by date`
  ).map((r) => [r.d, r.e])
const months = async (portfolioId: string) =>
  (
    await db.sql`select month::text as m from portfolio_value_months where portfolio_id = ${portfolioId} order by month`
  ).map((r) => r.m)
const replace = (replaced: ReplacedDays, rows: DayRow[]) =>
  db.sql.begin((tx) => replaceDays(tx, VALUE_MONTHS, replaced, rows))

describe('days stored by month', () => {
  test('days of three months land in three rows, and read back in date order', async () => {
    const replaced = new ReplacedDays()
    replaced.addOpen('A', '2025-01-30')
    await replace(replaced, [
      day('A', '2025-03-03', '3'),
      day('A', '2025-01-30', '1'),
      day('A', '2025-01-31', '1.5'),
      day('A', '2025-02-28', '2'),
    ])
    expect(await months('A')).toEqual(['2025-01-01', '2025-02-01', '2025-03-01'])
    expect(await stored('A')).toEqual([
      ['2025-01-30', '1'],
      ['2025-01-31', '1.5'],
      ['2025-02-28', '2'],
      ['2025-03-03', '3'],
    ])
    // A range read takes only its days, from the months it overlaps.
    const read = await readDays(db.sql, VALUE_MONTHS, [{ portfolioId: 'A', lo: '2025-01-31', hi: '2025-02-28' }])
    expect(read.get('A')?.map((d) => [d.date, ...d.cells])).toEqual([
      ['2025-01-31', '1.5', '1', 't'],
      ['2025-02-28', '2', '1', 't'],
    ])
  })

  test('a bounded range replaces its days only; the rest of its month stays', async () => {
    const replaced = new ReplacedDays()
    replaced.add('A', '2025-01-31', '2025-02-02')
    // Jan 31 and Feb 1–2 replaced: Jan 31 rewritten, Feb 1 new (a day nothing was stored on), Jan 30 and Feb 28 kept.
    await replace(replaced, [day('A', '2025-01-31', '9'), day('A', '2025-02-01', '8')])
    expect(await stored('A')).toEqual([
      ['2025-01-30', '1'],
      ['2025-01-31', '9'],
      ['2025-02-01', '8'],
      ['2025-02-28', '2'],
      ['2025-03-03', '3'],
    ])
  })

  test('an open range drops every later month, and a month left with no day goes', async () => {
    const replaced = new ReplacedDays()
    replaced.addOpen('A', '2025-01-31') // the business date moved back to Jan 31
    await replace(replaced, [day('A', '2025-01-31', '7')])
    expect(await stored('A')).toEqual([
      ['2025-01-30', '1'],
      ['2025-01-31', '7'],
    ])
    expect(await months('A')).toEqual(['2025-01-01'])
    const emptied = new ReplacedDays()
    emptied.add('A', '2025-01-01', '2025-01-31')
    await replace(emptied, [])
    expect(await months('A')).toEqual([])
  })

  test('another portfolio is left alone', async () => {
    const [a, b] = [new ReplacedDays(), new ReplacedDays()]
    a.addOpen('A', '2025-01-01')
    b.addOpen('B', '2025-01-01')
    await replace(a, [day('A', '2025-01-02', '1')])
    await replace(b, [day('B', '2025-01-02', '2')])
    expect(await stored('A')).toEqual([['2025-01-02', '1']])
    expect(await stored('B')).toEqual([['2025-01-02', '2']])
  })

  test('with unchanged months kept, only the months whose days differ are rewritten, and a month left empty goes', async () => {
    const all = new ReplacedDays()
    all.addOpen('K', '2025-01-01')
    const start = [
      day('K', '2025-01-30', '1'),
      day('K', '2025-01-31', '2'),
      day('K', '2025-02-28', '3'),
      day('K', '2025-03-03', '4'),
      day('K', '2025-04-01', '5'),
    ]
    await replace(all, start)
    const before = await rowVersions(db.sql, 'portfolio_value_months', 'K')
    // From Jan 31 on (the business date moved back to Mar 3): January keeps Jan 30 and its Jan 31
    // comes out as it was; February's day changed; March is March again; April has no day left.
    const from = new ReplacedDays()
    from.addOpen('K', '2025-01-31')
    await db.sql.begin((tx) =>
      replaceDays(
        tx,
        VALUE_MONTHS,
        from,
        [day('K', '2025-03-03', '4'), day('K', '2025-02-28', '3.5'), day('K', '2025-01-31', '2')],
        { unchanged: 'kept' },
      ),
    )
    expect(await stored('K')).toEqual([
      ['2025-01-30', '1'],
      ['2025-01-31', '2'],
      ['2025-02-28', '3.5'],
      ['2025-03-03', '4'],
    ])
    const after = await rowVersions(db.sql, 'portfolio_value_months', 'K')
    expect([...after.keys()]).toEqual(['2025-01-01', '2025-02-01', '2025-03-01'])
    before.delete('2025-04-01')
    expect(rewritten(before, after)).toEqual(['2025-02-01'])
  })

  test('an edit changes, adds and removes days of the months it names', async () => {
    await db.sql.begin((tx) =>
      editDays(
        tx,
        VALUE_MONTHS,
        [
          { portfolioId: 'A', date: '2025-01-02' },
          { portfolioId: 'A', date: '2025-02-03' },
        ],
        ({ month }, days) => {
          if (month === '2025-01-01') days.delete('2025-01-02')
          else days.set('2025-02-03', ['5.25', '2', 'f'])
        },
      ),
    )
    expect(await stored('A')).toEqual([['2025-02-03', '5.25']])
    expect(await months('A')).toEqual(['2025-02-01'])
  })
})
