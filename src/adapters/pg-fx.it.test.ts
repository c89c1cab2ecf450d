import { afterAll, describe, expect, test } from 'bun:test'
import { freshDatabase } from '../testing/infra.ts'
import { FxRates, fxRatesFrom } from './pg-fx.ts'

const db = await freshDatabase('fx')
afterAll(async () => {
  await db.drop()
})

const insert = (from: string, to: string, date: string, rate: string) =>
  db.sql`insert into fx_rates (from_currency, to_currency, date, rate, written_by) values (${from}, ${to}, ${date}, ${rate}, 'test')`

describe('FxRates: every rate, read again only when fx_rates changed', () => {
  const rates = new FxRates()

  test('reads every rate, one per pair and day', async () => {
    await insert('EUR', 'USD', '2025-01-02', '1.04')
    await insert('EUR', 'USD', '2025-01-03', '1.05')
    await insert('USD', 'CHF', '2025-01-02', '0.9')
    const all = await rates.all(db.sql)
    expect(all.toSorted((a, b) => `${a.from}${a.date}`.localeCompare(`${b.from}${b.date}`))).toEqual([
      { from: 'EUR', to: 'USD', date: '2025-01-02', rate: '1.04' },
      { from: 'EUR', to: 'USD', date: '2025-01-03', rate: '1.05' },
      { from: 'USD', to: 'CHF', date: '2025-01-02', rate: '0.9' },
    ])
  })

  test('unchanged, the same rates (and picked arrays) come back without reading them again', async () => {
    const first = await rates.all(db.sql)
    const picked = rates.picked('EUR', (r) => r.from === 'EUR')
    expect(await rates.all(db.sql)).toBe(first)
    expect(rates.picked('EUR', (r) => r.from === 'EUR')).toBe(picked)
    expect(picked.map((r) => r.rate)).toEqual(['1.04', '1.05'])
  })

  test('any write to fx_rates (here plain SQL, not persist) is seen on the next read', async () => {
    const before = await rates.all(db.sql)
    await db.sql`update fx_rates set rate = 1.06 where from_currency = 'EUR' and date = '2025-01-03'`
    const after = await rates.all(db.sql)
    expect(after).not.toBe(before)
    expect(after.find((r) => r.from === 'EUR' && r.date === '2025-01-03')?.rate).toBe('1.06')
    expect(rates.picked('EUR', (r) => r.from === 'EUR').map((r) => r.rate)).toEqual(['1.04', '1.06'])
    await db.sql`delete from fx_rates where from_currency = 'USD'`
    expect((await rates.all(db.sql)).map((r) => r.from)).toEqual(['EUR', 'EUR'])
  })
})

describe('fxRatesFrom: the rates answering for a range', () => {
  test("each pair's latest before the start, then those up to the end", async () => {
    await insert('EUR', 'USD', '2025-01-06', '1.07')
    await insert('EUR', 'USD', '2025-01-07', '1.08')
    const got = await fxRatesFrom(db.sql, db.sql`from_currency = 'EUR'`, '2025-01-04', '2025-01-06')
    expect(got).toEqual([
      { from: 'EUR', to: 'USD', date: '2025-01-03', rate: '1.06' },
      { from: 'EUR', to: 'USD', date: '2025-01-06', rate: '1.07' },
    ])
  })
})
