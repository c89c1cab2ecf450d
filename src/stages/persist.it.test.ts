import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { PgInputStore } from '../adapters/pg-input-store.ts'
import type { PricesChanged } from '../domain/records.ts'
import type { EventLog, LogConsumer, LogRecord } from '../ports/event-log.ts'
import type { Inputs } from '../ports/input-store.ts'
import { kafkaTestsEnabled } from '../testing/infra.ts'
import type { ScratchDatabase } from '../testing/local-infra.ts'
import { runId, settles, startPipeline, type Transport, until } from '../testing/pipeline.ts'
import { replayDeadLetters } from '../tools/ops.ts'
import { Topics } from '../topology.ts'
import { persistStage } from './persist.ts'

function persistSuite(transport: Transport, enabled: boolean) {
  describe.if(enabled)(`persist stage over ${transport}`, () => {
    let pipeline: Awaited<ReturnType<typeof startPipeline>>
    let db: ScratchDatabase
    let log: EventLog
    let notices: LogConsumer
    const seen: LogRecord[] = []
    // Ids carry the run, to tell this run's records from others' in a shared broker's logs.
    const run = runId(transport)
    const P = `P-${run}`
    const S = `S-${run}`
    const T = (n: number) => `T${n}-${run}`
    const startedAt = Date.now()

    beforeAll(async () => {
      pipeline = await startPipeline(
        transport,
        (parts) => [persistStage({ store: new PgInputStore(parts.db.sql), log: parts.log })],
        run,
      )
      ;({ db, log } = pipeline)
      notices = log.consumer({
        group: `notices-${run}`,
        topics: [Topics.transactionsChanged, Topics.pricesChanged, Topics.fxChanged],
        maxRecords: 500,
        maxWaitMs: 100,
      })
    }, 120_000)

    afterAll(async () => {
      await notices?.close()
      await pipeline?.stop()
    })

    const send = (path: string, records: unknown[]) => pipeline.send(path, records)
    /**
     * Notices received so far whose value matches; polls the notice topics meanwhile. Every notice
     * carries `since`, the append time of the oldest raw record of its batch, which is never after
     * the notice's own; it is checked here and left out of what the tests compare.
     */
    const noticeFor = (match: (n: Record<string, string>) => boolean) =>
      until(async () => {
        const batch = await notices.poll()
        seen.push(...batch.records)
        if (batch.records.length > 0) await notices.commit(batch.nextOffsets)
        return seen
          .map((r) => {
            const { since, ...notice } = JSON.parse(r.value) as Record<string, string> & { since?: number }
            if (typeof since !== 'number' || since > r.timestampMs || since < startedAt)
              throw new Error(`notice without a plausible since: ${r.value}`)
            return notice as Record<string, string>
          })
          .find(match)
      }, 'a notice')
    const txn = (id: string, tradeDate: string, quantity = '10') => ({
      transactionId: id,
      portfolioId: P,
      type: 'BUY',
      tradeDate,
      securityId: S,
      quantity,
      price: '100',
      currency: 'USD',
    })

    test('inputs land in their tables, merged on natural keys, and change notices follow', async () => {
      await send('portfolios', [{ portfolioId: P, baseCurrency: 'EUR', openDate: '2025-01-01', costMethod: 'AVCO' }])
      await send('instruments', [{ securityId: S, name: 'Apple', currency: 'USD' }])
      await send('transactions', [txn(T(1), '2025-01-06'), txn(T(2), '2025-01-03')])
      await send('prices', [
        { securityId: S, date: '2025-01-03', price: '100', currency: 'USD' },
        { securityId: S, date: '2025-01-06', price: '101', currency: 'USD' },
      ])
      await send('fx-rates', [{ from: 'EUR', to: 'USD', date: '2025-01-02', rate: '1.04' }])

      const rows = await until(async () => {
        const r =
          await db.sql`select transaction_id, trade_date::text as d from transactions where portfolio_id = ${P} order by 1`
        return r.length === 2 ? r : undefined
      }, 'transactions')
      expect(rows.map((r) => [r.transaction_id, r.d])).toEqual([
        [T(1), '2025-01-06'],
        [T(2), '2025-01-03'],
      ])
      const fx = await until(async () => {
        const r =
          await db.sql`select rate::text as rate from fx_rates where from_currency = 'EUR' and date = '2025-01-02'`
        return r.length === 1 ? r : undefined
      }, 'fx')
      expect(fx[0]?.rate).toBe('1.04')
      expect((await db.sql`select cost_method from portfolios where portfolio_id = ${P}`)[0]?.cost_method).toBe('AVCO')
      const prices = await until(async () => {
        const r = await db.sql`select price::text as p from prices where security_id = ${S} order by date`
        return r.length === 2 ? r : undefined
      }, 'prices')
      expect(prices.map((r) => r.p)).toEqual(['100', '101'])

      // The portfolio's record asks for a recompute from its open date, its trades from their
      // earliest date, the FX rate (if merged after the trades) from its own; how they coalesce
      // depends on how the topics were batched, but the open date is always asked for.
      await noticeFor((n) => n.portfolioId === P && n.fromDate === '2025-01-01')
      const forP = seen.map((r) => JSON.parse(r.value)).filter((n) => n.portfolioId === P)
      expect(forP.every((n) => ['2025-01-01', '2025-01-02', '2025-01-03'].includes(n.fromDate))).toBe(true)
      // A price notice names the days written (the fan-out bounds each by the next price).
      const forS = (await noticeFor((n) => n.securityId === S)) as unknown as PricesChanged
      expect([forS.fromDate, forS.dates?.[0]]).toEqual(['2025-01-03', '2025-01-03'])
      expect(forS.dates?.every((d) => ['2025-01-03', '2025-01-06'].includes(d))).toBe(true)
      expect(await noticeFor((n) => n.from === 'EUR')).toMatchObject({ from: 'EUR', to: 'USD' })
    }, 120_000)

    test('a new FX rate asks the portfolios trading that pair to recompute from its date', async () => {
      await until(
        async () =>
          (await db.sql`select 1 from transactions where portfolio_id = ${P}`).length === 2 ? true : undefined,
        'trades',
      )
      seen.length = 0
      // P has a EUR base and trades in USD from Jan 3: a EUR/USD rate for Jan 5 changes their base values.
      await send('fx-rates', [{ from: 'EUR', to: 'USD', date: '2025-01-05', rate: '1.05' }])
      // Every position: a rate changes the base values of all of them (no positions named).
      expect(await noticeFor((n) => n.portfolioId === P && n.fromDate === '2025-01-05')).toEqual({
        portfolioId: P,
        fromDate: '2025-01-05',
      })
    }, 120_000)

    test('a correction moved later recomputes from the date it replaces; a redelivery changes nothing', async () => {
      seen.length = 0
      await send('transactions', [txn(T(2), '2025-01-09', '12')])
      await until(async () => {
        const [r] = await db.sql`select version, trade_date::text as d from transactions where transaction_id = ${T(2)}`
        return r?.version === 2 ? r : undefined
      }, 'the correction')
      // It names the positions the versions before and after are about: the security and its cash.
      const sorted = (n: Record<string, unknown> | undefined): Record<string, unknown> => ({
        ...n,
        positions: [...((n?.positions as string[] | undefined) ?? [])].sort(),
      })
      expect(sorted(await noticeFor((n) => n.portfolioId === P))).toEqual({
        portfolioId: P,
        fromDate: '2025-01-03',
        positions: ['CASH:USD', S].sort(),
      })

      seen.length = 0
      await send('transactions', [txn(T(2), '2025-01-09', '12')]) // the same content again
      expect(sorted(await noticeFor((n) => n.portfolioId === P))).toEqual({
        portfolioId: P,
        fromDate: '2025-01-09',
        positions: ['CASH:USD', S].sort(),
      })
      const [t2] = await db.sql`select version from transactions where transaction_id = ${T(2)}`
      expect(t2?.version).toBe(2)
    }, 120_000)

    test('a CANCEL names no positions: which transactions count changes, so every position is folded again', async () => {
      seen.length = 0
      const cancel = {
        transactionId: T(20),
        portfolioId: P,
        type: 'CANCEL',
        tradeDate: '2025-01-10',
        cancels: T(2),
        currency: 'USD',
      }
      await send('transactions', [cancel])
      expect(await noticeFor((n) => n.portfolioId === P)).toEqual({ portfolioId: P, fromDate: '2025-01-09' })
    }, 120_000)

    test('a record that fails validation goes to the dead letters with where it came from; the batch goes on', async () => {
      await log.append(Topics.rawTransactions, [
        {
          key: P,
          value: JSON.stringify({
            kind: 'transaction',
            ingestId: 'x',
            record: { ...txn(T(9), '2025-01-10'), quantity: 'ten' },
          }),
        },
        { key: P, value: `not json ${run}` },
        { key: P, value: JSON.stringify({ kind: 'transaction', ingestId: 'x', record: txn(T(10), '2025-01-10') }) },
      ])
      const letters = await until(async () => {
        const r = await db.sql`select topic, partition, "offset", code, reason, payload from dead_letters
          where payload like ${`%${run}%`} order by "offset"`
        return r.length === 2 ? r : undefined
      }, 'dead letters')
      expect(letters.map((l) => [l.topic, l.code])).toEqual([
        [Topics.rawTransactions, 'INVALID_RECORD'],
        [Topics.rawTransactions, 'INVALID_JSON'],
      ])
      expect(letters[0]?.reason).toContain('quantity')
      expect(letters[1]?.payload).toBe(`not json ${run}`)
      await until(
        async () =>
          (await db.sql`select 1 from transactions where transaction_id = ${T(10)}`).length ? true : undefined,
        'T10',
      )
    }, 120_000)

    test('version counts corrections whatever the batching, and a batch delivered again counts nothing twice', async () => {
      const raw = (record: unknown) => ({
        key: P,
        value: JSON.stringify({ kind: 'transaction', ingestId: run, record }),
      })
      // Original, a correction, and a correction back, in one append (one batch, most likely): version 3.
      await log.append(Topics.rawTransactions, [
        raw(txn(T(30), '2025-01-13', '10')),
        raw(txn(T(30), '2025-01-13', '11')),
        raw(txn(T(30), '2025-01-13', '10')),
      ])
      // The same record twice is one version; then a correction in a batch of its own: 2.
      await log.append(Topics.rawTransactions, [raw(txn(T(31), '2025-01-13')), raw(txn(T(31), '2025-01-13'))])
      await log.append(Topics.rawTransactions, [raw(txn(T(31), '2025-01-14'))])
      const versions = () =>
        db.sql`select transaction_id as id, version from transactions where transaction_id in (${T(30)}, ${T(31)}) order by 1`
      await settles(
        async () => (await versions()).map((r) => [r.id, r.version]),
        [
          [T(30), 3],
          [T(31), 2],
        ],
      )
      // The store given the first batch again, with its log positions (as after a crash before the
      // offsets were committed): the versions stay.
      const [stored] =
        await db.sql`select source_partition as p, source_offset as o from transactions where transaction_id = ${T(30)}`
      const again = [10, 11, 10].map((q, i) => ({
        ...txn(T(30), '2025-01-13', String(q)),
        sourcePartition: stored?.p as number,
        sourceOffset: String(BigInt(stored?.o as bigint) - 2n + BigInt(i)),
      }))
      const empty = {
        portfolios: [],
        instruments: [],
        prices: [],
        fx: [],
        businessDates: [],
        benchmarks: [],
        benchmarkSegments: [],
        holidays: [],
      }
      await new PgInputStore(db.sql).merge({ ...empty, transactions: again as Inputs['transactions'] })
      expect((await versions()).map((r) => r.version)).toEqual([3, 2])
    }, 120_000)

    test('poison records sent straight to the raw topics are parked; the stage goes on and the good ones land', async () => {
      const raw = (kind: string, record: unknown) => ({
        key: P,
        value: JSON.stringify({ kind, ingestId: run, record }),
      })
      const portfolio = { portfolioId: `PP-${run}`, baseCurrency: 'EUR', openDate: '2025-01-01' }
      // Each of these once stopped the persist stage for good (PostgreSQL refused the batch, the
      // process exited, and the redelivered batch stopped it again).
      const poison = [
        raw('businessDate', { date: '0000-01-01' }),
        raw('portfolio', { ...portfolio, openDate: '0000-01-01' }),
        raw('transaction', txn(T(20), '0000-01-01')),
        raw('price', { securityId: S, date: '0000-01-01', price: '1', currency: 'USD' }),
        raw('fx', { from: 'EUR', to: 'USD', date: '0000-01-01', rate: '1.1' }),
        raw('benchmark', { benchmarkId: `B-${run}`, date: '0000-01-01', level: '100' }),
        raw('portfolio', { ...portfolio, clientId: 'C\u0000' }),
        raw('instrument', { securityId: `S0-${run}`, name: 'N\u0000', currency: 'USD' }),
        raw('transaction', txn(`T\u0000-${run}`, '2025-01-10')),
        raw('portfolio', { ...portfolio, portfolioId: `P\ud800-${run}` }),
      ]
      // Valid by every rule pas knows, refused by the database: a constraint this test adds.
      await db.sql.unsafe(
        `alter table prices add constraint refused_in_test check (security_id not like 'REFUSED-%') not valid`,
      )
      const refused = { securityId: `REFUSED-${run}`, date: '2025-01-10', price: '5', currency: 'USD' }
      const good = { securityId: S, date: '2025-01-10', price: '102', currency: 'USD' }
      await log.append(Topics.rawTransactions, poison)
      await log.append(Topics.rawPrices, [
        { key: refused.securityId, value: JSON.stringify({ kind: 'price', ingestId: run, record: refused }) },
        { key: S, value: JSON.stringify({ kind: 'price', ingestId: run, record: good }) },
      ])

      const letters = await until(async () => {
        const r = await db.sql`select id, topic, code, reason from dead_letters
          where payload like ${`%"ingestId":"${run}"%`} order by id`
        return r.length === poison.length + 1 ? r : undefined
      }, 'every poison record parked')
      const byCode = Map.groupBy(letters, (l) => l.code as string)
      expect(byCode.get('INVALID_RECORD')?.length).toBe(poison.length)
      const [store] = byCode.get('REFUSED_BY_STORE') ?? []
      expect(store?.reason).toContain('refused_in_test')
      const prices = await until(async () => {
        const r = await db.sql`select price::text as p from prices where security_id = ${S} and date = '2025-01-10'`
        return r.length === 1 ? r : undefined
      }, 'the good price beside the refused one')
      expect(prices[0]?.p).toBe('102')

      // The stage is still running: a later record lands.
      await send('transactions', [txn(T(21), '2025-01-13')])
      await until(
        async () =>
          (await db.sql`select 1 from transactions where transaction_id = ${T(21)}`).length ? true : undefined,
        'a record after the poison',
      )
      // After the fix, the refused record is replayed from the dead letters and lands.
      await db.sql.unsafe('alter table prices drop constraint refused_in_test')
      const out: string[] = []
      expect(await replayDeadLetters(db.sql, log, { ids: [String(store?.id)] }, (l) => out.push(l))).toBe(0)
      await until(
        async () =>
          (await db.sql`select 1 from prices where security_id = ${refused.securityId}`).length ? true : undefined,
        'the replayed price',
      )
    }, 120_000)
  })
}

persistSuite('pg', true)
persistSuite('kafka', kafkaTestsEnabled)
