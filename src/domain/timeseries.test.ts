import { describe, expect, test } from 'bun:test'
import { toEpochDay } from './dates.ts'
import { FxTable, PriceTable } from './market-data.ts'
import { recompute } from './positions.ts'
import type { Instrument, Portfolio, Transaction } from './records.ts'
import { portfolioSeries, positionSeries, positionSeriesFloats, summarize } from './timeseries.ts'
import { valueDays } from './valuation.ts'

const portfolio: Portfolio = { portfolioId: 'P1', baseCurrency: 'USD', openDate: '2025-01-01' }
const instruments = new Map<string, Instrument>([['AAPL', { securityId: 'AAPL', name: 'Apple', currency: 'USD' }]])
const fx = FxTable.of([])
const prices = PriceTable.of([
  { securityId: 'AAPL', date: '2025-01-06', price: '10', currency: 'USD' },
  { securityId: 'AAPL', date: '2025-01-07', price: '11', currency: 'USD' },
])
const t = (id: string, fields: Omit<Transaction, 'transactionId' | 'portfolioId' | 'currency'>): Transaction => ({
  transactionId: id,
  portfolioId: 'P1',
  currency: 'USD',
  ...fields,
})
// Mon Jan 6: deposit 10,000 (SOD); buy 100 AAPL @ 10 + fee 5. Tue Jan 7: AAPL 11; withdraw 500; fee 20.
// Sat Jan 11: a 100 deposit, which counts on Mon Jan 13.
const txns = [
  t('D1', { type: 'DEPOSIT', tradeDate: '2025-01-06', grossAmount: '10000' }),
  t('B1', { type: 'BUY', tradeDate: '2025-01-06', securityId: 'AAPL', quantity: '100', price: '10', fee: '5' }),
  t('W1', { type: 'WITHDRAWAL', tradeDate: '2025-01-07', grossAmount: '500' }),
  t('F1', { type: 'FEE', tradeDate: '2025-01-07', grossAmount: '20' }),
  t('D2', { type: 'DEPOSIT', tradeDate: '2025-01-11', grossAmount: '100' }),
]
const fold = recompute([], txns, { portfolio, instruments, fx })
const [from, to] = [toEpochDay('2025-01-06'), toEpochDay('2025-01-13')]
const valuations = ['AAPL', 'CASH:USD'].flatMap((id) =>
  valueDays(
    fold.rows.filter((r) => r.positionId === id),
    from,
    to,
    { portfolio, fx, prices },
  ),
)

describe('portfolioSeries', () => {
  test('sums position values and keeps only external flows, fees and income', () => {
    const points = portfolioSeries('P1', valuations, fold.cashflows, from, to)
    expect(
      points.map((p) => [p.date, p.bmvBase, p.emvBase, p.sodFlowBase, p.eodFlowBase, p.feesBase, p.complete]),
    ).toEqual([
      // cash 10,000 − 1,005 = 8,995 + AAPL 1,000 = 9,995; trading fee 5
      ['2025-01-06', '0', '9995', '10000', '0', '5', true],
      // cash 8,995 − 500 − 20 = 8,475 + AAPL 1,100 = 9,575; the fee is 20
      ['2025-01-07', '9995', '9575', '0', '-500', '20', true],
      ['2025-01-08', '9575', '9575', '0', '0', '0', true],
      ['2025-01-09', '9575', '9575', '0', '0', '0', true],
      ['2025-01-10', '9575', '9575', '0', '0', '0', true],
      ['2025-01-13', '9575', '9675', '100', '0', '0', true], // Saturday's deposit, at Monday's start
    ])
    // Day 2's return, (9,575 − 9,995 + 500) / 9,995 = 80 / 9,995: the +100 price move less the 20 fee.
  })

  test('days before the portfolio holds anything are left out', () => {
    const points = portfolioSeries('P1', valuations, fold.cashflows, toEpochDay('2025-01-01'), toEpochDay('2025-01-07'))
    expect(points.map((p) => p.date)).toEqual(['2025-01-06', '2025-01-07'])
  })

  test('a day with an unvalued position is marked incomplete', () => {
    const missing = valuations.map((v) =>
      v.row.positionId === 'AAPL' && v.day === toEpochDay('2025-01-08')
        ? { ...v, status: 'MISSING_PRICE' as const }
        : v,
    )
    const point = portfolioSeries('P1', missing, fold.cashflows, from, to).find((p) => p.date === '2025-01-08')
    expect(point).toMatchObject({ complete: false, emvBase: '8475' })
    // What the valuation stage keeps of the same days: that sum (two positions) and the one unvalued day.
    const kept = summarize(missing)
    expect(kept.totals.find((t) => t.date === '2025-01-08')).toEqual({
      date: '2025-01-08',
      emvBase: '8475',
      positions: 2,
      complete: false,
    })
    expect(kept.unvalued.map((d) => [d.row.positionId, d.day, d.status])).toEqual([
      ['AAPL', toEpochDay('2025-01-08'), 'MISSING_PRICE'],
    ])
  })
})

describe('positionSeries', () => {
  test("a security's flows are its purchases and sales, from the position's side", () => {
    const points = positionSeries(
      'P1',
      'AAPL',
      valuations.filter((v) => v.row.positionId === 'AAPL'),
      fold.cashflows.filter((c) => c.positionId === 'AAPL'),
      from,
      toEpochDay('2025-01-07'),
    )
    expect(
      points.map((p) => [p.date, p.bmvBase, p.emvBase, p.sodFlowBase, p.feesBase, p.quantity, p.costBase]),
    ).toEqual([
      ['2025-01-06', '0', '1000', '1005', '5', '100', '1005'],
      ['2025-01-07', '1000', '1100', '0', '0', '100', '1005'],
    ])
  })

  test('in float64, each point is the double its decimal text parses to', () => {
    for (const id of ['AAPL', 'CASH:USD']) {
      const days = valuations.filter((v) => v.row.positionId === id)
      const flows = id === 'AAPL' ? fold.cashflows.filter((c) => c.positionId === id) : fold.cashflows
      const text = positionSeries('P1', id, days, flows, from, to)
      // Each point's rate, and the rate of the point before it (none before the first).
      const rates = text.map((_, i) => ({ fxBefore: i === 0 ? Number.NaN : 1 }))
      expect(text.length).toBeGreaterThan(3)
      expect(positionSeriesFloats(id, days, flows, from, to)).toEqual(
        text.map((p, i) => ({
          positionId: id,
          date: p.date,
          bmv: Number(p.bmvBase),
          emv: Number(p.emvBase),
          sod: Number(p.sodFlowBase),
          eod: Number(p.eodFlowBase),
          fees: Number(p.feesBase),
          income: Number(p.incomeBase),
          fx: 1, // USD in a USD portfolio
          fxBefore: rates[i]?.fxBefore ?? Number.NaN,
        })),
      )
    }
  })
})
