import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { PgWriter } from '../adapters/pg-copy.ts'
import { PgInputStore } from '../adapters/pg-input-store.ts'
import { PgPositionStore } from '../adapters/pg-position-store.ts'
import { PgValuationStore } from '../adapters/pg-valuation-store.ts'
import { FxTable } from '../domain/market-data.ts'
import type { ValuationJob } from '../domain/records.ts'
import { settles, startPipeline } from '../testing/pipeline.ts'
import { persistStage } from './persist.ts'
import { positionsStage } from './positions.ts'
import { valueJobs, valueWork } from './valuation.ts'

/**
 * A back-dated correction revalues the positions it changed, not the portfolio: the positions
 * stage marks them pending with the rows they were valued with (sql/0021_valuation_pending.sql),
 * and the valuation adds their difference to the day sums. Here persist and positions run as
 * stages and the valuation is called by hand, so that what is pending between them can be seen.
 */
describe('revaluing only the positions a correction changed', () => {
  let pipeline: Awaited<ReturnType<typeof startPipeline>>
  let store: PgValuationStore
  const run = `rv${Date.now().toString(36)}`
  const Q = `Q-${run}`
  const [A, B, C, D] = ['A', 'B', 'C', 'D'].map((s) => `${s}-${run}`) as [string, string, string, string]

  beforeAll(async () => {
    pipeline = await startPipeline(
      'pg',
      ({ db, log, writer }) => [
        persistStage({ store: new PgInputStore(db.sql), log }),
        positionsStage({ store: new PgPositionStore(db.sql, writer()), log, deadLetters: new PgInputStore(db.sql) }),
      ],
      run,
    )
    store = new PgValuationStore(pipeline.db.sql, new PgWriter(pipeline.db.url, 'pas-test-valuation'))
  }, 120_000)
  afterAll(async () => {
    await store?.close()
    await pipeline?.stop()
  })

  const sql = () => pipeline.db.sql
  const pending = async () =>
    (
      await sql()`select position_id as p, from_date::text as d from valuation_pending
                  where portfolio_id = ${Q} order by position_id`
    ).map((r) => [r.p, r.d])
  const superseded = async () =>
    (
      await sql()`select position_id as p, date::text as d, quantity::text as q from superseded_history
                  where portfolio_id = ${Q} order by position_id, date, seq`
    ).map((r) => [r.p, r.d, r.q])
  const totals = async () =>
    (
      await sql()`select date::text as d, emv_base::text as e, positions, complete from portfolio_values
                  where portfolio_id = ${Q} order by date`
    ).map((r) => [r.d, r.e, r.positions, r.complete])
  /** A portfolio's day sums: date, value (a number) and positions. */
  const sumsOf = async (portfolioId: string) =>
    (
      await sql()`select date::text as d, emv_base::text as e, positions from portfolio_values
                  where portfolio_id = ${portfolioId} order by date`
    ).map((r) => [r.d, Number(r.e), r.positions])
  // A positions notice: revalue what it changed (valuation.ts marks positions notices so).
  const changed: ValuationJob = { portfolioId: Q, fromDate: '2025-01-06', revalue: [] }
  const value = (job: ValuationJob = changed) =>
    valueJobs(store, new PgInputStore(sql()), [job], { records: [], nextOffsets: [] }, async () => {})
  const buyA = (quantity: string) => ({
    transactionId: `BA-${run}`,
    portfolioId: Q,
    type: 'BUY',
    tradeDate: '2025-01-06',
    securityId: A,
    quantity,
    price: '10',
    currency: 'USD',
  })
  /** Days Mon 2025-01-06 to Tue 01-14; `early` on 01-06..08, `late` on 01-09..14; 5 positions, all valued. */
  const week = (early: string, late: string) =>
    ['06', '07', '08', '09', '10', '13', '14'].map((d) => [`2025-01-${d}`, d < '09' ? early : late, 5, true])
  /** week, with `last` on Mon 01-13 and Tue 01-14 (a later price). */
  const weekThen = (early: string, late: string, last: string) => [
    ...week(early, late).slice(0, 5),
    ['2025-01-13', last, 5, true],
    ['2025-01-14', last, 5, true],
  ]

  test('a new portfolio is revalued as a whole; its sums are what its positions are worth', async () => {
    await pipeline.send('portfolios', [{ portfolioId: Q, baseCurrency: 'USD', openDate: '2025-01-01' }])
    await pipeline.send(
      'instruments',
      [A, B, C, D].map((securityId) => ({ securityId, name: securityId, currency: 'USD' })),
    )
    await pipeline.send('prices', [
      ...[A, B, C, D].map((securityId) => ({ securityId, date: '2025-01-06', price: '10', currency: 'USD' })),
      { securityId: A, date: '2025-01-09', price: '12', currency: 'USD' },
    ])
    await pipeline.send('business-dates', [{ date: '2025-01-14' }])
    await pipeline.send('transactions', [
      buyA('10'),
      ...[B, C, D].map((securityId) => ({ ...buyA('10'), transactionId: `B${securityId}`, securityId })),
    ])
    // Every position is new: more than half changed, so the portfolio as a whole (from its first
    // trade, or from its open date when its own notice came after the trades).
    await settles(
      async () =>
        (
          await sql()`select count(distinct position_id)::int as n from position_history
        where portfolio_id = ${Q}`
        )[0]?.n,
      5,
    )
    expect((await pending()).map(([p]) => p)).toEqual(['*'])
    await value()
    // A 10 × 10 = 100, then 10 × 12 = 120 from Thu 01-09; B, C, D 100 each; cash −4 × 100 = −400.
    // 100 + 300 − 400 = 0; 120 + 300 − 400 = 20.
    expect(await totals()).toEqual(week('0', '20'))
    expect(await pending()).toEqual([])
  }, 60_000)

  test('a corrected quantity rewrites the rows of its security and its cash only, and marks them pending with the rows they were valued with', async () => {
    const history = async () =>
      (
        await sql()`select position_id as p, quantity::text as q, xmin::text as x from position_history
                    where portfolio_id = ${Q} order by date, position_id collate "C", seq`
      ).map((r) => [r.p, r.q, r.x])
    const before = await history()
    await pipeline.send('transactions', [buyA('15')])
    await settles(pending, [
      [A, '2025-01-06'],
      ['CASH:USD', '2025-01-06'],
    ])
    // A's row and the four cash rows after it (each purchase's cash, 50 more spent from the first on)
    // are new; B, C and D's rows are the ones stored before (same row version).
    const after = await history()
    expect(after.map(([p, q]) => [p, q])).toEqual([
      [A, '15'],
      [B, '10'],
      [C, '10'],
      ['CASH:USD', '-150'],
      ['CASH:USD', '-250'],
      ['CASH:USD', '-350'],
      ['CASH:USD', '-450'],
      [D, '10'],
    ])
    const kept = after.filter(([, , x], i) => x === before[i]?.[2]).map(([p]) => p)
    expect(kept).toEqual([B, C, D])
    expect(await superseded()).toEqual([
      [A, '2025-01-06', '10'],
      ['CASH:USD', '2025-01-06', '-100'],
      ['CASH:USD', '2025-01-06', '-200'],
      ['CASH:USD', '2025-01-06', '-300'],
      ['CASH:USD', '2025-01-06', '-400'],
    ])
    await value()
    // A 15 × 10 = 150, then 15 × 12 = 180; cash −450. 150 + 300 − 450 = 0; 180 + 300 − 450 = 30.
    expect(await totals()).toEqual(week('0', '30'))
    expect([await pending(), await superseded()]).toEqual([[], []])
  }, 60_000)

  test('valued again (a redelivered batch), nothing is added twice', async () => {
    await value()
    expect(await totals()).toEqual(week('0', '30'))
  }, 60_000)

  test('a valuation that read a position before it changed again leaves it pending, and the next one values it', async () => {
    await pipeline.send('transactions', [buyA('20')])
    await settles(async () => (await pending()).length, 2)
    const [stale] = await store.load([changed])
    if (!stale) throw new Error('no work loaded')
    await pipeline.send('transactions', [buyA('25')])
    await settles(
      async () =>
        (
          await sql()`select quantity::text as q from position_history
      where portfolio_id = ${Q} and position_id = ${A}`
        ).map((r) => r.q),
      ['25'],
    )
    await store.replace([valueWork(stale, FxTable.of(stale.fx))])
    // Changed since it was read: still pending, the sums as they were.
    expect((await pending()).length).toBe(2)
    expect(await totals()).toEqual(week('0', '30'))
    await value()
    // A 25 × 10 = 250, then 25 × 12 = 300; cash −400 − 150 = −550. 250 + 300 − 550 = 0; 300 + 300 − 550 = 50.
    expect(await totals()).toEqual(week('0', '50'))
    expect(await pending()).toEqual([])
  }, 60_000)

  test('a late price revalued as a whole while positions are pending keeps their valued rows until they are revalued', async () => {
    await pipeline.send('transactions', [buyA('30')])
    await settles(async () => (await pending()).length, 2)
    // A price of A on Mon 01-13 of 14, and A corrected to 30 (cash −600), valued at once: the span
    // as a whole with A's valued rows (25 × 14 + 300 − 550 = 100), then A's difference on every
    // day from 01-06: 30 × 10 + 300 − 600 = 0 before Thu 01-09, 30 × 12 + 300 − 600 = 60 until
    // the new price, 30 × 14 + 300 − 600 = 120 on 01-13 and 01-14.
    await pipeline.send('prices', [{ securityId: A, date: '2025-01-13', price: '14', currency: 'USD' }])
    await settles(async () => (await sql()`select count(*)::int as n from prices where security_id = ${A}`)[0]?.n, 3)
    await value({ portfolioId: Q, fromDate: '2025-01-13', revalue: [{ from: '2025-01-13' }] })
    expect(await totals()).toEqual(weekThen('0', '60', '120'))
    expect(await pending()).toEqual([])
  }, 60_000)

  test('a changed portfolio record (its base currency) is revalued as a whole: no quantity changed, every value did', async () => {
    await pipeline.send('fx-rates', [{ from: 'USD', to: 'EUR', date: '2025-01-02', rate: '0.9' }])
    await pipeline.send('portfolios', [{ portfolioId: Q, baseCurrency: 'EUR', openDate: '2025-01-01' }])
    // The positions stage refolds in EUR (A's cost 30 × 10 × 0.9 = 270); no quantity changed, so it
    // marks nothing itself: the portfolio's own mark, from its open date, is what revalues it.
    await settles(
      async () =>
        (
          await sql()`select cost_base::text as c from position_history where portfolio_id = ${Q} and position_id = ${A}`
        ).map((r) => Number(r.c)),
      [270],
    )
    expect(await pending()).toEqual([['*', '2025-01-01']])
    await value()
    // Every value × 0.9: A 270, 324, 378; B, C, D 90 each; cash −600 × 0.9 = −540.
    // 270 + 270 − 540 = 0; 324 + 270 − 540 = 54; 378 + 270 − 540 = 108.
    expect(await totals()).toEqual(weekThen('0', '54', '108'))
    expect(await pending()).toEqual([])
  }, 60_000)

  test('a late price bounded by the next one, valued while a position is pending, revalues that position up to the business date', async () => {
    // S holds E alone; E's price 10 from Mon 01-06, 12 from Thu 01-09, 14 from Mon 01-13.
    const S = `S-${run}`
    const E = `E-${run}`
    const buyE = (quantity: string) => ({
      ...buyA(quantity),
      portfolioId: S,
      transactionId: `BE-${run}`,
      securityId: E,
    })
    const ofS = async () =>
      (
        await sql()`select date::text as d, emv_base::text as e from portfolio_values
                    where portfolio_id = ${S} order by date`
      ).map((r) => [r.d, Number(r.e)])
    const days = ['06', '07', '08', '09', '10', '13', '14'].map((d) => `2025-01-${d}`)
    await pipeline.send('portfolios', [{ portfolioId: S, baseCurrency: 'USD', openDate: '2025-01-01' }])
    await pipeline.send('instruments', [{ securityId: E, name: E, currency: 'USD' }])
    await pipeline.send(
      'prices',
      [
        ['2025-01-06', '10'],
        ['2025-01-09', '12'],
        ['2025-01-13', '14'],
      ].map(([date, price]) => ({ securityId: E, date, price, currency: 'USD' })),
    )
    await pipeline.send('transactions', [buyE('10')])
    await settles(
      async () => (await sql()`select count(*)::int as n from position_history where portfolio_id = ${S}`)[0]?.n,
      2,
    )
    await value({ portfolioId: S, fromDate: '2025-01-06', revalue: [] })
    // E 10 × 10, 12, 14 less the 100 paid: 0 until Wed 01-08, 20 on 01-09 and 01-10, 40 from 01-13.
    expect(await ofS()).toEqual(days.map((d, i) => [d, i < 3 ? 0 : i < 5 ? 20 : 40]))
    // E corrected to 20 (pending from 01-06, not valued yet), then E's 01-09 price to 13: the
    // fan-out's job revalues the days that price is in force, 01-09 and 01-10 (the span ends at the
    // next price), and what is pending from 01-06 to the business date, 01-14.
    await pipeline.send('transactions', [buyE('20')])
    // Both of its positions changed: more than half, so the portfolio is marked as a whole.
    await settles(
      async () =>
        (await sql()`select position_id as p from valuation_pending where portfolio_id = ${S}`).map((r) => r.p),
      ['*'],
    )
    await pipeline.send('prices', [{ securityId: E, date: '2025-01-09', price: '13', currency: 'USD' }])
    await settles(
      async () =>
        (await sql()`select price::text as p from prices where security_id = ${E} and date = '2025-01-09'`)[0]?.p,
      '13',
    )
    await value({ portfolioId: S, fromDate: '2025-01-09', spans: [{ from: '2025-01-09', until: '2025-01-13' }] })
    // E 20 × 10, 13, 14 less the 200 paid: 0, then 60 on 01-09 and 01-10, then 80 on 01-13 and 01-14.
    expect(await ofS()).toEqual(days.map((d, i) => [d, i < 3 ? 0 : i < 5 ? 60 : 80]))
    expect(await sql()`select 1 from valuation_pending where portfolio_id = ${S}`).toHaveLength(0)
  }, 60_000)

  test('a day no position is left on after a correction leaves the sums', async () => {
    // R: 1,000 USD deposited on Mon 01-06, B, C and D bought on Wed 01-08 (10 at 10 each).
    const R = `R-${run}`
    const deposit = (tradeDate: string) => ({
      transactionId: `DR-${run}`,
      portfolioId: R,
      type: 'DEPOSIT',
      tradeDate,
      grossAmount: '1000',
      currency: 'USD',
    })
    const ofR = () => sumsOf(R)
    await pipeline.send('portfolios', [{ portfolioId: R, baseCurrency: 'USD', openDate: '2025-01-01' }])
    await pipeline.send('transactions', [
      deposit('2025-01-06'),
      ...[B, C, D].map((securityId) => ({
        ...buyA('10'),
        portfolioId: R,
        transactionId: `R${securityId}`,
        securityId,
        tradeDate: '2025-01-08',
      })),
    ])
    await settles(
      async () => (await sql()`select count(*)::int as n from position_history where portfolio_id = ${R}`)[0]?.n,
      7,
    )
    const job: ValuationJob = { portfolioId: R, fromDate: '2025-01-06', revalue: [] }
    await value(job)
    // Mon 01-06 and Tue 01-07: the cash alone, 1,000. From Wed 01-08: cash 1,000 − 300 = 700, and
    // B, C and D worth 100 each: 1,000 on four positions.
    const later = ['08', '09', '10', '13', '14'].map((d) => [`2025-01-${d}`, 1000, 4])
    expect(await ofR()).toEqual([['2025-01-06', 1000, 1], ['2025-01-07', 1000, 1], ...later])
    // The deposit moved to Wed 01-08: only the cash changed (one position of four, so it alone is
    // revalued), and on 01-06 and 01-07 nothing is held any more: those two days go.
    await pipeline.send('transactions', [deposit('2025-01-08')])
    await settles(
      async () =>
        (await sql()`select position_id as p from valuation_pending where portfolio_id = ${R}`).map((r) => r.p),
      ['CASH:USD'],
    )
    await value(job)
    expect(await ofR()).toEqual(later)
  }, 60_000)

  test('a position pending from a later date, corrected earlier, keeps the rows it was valued with from both', async () => {
    // T: 2,000 USD deposited on Mon 01-06; B, C and D bought then (10 at 10 each); A bought 10 at
    // 10 on 01-06 (SA1) and 5 more on Thu 01-09 (SA2). A is priced 10, 12 from 01-09 and 14 from
    // Mon 01-13 (the tests above).
    const T = `T-${run}`
    const jobT: ValuationJob = { portfolioId: T, fromDate: '2025-01-06', revalue: [] }
    const buy = (transactionId: string, securityId: string, quantity: string, tradeDate = '2025-01-06') => ({
      ...buyA(quantity),
      portfolioId: T,
      transactionId: `${transactionId}-${run}`,
      securityId,
      tradeDate,
    })
    const pendingT = async () =>
      (
        await sql()`select position_id as p, from_date::text as d from valuation_pending
                    where portfolio_id = ${T} order by position_id`
      ).map((r) => [r.p, r.d])
    const supersededA = async () =>
      (
        await sql()`select date::text as d, quantity::text as q from superseded_history
                    where portfolio_id = ${T} and position_id = ${A} order by date, seq`
      ).map((r) => [r.d, r.q])
    await pipeline.send('portfolios', [{ portfolioId: T, baseCurrency: 'USD', openDate: '2025-01-01' }])
    await pipeline.send('transactions', [
      {
        transactionId: `SDEP-${run}`,
        portfolioId: T,
        type: 'DEPOSIT',
        tradeDate: '2025-01-06',
        grossAmount: '2000',
        currency: 'USD',
      },
      buy('SB', B, '10'),
      buy('SC', C, '10'),
      buy('SD', D, '10'),
      buy('SA1', A, '10'),
      buy('SA2', A, '5', '2025-01-09'),
    ])
    // All of it folded (A two rows, B, C and D one each, the cash six) before it is valued: a batch
    // may hold only some of the six, and a valuation between them would leave the rest pending.
    await settles(
      async () => (await sql()`select count(*)::int as n from position_history where portfolio_id = ${T}`)[0]?.n,
      11,
    )
    await settles(async () => (await pendingT()).map(([p]) => p), ['*'])
    await value(jobT)
    expect(await pendingT()).toEqual([])
    // SA2 corrected to 6: A and the cash pending from 01-09, A's row of 01-09 (15) kept.
    await pipeline.send('transactions', [buy('SA2', A, '6', '2025-01-09')])
    await settles(pendingT, [
      [A, '2025-01-09'],
      ['CASH:USD', '2025-01-09'],
    ])
    expect(await supersededA()).toEqual([['2025-01-09', '15']])
    // Then SA1 corrected to 11, before any valuation: pending from 01-06. Kept: A's row of 01-06
    // as valued (10), and of 01-09 the row valued (15), not the one the first correction wrote (16).
    await pipeline.send('transactions', [buy('SA1', A, '11')])
    await settles(pendingT, [
      [A, '2025-01-06'],
      ['CASH:USD', '2025-01-06'],
    ])
    expect(await supersededA()).toEqual([
      ['2025-01-06', '10'],
      ['2025-01-09', '15'],
    ])
    await value(jobT)
    // A: 11 × 10 = 110 on 01-06..08, 17 × 12 = 204 on 01-09..10, 17 × 14 = 238 from 01-13. B, C,
    // D: 300. Cash: 2,000 − 110 − 300 = 1,590, then − 60 = 1,530. Sums: 110 + 300 + 1,590 = 2,000;
    // 204 + 300 + 1,530 = 2,034; 238 + 300 + 1,530 = 2,068. (As first valued: 2,000, then 15 × 12
    // + 300 + 1,550 = 2,030 and 15 × 14 + 300 + 1,550 = 2,060.) Five positions each day.
    const sum = (d: string) => (d < '09' ? 2000 : d < '13' ? 2034 : 2068)
    expect(await sumsOf(T)).toEqual(['06', '07', '08', '09', '10', '13', '14'].map((d) => [`2025-01-${d}`, sum(d), 5]))
    expect([await pendingT(), await supersededA()]).toEqual([[], []])
  }, 60_000)
})
