import { describe, expect, test } from 'bun:test'
import { FxTable } from './market-data.ts'
import { type FoldContext, type FoldResult, recompute } from './positions.ts'
import type { Instrument, Portfolio, Transaction, TransactionType } from './records.ts'
import { applyCancels } from './transactions.ts'

const usd: Portfolio = { portfolioId: 'P1', baseCurrency: 'USD', openDate: '2024-12-01' }
const instruments = new Map<string, Instrument>([
  ['AAPL', { securityId: 'AAPL', name: 'Apple', currency: 'USD' }],
  ['SAP', { securityId: 'SAP', name: 'SAP', currency: 'EUR' }],
  ['BOND', { securityId: 'BOND', name: 'A 5 % bond', currency: 'USD', assetClass: 'FIXED_INCOME' }],
])
// EUR/USD 1.10 from Jan 1st, 1.20 from Mar 1st (a USD investor's EUR gains 9.09 % in between).
const fx = FxTable.of([
  { from: 'EUR', to: 'USD', date: '2025-01-01', rate: '1.10' },
  { from: 'EUR', to: 'USD', date: '2025-03-01', rate: '1.20' },
])

let seq = 0
const tx = (type: TransactionType, date: string, fields: Partial<Transaction> = {}): Transaction => ({
  transactionId: `T${String(++seq).padStart(3, '0')}`,
  portfolioId: 'P1',
  type,
  tradeDate: date,
  currency: 'USD',
  ...fields,
})
const buy = (date: string, qty: string, price: string, fields: Partial<Transaction> = {}) =>
  tx('BUY', date, { securityId: 'AAPL', quantity: qty, price, ...fields })
const sell = (date: string, qty: string, price: string, fields: Partial<Transaction> = {}) =>
  tx('SELL', date, { securityId: 'AAPL', quantity: qty, price, ...fields })

function fold(txns: Transaction[], portfolio: Partial<Portfolio> = {}): FoldResult {
  const ctx: FoldContext = { portfolio: { ...usd, ...portfolio }, instruments, fx }
  const { active, refused } = applyCancels(txns)
  const result = recompute([], active, ctx)
  return { ...result, rejections: [...result.rejections, ...refused.map((r) => r.rejection)] }
}
const last = (r: FoldResult, positionId: string) => r.rows.filter((row) => row.positionId === positionId).at(-1)
const pick = (r: FoldResult, positionId: string) => {
  const row = last(r, positionId)
  return (
    row && {
      quantity: row.quantity,
      costLocal: row.costLocal,
      costBase: row.costBase,
      realizedLocal: row.realizedLocal,
      realizedBase: row.realizedBase,
    }
  )
}

describe('BUY and SELL', () => {
  test('a buy adds quantity and cost (gross + fee) and pays cash at the start of the day', () => {
    // 100 × 10.00 = 1,000.00 gross; + 5.00 fee = 1,005.00 cost and cash out.
    const r = fold([buy('2025-01-02', '100', '10', { fee: '5' })])
    expect(pick(r, 'AAPL')).toEqual({
      quantity: '100',
      costLocal: '1005',
      costBase: '1005',
      realizedLocal: '0',
      realizedBase: '0',
    })
    expect(last(r, 'CASH:USD')?.quantity).toBe('-1005')
    expect(r.cashflows).toMatchObject([{ class: 'INVESTMENT', timing: 'SOD', amountLocal: '-1005', feeLocal: '5' }])
  })

  test('FIFO: a partial sale across two lots takes the oldest lot first', () => {
    // Lots: 100 @ 10 (1,000) then 100 @ 12 (1,200). Sell 150 @ 15, fee 7.50:
    // cost removed = 1,000 + 1,200 × 50/100 = 1,600; proceeds = 2,250 − 7.50 = 2,242.50;
    // realized = 2,242.50 − 1,600 = 642.50; left 50 shares of the second lot at 600.
    const r = fold([
      buy('2025-01-02', '100', '10'),
      buy('2025-01-03', '100', '12'),
      sell('2025-01-10', '150', '15', { fee: '7.5' }),
    ])
    expect(pick(r, 'AAPL')).toEqual({
      quantity: '50',
      costLocal: '600',
      costBase: '600',
      realizedLocal: '642.5',
      realizedBase: '642.5',
    })
    expect(last(r, 'AAPL')?.lots).toEqual([
      { openDate: '2025-01-03', quantity: '50', costLocal: '600', costBase: '600' },
    ])
    // Cash: −1,000 − 1,200 + 2,242.50 = 42.50
    expect(last(r, 'CASH:USD')?.quantity).toBe('42.5')
  })

  test('AVCO: the same sale takes the average cost', () => {
    // Pool 200 shares at 2,200 (average 11). Cost removed = 2,200 × 150/200 = 1,650;
    // realized = 2,242.50 − 1,650 = 592.50; left 50 shares at 550.
    const r = fold(
      [buy('2025-01-02', '100', '10'), buy('2025-01-03', '100', '12'), sell('2025-01-10', '150', '15', { fee: '7.5' })],
      {
        costMethod: 'AVCO',
      },
    )
    expect(pick(r, 'AAPL')).toEqual({
      quantity: '50',
      costLocal: '550',
      costBase: '550',
      realizedLocal: '592.5',
      realizedBase: '592.5',
    })
  })

  test('a foreign buy and sell split realized P&L in base into a price and an FX effect', () => {
    // Buy 10 SAP @ EUR 100 on Jan 2 (EUR/USD 1.10): cost EUR 1,000 = USD 1,100.
    // Sell 10 @ EUR 120 on Mar 3 (1.20): proceeds EUR 1,200 = USD 1,440.
    // Realized: EUR 200; USD 1,440 − 1,100 = 340 = price 200 × 1.20 = 240 + FX 1,000 × (1.20 − 1.10) = 100.
    const r = fold([
      tx('BUY', '2025-01-02', { securityId: 'SAP', quantity: '10', price: '100', currency: 'EUR' }),
      tx('SELL', '2025-03-03', { securityId: 'SAP', quantity: '10', price: '120', currency: 'EUR' }),
    ])
    expect(last(r, 'SAP')).toMatchObject({
      quantity: '0',
      costLocal: '0',
      realizedLocal: '200',
      realizedBase: '340',
      realizedPriceBase: '240',
      realizedFxBase: '100',
    })
    // EUR cash: −1,000 + 1,200 = 200; its base cost −1,100 + 1,440 = 340.
    expect(last(r, 'CASH:EUR')).toMatchObject({ quantity: '200', costBase: '340' })
    expect(r.cashflows.map((c) => [c.amountLocal, c.amountBase])).toEqual([
      ['-1000', '-1100'],
      ['1200', '1440'],
    ])
  })

  test('with short selling allowed, a sale opens a short that a later buy closes at a profit', () => {
    // Sell 10 @ 50: short, cost −500 (money received). Buy 10 @ 40: closes it; realized = 500 − 400 = 100.
    const r = fold([sell('2025-01-02', '10', '50'), buy('2025-01-03', '10', '40')], { allowShort: true })
    expect(r.rows[0]).toMatchObject({ positionId: 'AAPL', quantity: '-10', costLocal: '-500' })
    expect(pick(r, 'AAPL')).toMatchObject({ quantity: '0', costLocal: '0', realizedLocal: '100' })
  })

  test('a sale larger than the holding closes the long and opens a short, the fee split by quantity', () => {
    // Long 10 @ 50 = 500. Sell 25 @ 60, fee 15: 1,500 − 15 = 1,485 received, 10/25 of it (594, i.e.
    // 600 less 6 of the fee) closes the long: realized 594 − 500 = 94. The other 15/25 (891 = 900 − 9)
    // opens a short of 15 with cost −891. Buy 15 @ 40 = 600 closes it: realized 891 − 600 = 291.
    const r = fold([buy('2025-01-02', '10', '50'), sell('2025-01-03', '25', '60', { fee: '15' })], {
      allowShort: true,
    })
    expect(pick(r, 'AAPL')).toEqual({
      quantity: '-15',
      costLocal: '-891',
      costBase: '-891',
      realizedLocal: '94',
      realizedBase: '94',
    })
    expect(last(r, 'AAPL')?.lots).toEqual([
      { openDate: '2025-01-03', quantity: '-15', costLocal: '-891', costBase: '-891' },
    ])
    const closed = fold(
      [buy('2025-01-02', '10', '50'), sell('2025-01-03', '25', '60', { fee: '15' }), buy('2025-01-06', '15', '40')],
      { allowShort: true },
    )
    // 94 + 291 = 385, which is also the cash left: −500 + 1,485 − 600.
    expect(pick(closed, 'AAPL')).toMatchObject({ quantity: '0', costLocal: '0', realizedLocal: '385' })
    expect(last(closed, 'CASH:USD')?.quantity).toBe('385')
  })

  test('AVCO shorts pool at the average price received; a partial cover realizes against it', () => {
    // Sell 10 @ 50 and 10 @ 40: short 20, cost −900 (average 45 received). Buy 5 @ 30 = 150:
    // cost removed −900 × 5/20 = −225, realized −150 − (−225) = 75. Left −15 at −675.
    const r = fold([sell('2025-01-02', '10', '50'), sell('2025-01-03', '10', '40'), buy('2025-01-06', '5', '30')], {
      allowShort: true,
      costMethod: 'AVCO',
    })
    expect(pick(r, 'AAPL')).toEqual({
      quantity: '-15',
      costLocal: '-675',
      costBase: '-675',
      realizedLocal: '75',
      realizedBase: '75',
    })
    expect(last(r, 'AAPL')?.lots).toHaveLength(1)
  })

  test('accrued interest moves cash on both legs but stays out of cost and realized P&L', () => {
    // Buy 10 bonds @ 985 = 9,850 + fee 10 = cost 9,860; cash pays 9,860 + 123.45 accrued = 9,983.45.
    // Sell 10 @ 990 = 9,900 with 200 accrued: realized 9,900 − 9,860 = 40; cash receives 10,100.
    // Cash left: −9,983.45 + 10,100 = 116.55 = realized 40 + net accrued 76.55 (200 − 123.45).
    const bond = (type: TransactionType, date: string, price: string, fields: Partial<Transaction>) =>
      tx(type, date, { securityId: 'BOND', quantity: '10', price, ...fields })
    const r = fold([
      bond('BUY', '2025-01-02', '985', { fee: '10', accruedInterest: '123.45' }),
      bond('SELL', '2025-02-03', '990', { accruedInterest: '200' }),
    ])
    expect(r.rows.find((row) => row.positionId === 'BOND')).toMatchObject({ quantity: '10', costLocal: '9860' })
    expect(pick(r, 'BOND')).toMatchObject({ quantity: '0', costLocal: '0', realizedLocal: '40' })
    expect(last(r, 'CASH:USD')?.quantity).toBe('116.55')
    expect(r.cashflows.map((c) => [c.class, c.amountLocal, c.feeLocal])).toEqual([
      ['INVESTMENT', '-9983.45', '10'],
      ['INVESTMENT', '10100', '0'],
    ])
  })
})

describe('SPLIT', () => {
  test('a 2-for-1 split doubles the quantity and keeps the cost', () => {
    // 100 @ 10 = 1,000 → 200 shares at 1,000. Sell 50 @ 6: cost 1,000 × 50/200 = 250; realized 300 − 250 = 50.
    const r = fold([
      buy('2025-01-02', '100', '10'),
      tx('SPLIT', '2025-01-05', { securityId: 'AAPL', ratio: '2' }),
      sell('2025-01-06', '50', '6'),
    ])
    expect(r.rows.filter((row) => row.positionId === 'AAPL').map((row) => row.quantity)).toEqual(['100', '200', '150'])
    expect(pick(r, 'AAPL')).toMatchObject({ costLocal: '750', realizedLocal: '50' })
  })

  test('a 1-for-4 reverse split divides every lot, fractions kept, costs unchanged', () => {
    // Lots 100 @ 10 (1,000) and 30 @ 12 (360) → 25 (1,000) and 7.5 (360).
    // Sell 30 @ 50 = 1,500: the first lot whole (1,000) and 5 of 7.5 of the second (360 × 5/7.5 = 240);
    // realized 1,500 − 1,240 = 260. Left 2.5 shares at 120.
    const r = fold([
      buy('2025-01-02', '100', '10'),
      buy('2025-01-03', '30', '12'),
      tx('SPLIT', '2025-01-05', { securityId: 'AAPL', ratio: '0.25' }),
      sell('2025-01-06', '30', '50'),
    ])
    const split = r.rows.filter((row) => row.positionId === 'AAPL')[2]
    expect(split?.lots.map((l) => [l.quantity, l.costLocal])).toEqual([
      ['25', '1000'],
      ['7.5', '360'],
    ])
    expect(pick(r, 'AAPL')).toMatchObject({ quantity: '2.5', costLocal: '120', realizedLocal: '260' })
  })

  test('under AVCO a 3-for-1 split divides the average cost by three', () => {
    // Pool 200 shares at 2,200 (average 11) → 600 at 2,200 (average 3.666…). Sell 150 @ 5 = 750:
    // cost removed 2,200 × 150/600 = 550; realized 200. Left 450 at 1,650.
    const r = fold(
      [
        buy('2025-01-02', '100', '10'),
        buy('2025-01-03', '100', '12'),
        tx('SPLIT', '2025-01-05', { securityId: 'AAPL', ratio: '3' }),
        sell('2025-01-06', '150', '5'),
      ],
      { costMethod: 'AVCO' },
    )
    expect(pick(r, 'AAPL')).toMatchObject({ quantity: '450', costLocal: '1650', realizedLocal: '200' })
  })
})

describe('settlement in another currency', () => {
  test('a EUR share bought and sold with USD cash: cost in EUR at the trade date’s FX, the cash leg converted', () => {
    // Buy 10 SAP @ 100 EUR + fee 2 on Jan 15 (EUR/USD 1.10): cost 1,002 EUR = 1,102.20 USD; the
    // USD cash pays 1,002 × 1.10 = 1,102.20. Sell 4 @ 120, fee 1 on Mar 3 (1.20): proceeds
    // 479 EUR × 1.20 = 574.80 USD into USD cash; realized 479 − 400.80 = 78.20 EUR, base
    // 574.80 − 440.88 = 133.92 USD. No EUR cash moves.
    const r = fold([
      tx('BUY', '2025-01-15', {
        securityId: 'SAP',
        quantity: '10',
        price: '100',
        fee: '2',
        currency: 'EUR',
        settlementCurrency: 'USD',
      }),
      tx('SELL', '2025-03-03', {
        securityId: 'SAP',
        quantity: '4',
        price: '120',
        fee: '1',
        currency: 'EUR',
        settlementCurrency: 'USD',
      }),
      tx('DIVIDEND', '2025-03-04', { securityId: 'SAP', grossAmount: '5', currency: 'EUR', settlementCurrency: 'USD' }),
    ])
    expect(last(r, 'SAP')).toMatchObject({
      quantity: '6',
      costLocal: '601.2',
      realizedLocal: '78.2',
      realizedBase: '133.92',
    })
    expect(last(r, 'CASH:USD')).toMatchObject({ quantity: '-527.4', costBase: '-527.4' })
    expect(last(r, 'CASH:EUR')).toBeUndefined()
    expect(r.cashflows.map((c) => [c.currency, c.amountLocal, c.amountBase, c.feeLocal, c.fxRate])).toEqual([
      ['USD', '-1102.2', '-1102.2', '2.2', '1'],
      ['USD', '574.8', '574.8', '1.2', '1'],
    ])
    expect(r.rejections).toEqual([expect.objectContaining({ code: 'CURRENCY_MISMATCH' })])
  })
})

describe('income, expenses and external flows', () => {
  test('OTHER moves cash only, either way, at end of day: no cost, income, fee or external flow', () => {
    // A rebate of EUR 12.50 (× 1.10 = USD 13.75), then a USD 4 charge; a zero amount is refused.
    const r = fold([
      tx('OTHER', '2025-01-15', { grossAmount: '12.5', currency: 'EUR' }),
      tx('OTHER', '2025-01-16', { grossAmount: '-4' }),
      tx('OTHER', '2025-01-17', { grossAmount: '0' }),
      tx('OTHER', '2025-01-17', {}),
    ])
    expect(r.cashflows).toEqual([
      expect.objectContaining({ positionId: 'CASH:EUR', class: 'OTHER', timing: 'EOD', amountBase: '13.75' }),
      expect.objectContaining({
        positionId: 'CASH:USD',
        class: 'OTHER',
        timing: 'EOD',
        amountLocal: '-4',
        feeBase: '0',
      }),
    ])
    expect(last(r, 'CASH:EUR')).toMatchObject({ quantity: '12.5', costBase: '13.75', incomeBase: '0' })
    expect(last(r, 'CASH:USD')).toMatchObject({ quantity: '-4', realizedBase: '0' })
    expect(r.rejections.map((x) => x.code)).toEqual(['NEGATIVE_QUANTITY', 'MISSING_FIELD'])
  })

  test('a foreign dividend is income at end of day, net of withholding, in local and base currency', () => {
    // EUR 50 gross − EUR 7.50 withheld = EUR 42.50 into EUR cash; × 1.10 = USD 46.75; fee USD 8.25.
    const r = fold([
      tx('DIVIDEND', '2025-01-15', { securityId: 'SAP', grossAmount: '50', fee: '7.5', currency: 'EUR' }),
    ])
    expect(r.cashflows).toEqual([
      expect.objectContaining({
        positionId: 'SAP',
        class: 'INCOME',
        timing: 'EOD',
        currency: 'EUR',
        amountLocal: '42.5',
        amountBase: '46.75',
        feeLocal: '7.5',
        feeBase: '8.25',
      }),
    ])
    expect(last(r, 'CASH:EUR')?.quantity).toBe('42.5')
    expect(last(r, 'SAP')).toMatchObject({ quantity: '0', incomeBase: '46.75' })
  })

  test("a dividend per share is quantity × rate, net of withholding, and counts as the holding's income", () => {
    // 100 shares × 0.24 = 24.00 gross; 15 % withheld = 3.60; 20.40 into cash and AAPL's income.
    const r = fold([
      buy('2025-01-02', '100', '10'),
      tx('DIVIDEND', '2025-01-15', { securityId: 'AAPL', quantity: '100', price: '0.24', fee: '3.60' }),
    ])
    expect(last(r, 'AAPL')).toMatchObject({ quantity: '100', costLocal: '1000', incomeBase: '20.4' })
    expect(last(r, 'CASH:USD')?.quantity).toBe('-979.6')
    expect(r.cashflows.at(-1)).toMatchObject({ class: 'INCOME', amountLocal: '20.4', feeLocal: '3.6' })
  })

  test("cash transfers move foreign cash in and out at the day's rate, without P&L", () => {
    // In: EUR 1,000 on Jan 2 at 1.10 = USD 1,100. Out: EUR 400 on Mar 3 at 1.20 = USD 480.
    // EUR cash 600 with base cost 1,100 − 480 = 620.
    const r = fold([
      tx('TRANSFER_IN', '2025-01-02', { grossAmount: '1000', currency: 'EUR' }),
      tx('TRANSFER_OUT', '2025-03-03', { grossAmount: '400', currency: 'EUR' }),
    ])
    expect(pick(r, 'CASH:EUR')).toEqual({
      quantity: '600',
      costLocal: '600',
      costBase: '620',
      realizedLocal: '0',
      realizedBase: '0',
    })
    expect(r.cashflows.map((c) => [c.positionId, c.class, c.timing, c.amountLocal, c.amountBase])).toEqual([
      ['CASH:EUR', 'TRANSFER', 'SOD', '1000', '1100'],
      ['CASH:EUR', 'TRANSFER', 'EOD', '-400', '-480'],
    ])
  })

  test('deposits come in at start of day, withdrawals and fees leave at end of day', () => {
    // Cash: +10,000 − 2,500 − 25 − 12.30 tax + 3.21 interest = 7,465.91
    const r = fold([
      tx('DEPOSIT', '2025-01-02', { grossAmount: '10000' }),
      tx('WITHDRAWAL', '2025-01-03', { grossAmount: '2500' }),
      tx('FEE', '2025-01-04', { grossAmount: '25' }),
      tx('TAX', '2025-01-04', { grossAmount: '12.30' }),
      tx('INTEREST', '2025-01-05', { grossAmount: '3.21' }),
    ])
    expect(last(r, 'CASH:USD')?.quantity).toBe('7465.91')
    expect(r.cashflows.map((c) => [c.type, c.class, c.timing, c.scope, c.amountLocal])).toEqual([
      ['DEPOSIT', 'EXTERNAL', 'SOD', 'portfolio', '10000'],
      ['WITHDRAWAL', 'EXTERNAL', 'EOD', 'portfolio', '-2500'],
      ['FEE', 'EXPENSE', 'EOD', 'portfolio', '-25'],
      ['TAX', 'EXPENSE', 'EOD', 'portfolio', '-12.3'],
      ['INTEREST', 'INCOME', 'EOD', 'position', '3.21'],
    ])
  })

  test('transfers move securities without cash and without P&L; the flow is the value at transfer', () => {
    // In: 100 shares at a given cost of 1,500. Out: 40 shares @ 20 → flow −800, cost removed 1,500 × 40/100 = 600.
    const r = fold([
      tx('TRANSFER_IN', '2025-01-02', { securityId: 'AAPL', quantity: '100', grossAmount: '1500' }),
      tx('TRANSFER_OUT', '2025-01-09', { securityId: 'AAPL', quantity: '40', price: '20' }),
    ])
    expect(pick(r, 'AAPL')).toEqual({
      quantity: '60',
      costLocal: '900',
      costBase: '900',
      realizedLocal: '0',
      realizedBase: '0',
    })
    expect(last(r, 'CASH:USD')).toBeUndefined()
    expect(r.cashflows.map((c) => [c.class, c.timing, c.amountLocal])).toEqual([
      ['TRANSFER', 'SOD', '1500'],
      ['TRANSFER', 'EOD', '-800'],
    ])
  })
})

describe('order within a day', () => {
  test('trade times order same-day trades; without them a buy comes before a sale', () => {
    // 5 held from Jan 2. On Jan 3, a sale of 10 at 09:30 and a purchase of 10 at 14:00.
    const held = buy('2025-01-02', '5', '10')
    const timed = fold([
      held,
      sell('2025-01-03', '10', '11', { tradeTime: '09:30' }),
      buy('2025-01-03', '10', '12', { tradeTime: '14:00:00' }),
    ])
    // In time order the sale comes first, of 10 from 5 held: refused; then 5 + 10 = 15.
    expect(timed.rejections.map((r) => r.code)).toEqual(['INSUFFICIENT_QUANTITY'])
    expect(last(timed, 'AAPL')?.quantity).toBe('15')
    // Without times the rank applies: the purchase first (5 + 10 = 15), then the sale of 10: 5 left.
    const untimed = fold([held, sell('2025-01-03', '10', '11'), buy('2025-01-03', '10', '12')])
    expect(untimed.rejections).toEqual([])
    expect(last(untimed, 'AAPL')?.quantity).toBe('5')
  })
})

describe('rejections', () => {
  test.each([
    ['a buy of a negative quantity', [buy('2025-01-02', '-5', '10')], 'NEGATIVE_QUANTITY'],
    ['a sale of a security never held', [sell('2025-01-02', '5', '10')], 'INSUFFICIENT_QUANTITY'],
    [
      'a foreign trade with no FX rate yet',
      [tx('BUY', '2024-12-31', { securityId: 'SAP', quantity: '1', price: '10', currency: 'EUR' })],
      'MISSING_FX',
    ],
    [
      'a trade in an unknown instrument',
      [tx('BUY', '2025-01-02', { securityId: 'NOPE', quantity: '1', price: '1' })],
      'UNKNOWN_INSTRUMENT',
    ],
    [
      'a trade in another currency than the instrument',
      [tx('BUY', '2025-01-02', { securityId: 'AAPL', quantity: '1', price: '1', currency: 'EUR' })],
      'CURRENCY_MISMATCH',
    ],
    [
      'a buy with neither price nor gross amount',
      [tx('BUY', '2025-01-02', { securityId: 'AAPL', quantity: '1' })],
      'MISSING_FIELD',
    ],
    ['a deposit without an amount', [tx('DEPOSIT', '2025-01-02')], 'MISSING_FIELD'],
    [
      'a deposit dated before the portfolio opened (2024-12-01)',
      [tx('DEPOSIT', '2024-11-29', { grossAmount: '100' })],
      'BEFORE_OPEN_DATE',
    ],
  ])('%s is rejected with its reason and changes nothing', (_, txns, code) => {
    const r = fold(txns as Transaction[])
    expect(r.rejections).toEqual([expect.objectContaining({ code })])
    expect(r.rejections[0]?.reason.length).toBeGreaterThan(10)
    expect(r.rows).toEqual([])
    expect(r.cashflows).toEqual([])
  })
})

describe('reprocessing', () => {
  test('a back-dated buy before an existing sale changes the sale: first rejected, then realized', () => {
    const first = buy('2025-01-02', '100', '10')
    const sale = sell('2025-01-10', '150', '15')
    expect(fold([first, sale]).rejections.map((x) => x.transactionId)).toEqual([sale.transactionId])
    // Back-dated 100 @ 12 on Jan 5: cost removed 1,000 + 600 = 1,600, proceeds 2,250, realized 650.
    const r = fold([first, sale, buy('2025-01-05', '100', '12')])
    expect(r.rejections).toEqual([])
    expect(pick(r, 'AAPL')).toMatchObject({ quantity: '50', costLocal: '600', realizedLocal: '650' })
  })

  test('a back-dated buy changes an existing sale; recomputing from its date on the stored rows gives the same', () => {
    // AVCO. Buy 100 @ 10 (Jan 2), sell 50 @ 15 (Jan 10): average 10, realized 750 − 500 = 250.
    const first = buy('2025-01-02', '100', '10')
    const sale = sell('2025-01-10', '50', '15')
    const avco = { portfolio: { ...usd, costMethod: 'AVCO' as const }, instruments, fx }
    const stored = recompute([], [first, sale], avco)
    expect(pick(stored, 'AAPL')).toMatchObject({ quantity: '50', realizedLocal: '250' })

    // A buy of 100 @ 13 dated Jan 6 arrives late: average (1,000 + 1,300) / 200 = 11.50;
    // the sale now realizes 750 − 50 × 11.50 = 175 and leaves 150 shares at 1,725.
    const late = buy('2025-01-06', '100', '13')
    const before = ['AAPL', 'CASH:USD'].flatMap((id) =>
      stored.rows.filter((r) => r.positionId === id && r.date < late.tradeDate).slice(-1),
    )
    const tail = recompute(before, [late, sale], avco)
    expect(pick(tail, 'AAPL')).toMatchObject({ quantity: '150', costLocal: '1725', realizedLocal: '175' })
    const full = recompute([], [first, sale, late], avco)
    expect(tail.rows).toEqual(full.rows.filter((r) => r.date >= late.tradeDate))
    expect(tail.cashflows).toEqual(full.cashflows.filter((c) => c.date >= late.tradeDate))
  })

  test('a cancelled transaction leaves no trace; a cancel of an unknown id is rejected', () => {
    const keep = buy('2025-01-02', '100', '10')
    const dropped = buy('2025-01-03', '50', '11')
    const cancel = tx('CANCEL', '2025-01-04', { cancels: dropped.transactionId })
    const orphan = tx('CANCEL', '2025-01-04', { cancels: 'T-never' })
    const r = fold([keep, dropped, cancel, orphan])
    const withoutCancelled = fold([keep])
    expect(r.rows).toEqual(withoutCancelled.rows)
    expect(r.cashflows).toEqual(withoutCancelled.cashflows)
    expect(r.rejections).toEqual([
      expect.objectContaining({ transactionId: orphan.transactionId, code: 'UNKNOWN_CANCEL_TARGET' }),
    ])
  })

  test('a CANCEL may be dated before its target; a CANCEL of a CANCEL is refused and the first still holds', () => {
    const target = buy('2025-01-10', '50', '11')
    const early = tx('CANCEL', '2025-01-05', { cancels: target.transactionId })
    const undo = tx('CANCEL', '2025-01-12', { cancels: early.transactionId })
    const keep = buy('2025-01-02', '100', '10')
    const r = fold([keep, target, early, undo])
    expect(r.rows).toEqual(fold([keep]).rows)
    expect(r.rejections).toEqual([
      expect.objectContaining({ transactionId: undo.transactionId, code: 'CANCEL_OF_CANCEL' }),
    ])
  })

  test('arrival order does not matter', () => {
    const txns = [
      tx('DEPOSIT', '2025-01-02', { grossAmount: '5000' }),
      buy('2025-01-02', '100', '10'),
      buy('2025-01-02', '10', '11'),
      sell('2025-01-03', '60', '12'),
      tx('DIVIDEND', '2025-01-03', { securityId: 'AAPL', grossAmount: '12' }),
    ]
    const inOrder = fold(txns)
    expect(fold([...txns].reverse())).toEqual(inOrder)
    expect(fold([txns[3], txns[0], txns[4], txns[2], txns[1]] as Transaction[])).toEqual(inOrder)
  })
})
