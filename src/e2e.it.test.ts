import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { KafkaLog } from './adapters/kafka-log.ts'
import { namespaced } from './adapters/namespaced-log.ts'
import { rdkafkaAvailable } from './adapters/rdkafka/ffi.ts'
import { scenario } from './e2e-scenario.ts'
import { positionValuations } from './query/position-days.ts'
import { freshDatabase, inCI, kafkaTestsEnabled, testKafkaBrokers } from './testing/infra.ts'
import { dropKafkaTopics, type ScratchDatabase } from './testing/local-infra.ts'
import { settles } from './testing/pipeline.ts'
import { type PasProcess, spawnPas, stageRecords, untilProcessed } from './testing/processes.ts'
import { topicSpecs } from './topology.ts'

/**
 * One end-to-end suite, two deployments:
 * - embedded: one `pas --role all` process on the Postgres-backed log;
 * - distributed: Kafka, one process per role, and two valuation processes sharing the work, on
 *   each Kafka client (@platformatic/kafka, and librdkafka through bun:ffi).
 * Everything goes in over HTTP; what is checked is read from the tables the pipeline fills.
 */
type Deployment = { ingestUrl: string; queryUrl: string; processes: PasProcess[]; cleanup?: () => Promise<void> }
const pas = (role: string, env: Record<string, string>) =>
  spawnPas(['bun', 'src/main.ts', '--role', role, '--port', '0', '--partitions', '4'], env)

/** Kafka, one process per role and two for valuation, on one of the two Kafka clients. */
function distributed(client: 'platformatic' | 'rdkafka', enabled: boolean) {
  return {
    name: `distributed (Kafka via ${client === 'rdkafka' ? 'librdkafka' : '@platformatic/kafka'}, a process per role, two for valuation)`,
    enabled,
    async start(db: ScratchDatabase): Promise<Deployment> {
      const brokers = await testKafkaBrokers()
      // Topics and groups of this run only, on a broker other runs may share.
      const prefix = `e2e-${client}-${Date.now().toString(36)}.`
      // Only --role all creates topics at start; here the operator's setup step does it.
      const admin = namespaced(new KafkaLog({ brokers, clientId: 'e2e-setup' }), prefix)
      await admin.ensureTopics(topicSpecs(4))
      await admin.close()
      const env = (role: string) => ({
        DATABASE_URL: db.url,
        KAFKA_BROKERS: brokers.join(','),
        PAS_KAFKA_PREFIX: prefix,
        PAS_KAFKA_CLIENT: client,
        PAS_KAFKA_CLIENT_ID: `e2e-${role}`,
      })
      const roles = ['ingest', 'persist', 'positions', 'valuation', 'valuation', 'timeseries', 'api']
      const processes = await Promise.all(roles.map((role, i) => pas(role, env(`${role}${i}`))))
      return {
        ingestUrl: (processes[0] as PasProcess).url,
        queryUrl: (processes[6] as PasProcess).url,
        processes,
        cleanup: () => dropKafkaTopics(brokers, prefix),
      }
    },
  }
}

const modes = [
  {
    name: 'embedded (--role all, pg log)',
    enabled: true,
    async start(db: ScratchDatabase): Promise<Deployment> {
      const all = await pas('all', { DATABASE_URL: db.url })
      return { ingestUrl: all.url, queryUrl: all.url, processes: [all] }
    },
  },
  distributed('platformatic', kafkaTestsEnabled),
  distributed('rdkafka', kafkaTestsEnabled && (inCI || rdkafkaAvailable())),
]

for (const mode of modes) {
  describe.if(mode.enabled)(`end to end: ${mode.name}`, () => {
    let db: ScratchDatabase
    let deployment: Deployment
    // Ids carry the run, to tell its records from others' in a shared broker's logs.
    const run = Date.now().toString(36)
    const P = `P-e2e-${run}`
    const S = `S-e2e-${run}`

    beforeAll(async () => {
      db = await freshDatabase('e2e')
      deployment = await mode.start(db)
    }, 120_000)

    afterAll(async () => {
      for (const p of deployment?.processes ?? []) p.proc.kill('SIGTERM')
      const codes = await Promise.all((deployment?.processes ?? []).map((p) => p.proc.exited))
      await db?.drop()
      await deployment?.cleanup?.()
      // Every process drained and exited cleanly; one that did not shows its last log lines.
      const unclean = (deployment?.processes ?? []).flatMap((p, i) =>
        codes[i] === 0 ? [] : [`exit ${codes[i]}:\n${p.logs().trim().split('\n').slice(-15).join('\n')}`],
      )
      expect(unclean).toEqual([])
    }, 60_000)

    const send = async (path: string, records: unknown[]) => {
      const res = await fetch(`${deployment.ingestUrl}/v1/ingest/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(records),
      })
      expect(res.status).toBe(202)
    }
    const t = (id: string, fields: Record<string, string>) => ({
      transactionId: `${id}-${run}`,
      portfolioId: P,
      currency: 'USD',
      ...fields,
    })
    const trades = [
      t('D1', { type: 'DEPOSIT', tradeDate: '2025-01-06', grossAmount: '10000' }),
      t('B1', { type: 'BUY', tradeDate: '2025-01-06', securityId: S, quantity: '100', price: '10', fee: '5' }),
      t('W1', { type: 'WITHDRAWAL', tradeDate: '2025-01-07', grossAmount: '500' }),
      t('F1', { type: 'FEE', tradeDate: '2025-01-07', grossAmount: '20' }),
    ]
    const series = async () =>
      (
        await db.sql`select date::text as d, bmv_base::text as b, emv_base::text as e, sod_flow_base::text as s,
                     eod_flow_base::text as f, fees_base::text as fee from portfolio_series where portfolio_id = ${P} order by date`
      ).map((r) => [r.d, r.b, r.e, r.s, r.f, r.fee])
    const position = async () =>
      (
        await db.sql`select quantity::text as q, cost_local::text as c from position_history
                     where portfolio_id = ${P} and position_id = ${S} order by date desc, seq desc limit 1`
      ).map((r) => [r.q, r.c])

    test('ingested data becomes positions, valuations and the daily series', async () => {
      await send('portfolios', [{ portfolioId: P, baseCurrency: 'USD', openDate: '2025-01-01' }])
      await send('instruments', [{ securityId: S, name: 'Stock', currency: 'USD' }])
      await send('prices', [
        { securityId: S, date: '2025-01-06', price: '10', currency: 'USD' },
        { securityId: S, date: '2025-01-07', price: '11', currency: 'USD' },
      ])
      await send('business-dates', [{ date: '2025-01-08' }])
      await send('transactions', trades)
      // Mon: cash 10,000 − 1,005 + stock 1,000 = 9,995. Tue: cash 8,995 − 500 − 20 + stock 1,100 = 9,575.
      await settles(series, [
        ['2025-01-06', '0', '9995', '10000', '0', '5'],
        ['2025-01-07', '9995', '9575', '0', '-500', '20'],
        ['2025-01-08', '9575', '9575', '0', '0', '0'],
      ])
      expect(await position()).toEqual([['100', '1005']])

      // Lineage: each stage reflects every transaction of the portfolio (current, not pending),
      // valuation and series through the business date, positions through the last trade.
      const lineage = async () =>
        (
          await db.sql`select l.stage, l.through_date::text as through,
                         l.inputs_as_of >= (select max(updated_at) from transactions where portfolio_id = ${P}) as current
                       from lineage l where l.portfolio_id = ${P} and l.position_id = '' order by l.stage`
        ).map((r) => [r.stage, r.through, r.current])
      await settles(lineage, [
        ['positions', '2025-01-07', true],
        ['timeseries', '2025-01-08', true],
        ['valuation', '2025-01-08', true],
      ])
      // Per position: the positions stage's own row; valuation and series record the portfolio's run.
      const perPosition =
        await db.sql`select stage from lineage where portfolio_id = ${P} and position_id = ${S} order by stage`
      expect(perPosition.map((r) => r.stage)).toEqual(['positions'])

      // The query API of the deployment answers from what the pipeline stored, over HTTP.
      // Mon: (9,995 − 0 − 10,000) / 10,000 = −0.05 %; Tue: (9,575 − 9,995 + 500) / 9,995 (the
      // withdrawal at the end of the day); Wed: 0.
      const res = await fetch(`${deployment.queryUrl}/v1/portfolios/${P}/performance?period=SI&frequency=daily`)
      expect(res.status).toBe(200)
      const perf = (await res.json()) as { twr: { cumulative: number }; series: { r: number }[] }
      expect(perf.series.map((d) => d.r)).toEqual([-0.0005, 80 / 9995, 0].map((r) => expect.closeTo(r, 12)))
      expect(perf.twr.cumulative).toBeCloseTo((1 - 0.0005) * (1 + 80 / 9995) - 1, 12)
    }, 120_000)

    test('a back-dated deposit and a price correction recompute what they touch; a redelivery changes nothing', async () => {
      await send('transactions', [t('D2', { type: 'DEPOSIT', tradeDate: '2025-01-07', grossAmount: '1000' })])
      await send('prices', [{ securityId: S, date: '2025-01-07', price: '12', currency: 'USD' }])
      // Tue: cash 9,475 + stock 100 × 12 = 10,675, with a 1,000 start-of-day flow; Wed carries Tuesday's price.
      const expected = [
        ['2025-01-06', '0', '9995', '10000', '0', '5'],
        ['2025-01-07', '9995', '10675', '1000', '-500', '20'],
        ['2025-01-08', '10675', '10675', '0', '0', '0'],
      ]
      await settles(series, expected)
      const rows = async () =>
        (await db.sql`select count(*)::int as n from position_history where portfolio_id = ${P}`)[0]?.n
      const before = await rows()
      const counts = await stageRecords(deployment.processes)
      await send('transactions', trades)
      // The redelivered trades went through persist, and their recompute all the way to the series.
      await untilProcessed(deployment.processes, counts, { persist: trades.length, timeseries: 1 })
      expect(await series()).toEqual(expected)
      expect(await rows()).toBe(before)
    }, 120_000)

    describe('two portfolios, FIFO and AVCO, in two currencies over five weeks', () => {
      const base = 'CHF'
      const sc = scenario(`e2e${run}`, base)
      const stored = async (portfolioId: string) => ({
        // A position's rows of a day in seq order; positions of a day by id (seq orders each position's own).
        positions: (
          await db.sql`select position_id, date::text as d, quantity::text as q, cost_local::text as cl, cost_base::text as cb,
                         realized_local::text as rl, realized_base::text as rb
                       from position_history where portfolio_id = ${portfolioId} order by date, position_id collate "C", seq`
        ).map((r) => [r.position_id, r.d, r.q, r.cl, r.cb, r.rl, r.rb]),
        // Valued on read from the stored inputs (src/query/position-days.ts), to the business date.
        valuations: (await positionValuations(db.sql, portfolioId, '2025-01-01', sc.businessDate)).map((v) => [
          v.positionId,
          v.date,
          v.status,
          v.marketValueBase ?? null,
        ]),
        series: (
          await db.sql`select date::text as d, bmv_base::text as b, emv_base::text as e, sod_flow_base::text as s,
                         eod_flow_base::text as f, fees_base::text as fee, income_base::text as i
                       from portfolio_series where portfolio_id = ${portfolioId} order by date`
        ).map((r) => [r.d, r.b, r.e, r.s, r.f, r.fee, r.i]),
      })
      /** Realized P&L in USD on the US stock, as stored now. */
      const realizedUs = async (portfolioId: string) =>
        (
          await db.sql`select realized_local::text as r from position_history
                       where portfolio_id = ${portfolioId} and position_id = ${sc.US} order by date desc, seq desc limit 1`
        )[0]?.r
      const allMatch = async (txns: (p: string) => ReturnType<typeof sc.trades>, prices: typeof sc.prices) => {
        for (const portfolio of sc.portfolios) {
          const want = sc.expected(portfolio, txns(portfolio.portfolioId), prices)
          await settles(() => stored(portfolio.portfolioId), want, 60_000)
        }
      }

      test('everything stored equals the engine on the same inputs; FIFO and AVCO realize what the arithmetic says', async () => {
        await send('portfolios', sc.portfolios)
        await send('instruments', sc.instruments)
        await send('fx-rates', sc.fx)
        await send('prices', sc.prices)
        await send('business-dates', [{ date: sc.businessDate }])
        for (const p of sc.portfolios) await send('transactions', sc.trades(p.portfolioId))
        await allMatch(sc.trades, sc.prices)
        // Sale of 150 at 60 less 6 = 8,994. FIFO: 5,005 + 5,505 × 50/100 = 7,757.50 → 1,236.50.
        // AVCO: (5,005 + 5,505) × 150/200 = 7,882.50 → 1,111.50.
        expect(await realizedUs(`FIFO-e2e${run}`)).toBe('1236.5')
        expect(await realizedUs(`AVCO-e2e${run}`)).toBe('1111.5')
        // In CHF: USD → CHF is 1 / 1.10 = 0.9090909091 to Jan 12, 1 / 1.05 = 0.9523809524 from Jan 13 and
        // 1 / 1.08 = 0.9259259259 from Jan 27 (10 places). FIFO's US lots cost 5,005 × 0.9090909091 =
        // 4,550.0000000455 and 5,505 × 0.9523809524 = 5,242.857142962; the sale takes the first and half the
        // second (2,621.428571481), 7,171.4285715265 in all, for 8,994 × 0.9523809524 = 8,565.7142858856.
        const [fifo] = await db.sql`select realized_base::text as rb from position_history
          where portfolio_id = ${`FIFO-e2e${run}`} and position_id = ${sc.US} order by date desc, seq desc limit 1`
        expect(fifo?.rb).toBe('1394.2857143591')
        // Feb 7 (US 50.00, LOC 20.50): both hold 50 US, 150 LOC, USD 48,552 (50,000 − 5,005 − 5,505 + 68 + 8,994)
        // and CHF 92,072 (100,000 − 4,002 − 25 − 5,000 + 1,099). 50 × 50 × 0.9259259259 = 2,314.81481475;
        // 150 × 20.50 = 3,075; 48,552 × 0.9259259259 = 44,955.5555542968. Total 142,417.3703690468.
        const emv = await db.sql`select emv_base::text as e from portfolio_series
          where portfolio_id = any(${sc.portfolios.map((p) => p.portfolioId)}::text[]) and date = ${sc.businessDate}`
        expect(emv.map((r) => r.e)).toEqual(['142417.3703690468', '142417.3703690468'])
      }, 180_000)

      test('a back-dated buy before the sale, then a late price correction, then a redelivery', async () => {
        const withBackDated = (p: string) => [...sc.trades(p), sc.backDated(p)]
        for (const p of sc.portfolios) await send('transactions', [sc.backDated(p.portfolioId)])
        await allMatch(withBackDated, sc.prices)
        // FIFO sells the Jan 7 lot (5,005) and the back-dated one (2,250): 8,994 − 7,255 = 1,739.
        // AVCO: (5,005 + 2,250 + 5,505) × 150/250 = 7,656 → 1,338.
        expect(await realizedUs(`FIFO-e2e${run}`)).toBe('1739')
        expect(await realizedUs(`AVCO-e2e${run}`)).toBe('1338')

        const corrected = sc.prices.map((p) =>
          p.securityId === sc.US && p.date === sc.correction.date ? sc.correction : p,
        )
        await send('prices', [sc.correction])
        await allMatch(withBackDated, corrected)
        // Jan 15 at the corrected 70.00: 100 (Jan 7) + 50 (Jan 9) + 100 (Jan 14) = 250 US shares, USD 17,500
        // × 0.9523809524 = CHF 16,666.666667 in both portfolios.
        const jan15 = await Promise.all(
          sc.portfolios.map((p) => positionValuations(db.sql, p.portfolioId, '2025-01-15', '2025-01-15', [sc.US])),
        )
        expect(jan15.flat().map((v) => v.marketValueBase)).toEqual(['16666.666667', '16666.666667'])

        const counts = await stageRecords(deployment.processes)
        const again = sc.portfolios.flatMap((p) => sc.trades(p.portfolioId))
        for (const p of sc.portfolios) await send('transactions', sc.trades(p.portfolioId)) // again
        await untilProcessed(deployment.processes, counts, { persist: again.length, timeseries: 1 })
        await allMatch(withBackDated, corrected)
      }, 180_000)
    })
  })
}
