/**
 * The whole pipeline, as a process runs it: ingest over HTTP → persist → positions → valuation →
 * timeseries, on generated data, for each transport.
 *
 *   bun bench/pipeline.bench.ts [--portfolios 200] [--transactions 100] [--transports pg,kafka]
 *
 * One `pas --role all` process per transport on a fresh database (embedded PostgreSQL in
 * .pas/bench; Kafka from tools/kafka.sh on port 19094 with its own data). Each portfolio trades
 * 10 USD instruments over one quarter with daily prices; the business date closes the quarter.
 * Reports: events/s (transactions ingested ÷ time until every portfolio's series reaches the
 * business date), position-days valued/s, and the lag from a portfolio's transactions being
 * acknowledged to its series being complete (p50, p99; polled every 100 ms). It checks the result
 * first: position rows and series days must be what the data implies. JSON goes to bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { businessDays, fromEpochDay, toEpochDay } from '../src/domain/dates.ts'
import { localKafka, localPg, scratchDatabase } from '../src/testing/local-infra.ts'

const { values: args } = parseArgs({
  options: {
    portfolios: { type: 'string', default: '200' },
    transactions: { type: 'string', default: '100' },
    transports: { type: 'string', default: 'pg,kafka' },
  },
})
const PORTFOLIOS = Number(args.portfolios)
const TXNS = Number(args.transactions)
const repo = resolve(import.meta.dir, '..')
const BUSINESS_DATE = '2025-03-31'
const days = businessDays(toEpochDay('2025-01-01'), toEpochDay(BUSINESS_DATE)).map(fromEpochDay)
const progress = (m: string) => process.stderr.write(`${m}\n`)

const instruments = Array.from({ length: 10 }, (_, i) => ({ securityId: `S${i}`, name: `Stock ${i}`, currency: 'USD' }))
const prices = instruments.flatMap((inst, i) =>
  days.map((date, d) => ({
    securityId: inst.securityId,
    date,
    price: (50 + i + Math.sin(d / 5) * 5).toFixed(2),
    currency: 'USD',
  })),
)
const portfolios = Array.from({ length: PORTFOLIOS }, (_, i) => ({
  portfolioId: `P${i}`,
  baseCurrency: 'USD',
  openDate: '2025-01-01',
}))
const transactionsOf = (p: number) =>
  Array.from({ length: TXNS }, (_, i) => {
    const base = {
      transactionId: `P${p}-T${i}`,
      portfolioId: `P${p}`,
      tradeDate: days[Math.floor((i / TXNS) * days.length)],
      currency: 'USD',
    }
    if (i === 0) return { ...base, type: 'DEPOSIT', grossAmount: '1000000' }
    const qty = String(1 + ((p * 7 + i * 13) % 40))
    return {
      ...base,
      type: i % 4 === 3 ? 'SELL' : 'BUY',
      securityId: `S${(p + i) % 10}`,
      quantity: qty,
      price: '60.00',
      fee: '1.00',
    }
  })

const startPas = (env: Record<string, string>) =>
  Bun.spawn(['bun', 'src/main.ts', '--role', 'all', '--partitions', '4'], {
    cwd: repo,
    env: { PATH: process.env.PATH ?? '', PAS_LOG_LEVEL: 'warn', ...env },
    stdout: 'ignore',
    stderr: 'inherit',
  })

async function run(transport: string) {
  const server = await localPg('bench', 54_322)
  const db = await scratchDatabase(server.url, `pas_pipeline_${transport}_${Date.now()}`)
  const kafka = transport === 'kafka' ? await localKafka(19_094) : undefined
  const port = 18_000 + Math.floor(Math.random() * 1000)
  const env: Record<string, string> = { DATABASE_URL: db.url, PAS_HTTP_PORT: String(port) }
  if (kafka) env.KAFKA_BROKERS = kafka.brokers.join(',')
  const pas = startPas(env)
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    const ok = await fetch(`${url}/ready`)
      .then((r) => r.ok)
      .catch(() => false)
    if (ok) break
    if (i > 600) throw new Error('pas did not become ready')
    await Bun.sleep(100)
  }
  const post = async (path: string, records: unknown[]) => {
    for (let i = 0; i < records.length; i += 2000) {
      const res = await fetch(`${url}/v1/ingest/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(records.slice(i, i + 2000)),
      })
      if (res.status !== 202) throw new Error(`${path}: ${res.status} ${await res.text()}`)
    }
  }
  await post('instruments', instruments)
  await post('prices', prices)
  await post('portfolios', portfolios)
  await post('business-dates', [{ date: BUSINESS_DATE }])
  progress(`${transport}: reference data and ${prices.length} prices in; sending ${PORTFOLIOS * TXNS} transactions`)

  const t0 = performance.now()
  const ackedAt = new Map<string, number>()
  for (let p = 0; p < PORTFOLIOS; p += 20) {
    const chunk = Array.from({ length: Math.min(20, PORTFOLIOS - p) }, (_, k) => p + k)
    await post('transactions', chunk.flatMap(transactionsOf))
    for (const k of chunk) ackedAt.set(`P${k}`, performance.now())
  }
  const ingestS = (performance.now() - t0) / 1000

  // A portfolio is done when its series reaches the business date and holds every business day.
  const doneAt = new Map<string, number>()
  const deadline = performance.now() + 20 * 60_000
  while (doneAt.size < PORTFOLIOS && performance.now() < deadline) {
    const rows = await db.sql<{ portfolio_id: string }[]>`
      select portfolio_id from portfolio_series where date = ${BUSINESS_DATE}::date
      group by portfolio_id`
    const complete = await db.sql<{ portfolio_id: string; n: number }[]>`
      select portfolio_id, count(*)::int as n from portfolio_series
      where portfolio_id = any(${rows.map((r) => r.portfolio_id)}::text[]) group by portfolio_id`
    const now = performance.now()
    for (const c of complete) if (c.n === days.length && !doneAt.has(c.portfolio_id)) doneAt.set(c.portfolio_id, now)
    await Bun.sleep(100)
  }
  const endS = (performance.now() - t0) / 1000
  // How much work each stage did: batches and records consumed (from the process's own health report).
  type StageHealth = { name: string; detail: { batches: number; records: number } }
  const health = (await (await fetch(`${url}/health`)).json()) as { services: { detail: { stages: StageHealth[] } }[] }
  const stages = Object.fromEntries(
    health.services.flatMap((svc) => svc.detail.stages).map((st) => [st.name.replace('stage:', ''), st.detail]),
  )
  const [counts] = await db.sql`select (select count(*)::int from valuations) as valuations,
    (select count(*)::int from position_history) as rows, (select count(*)::int from transaction_rejections) as rejected`
  pas.kill('SIGTERM')
  await pas.exited
  await db.drop()
  await kafka?.stop()
  await server.server?.stop()

  if (doneAt.size < PORTFOLIOS)
    throw new Error(`${transport}: only ${doneAt.size} of ${PORTFOLIOS} portfolios completed`)
  // Each non-deposit transaction writes a security row and a cash row; the deposit one cash row.
  const expectedRows = PORTFOLIOS * (1 + (TXNS - 1) * 2) - 2 * (counts?.rejected as number)
  if (counts?.rows !== expectedRows)
    throw new Error(`${transport}: ${counts?.rows} position rows, expected ${expectedRows}`)
  const lags = [...doneAt].map(([p, t]) => (t - (ackedAt.get(p) as number)) / 1000).sort((a, b) => a - b)
  const pct = (q: number) => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] as number
  return {
    transport,
    transactions: PORTFOLIOS * TXNS,
    ingestS,
    endToEndS: endS,
    eventsPerS: (PORTFOLIOS * TXNS) / endS,
    valuations: counts?.valuations as number,
    positionDaysPerS: (counts?.valuations as number) / endS,
    lagP50S: pct(0.5),
    lagP99S: pct(0.99),
    stages,
  }
}

const results = []
for (const transport of String(args.transports).split(',')) {
  const r = await run(transport)
  progress(JSON.stringify(r))
  results.push(r)
}
console.log('\ntransport  transactions  end-to-end s  events/s  position-days/s  lag p50 s  lag p99 s')
for (const r of results) {
  console.log(
    `${r.transport.padEnd(9)} ${String(r.transactions).padStart(13)} ${r.endToEndS.toFixed(1).padStart(13)} ${r.eventsPerS.toFixed(0).padStart(9)} ${r.positionDaysPerS.toFixed(0).padStart(16)} ${r.lagP50S.toFixed(2).padStart(10)} ${r.lagP99S.toFixed(2).padStart(10)}`,
  )
}
mkdirSync(`${import.meta.dir}/results`, { recursive: true })
const at = new Date().toISOString()
const file = `${import.meta.dir}/results/pipeline-${at.replace(/[:.]/g, '-')}.json`
writeFileSync(
  file,
  JSON.stringify({ bench: 'pipeline', at, portfolios: PORTFOLIOS, transactionsPerPortfolio: TXNS, results }, null, 2),
)
console.log(`written ${file}`)
