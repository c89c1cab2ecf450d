/**
 * Latency of the query API on a large portfolio: 10 years of business days × 50 securities and a
 * cash position, as the stages would have stored them.
 *
 *   bun bench/query.bench.ts [--requests 300] [--concurrency 4] [--only NAME]   (NAME: an endpoint's name, e.g. contribution)
 *
 * The rows are generated inside PostgreSQL (embedded, .pas/bench) with generate_series, in the
 * tables' own shapes: ~2,600 portfolio-series days, a close per security per business day (~130k
 * prices: position-days and position series are valued from them on read), 2,000 transactions with
 * their history rows and cashflows. The API runs in this
 * process on Bun.serve; each endpoint is called `requests` times one at a time (after a warm-up),
 * then with `concurrency` clients. Reports p50, p99 and requests/s per endpoint; JSON goes to
 * bench/results/. It checks first that the review answers 200 with 51 holdings.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { Elysia } from 'elysia'
import { queryRoutes } from '../src/http/query.ts'
import { localPg, scratchDatabase } from '../src/testing/local-infra.ts'

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '4' },
    only: { type: 'string' },
  },
})
const REQUESTS = Number(args.requests)
const CONCURRENCY = Number(args.concurrency)
const SECURITIES = 50
const progress = (m: string) => process.stderr.write(`${m}\n`)

const server = await localPg('bench')
const db = await scratchDatabase(server.url, `query_bench_${Date.now().toString(36)}`)
const { sql } = db
try {
  progress('generating 10 years × 50 positions in PostgreSQL…')
  const t0 = performance.now()
  await sql.begin(async (tx) => {
    await tx`insert into business_date (date) values ('2024-12-31')`
    await tx`insert into portfolios (portfolio_id, base_currency, open_date, cost_method, record)
      values ('R', 'EUR', '2015-01-01', 'FIFO', ${JSON.stringify({ portfolioId: 'R', baseCurrency: 'EUR', openDate: '2015-01-01', riskProfile: 'GROWTH' })}::text::jsonb)`
    await tx`insert into instruments (security_id, currency, record)
      select 'S' || i, 'EUR', jsonb_build_object('securityId', 'S' || i, 'name', 'Security ' || i, 'currency', 'EUR',
        'assetClass', (array['Equity', 'Bond', 'Fund'])[1 + i % 3], 'sector', (array['Tech', 'Health', 'Energy', 'Financials'])[1 + i % 4],
        'countryOfRisk', (array['DE', 'FR', 'US', 'CH', 'GB'])[1 + i % 5], 'issuerId', 'ISS' || (i % 20), 'ultimateParentIssuerId', 'GRP' || (i % 12))
      from generate_series(0, ${SECURITIES - 1}) i`
    await tx`create temp table days on commit drop as
      select d::date as date, row_number() over (order by d) as n
      from generate_series('2015-01-01'::date, '2024-12-31'::date, '1 day') d where extract(isodow from d) < 6`
    // 40 trades per security, one a quarter; the history rows and cashflows that go with them.
    await tx`insert into transactions (transaction_id, portfolio_id, security_id, type, trade_date, record)
      select 'T' || i || '-' || q, 'R', 'S' || i, 'BUY', '2015-01-05'::date + q * 91,
        jsonb_build_object('transactionId', 'T' || i || '-' || q, 'portfolioId', 'R', 'type', 'BUY',
          'tradeDate', ('2015-01-05'::date + q * 91)::text, 'securityId', 'S' || i, 'quantity', '10', 'price', '100', 'currency', 'EUR')
      from generate_series(0, ${SECURITIES - 1}) i, generate_series(0, 39) q`
    await tx`insert into position_history (portfolio_id, position_id, date, seq, transaction_id, currency, quantity,
        cost_local, cost_base, realized_local, realized_base, realized_price_base, realized_fx_base, income_base, lots)
      select 'R', 'S' || i, '2015-01-05'::date + q * 91, i, 'T' || i || '-' || q, 'EUR', 10 * (q + 1), 1000 * (q + 1),
        1000 * (q + 1), 0, 0, 0, 0, 0, '[]'::jsonb
      from generate_series(0, ${SECURITIES - 1}) i, generate_series(0, 39) q`
    await tx`insert into position_history (portfolio_id, position_id, date, seq, transaction_id, currency, quantity,
        cost_local, cost_base, realized_local, realized_base, realized_price_base, realized_fx_base, income_base, lots)
      values ('R', 'CASH:EUR', '2015-01-05', 1000, 'DEP', 'EUR', 100000, 100000, 100000, 0, 0, 0, 0, 0, '[]'::jsonb)`
    await tx`insert into cashflows (portfolio_id, transaction_id, position_id, date, type, class, timing, scope, currency,
        amount_local, amount_base, fee_local, fee_base)
      select portfolio_id, transaction_id, security_id, trade_date, 'BUY', 'INVESTMENT', 'EOD', 'position', 'EUR', -1000, -1000, 0, 0
      from transactions`
    // A close per security per business day, to the cent (as ingest would store it: a numeric
    // computed by division has 20 places): the position-days are valued from these on read.
    await tx`insert into prices (security_id, date, price, currency)
      select 'S' || i, d.date, round(100 + d.n / 100.0 + i, 2), 'EUR'
      from days d, generate_series(0, ${SECURITIES - 1}) i`
    // The day sums and the series' flows, a month a row each (sql/0024_day_months.sql, sql/0026):
    // the series reads its emv and bmv from the sums.
    await tx`insert into portfolio_value_months (portfolio_id, month, dates, emv_base, positions, complete)
      select 'R', date_trunc('month', d.date)::date, array_agg(d.date order by d.date),
        array_agg(((10000 + d.n + 50 * sin(d.n)) * 51)::numeric order by d.date),
        array_agg(${SECURITIES + 1}::int order by d.date), array_agg(true order by d.date)
      from days d group by date_trunc('month', d.date)`
    await tx`insert into portfolio_series_months (portfolio_id, month, dates, sod_flow_base, eod_flow_base,
        fees_base, income_base)
      select 'R', date_trunc('month', d.date)::date, array_agg(d.date order by d.date),
        array_agg(case when d.n % 21 = 0 then 5000 else 0 end order by d.date), array_agg(0 order by d.date),
        array_agg(case when d.n % 63 = 0 then 25 else 0 end order by d.date), array_agg(0 order by d.date)
      from days d group by date_trunc('month', d.date)`
  })
  await sql`analyze`
  const [counts] = await sql<{ days: number; prices: number }[]>`
    select (select count(*)::int from portfolio_series) as days, (select count(*)::int from prices) as prices`
  progress(
    `  ${counts?.days} series days, ${counts?.prices} prices in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  )

  const app = new Elysia().use(queryRoutes(sql)).listen({ hostname: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${app.server?.port}/v1/portfolios/R`
  const review = await fetch(`${base}/review`)
  const body = (await review.json()) as { holdings?: { positions: unknown[] }[] }
  const holdings = body.holdings?.reduce((n, h) => n + h.positions.length, 0)
  if (review.status !== 200 || holdings !== SECURITIES + 1) {
    throw new Error(`review answered ${review.status} with ${holdings} holdings, expected 200 with ${SECURITIES + 1}`)
  }

  const endpoints = {
    review: '/review',
    'performance SI daily': '/performance?period=SI&frequency=daily',
    'risk 3Y': '/risk?period=3Y',
    'contribution 1Y': '/contribution?period=1Y',
    concentration: '/concentration',
  }
  const quantile = (sorted: number[], q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0
  const timeOne = async (url: string) => {
    const start = performance.now()
    const res = await fetch(url)
    await res.arrayBuffer()
    if (res.status !== 200) throw new Error(`${url}: ${res.status}`)
    return performance.now() - start
  }
  type Result = {
    endpoint: string
    p50Ms: number
    p99Ms: number
    concurrentP50Ms: number
    concurrentP99Ms: number
    concurrentRps: number
  }
  const results: Result[] = []
  for (const [name, path] of Object.entries(endpoints)) {
    if (args.only && !name.startsWith(args.only)) continue
    const url = base + path
    for (let i = 0; i < 10; i++) await timeOne(url)
    const serial: number[] = []
    for (let i = 0; i < REQUESTS; i++) serial.push(await timeOne(url))
    serial.sort((a, b) => a - b)
    const concurrent: number[] = []
    const started = performance.now()
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = 0; i < REQUESTS / CONCURRENCY; i++) concurrent.push(await timeOne(url))
      }),
    )
    const elapsed = (performance.now() - started) / 1000
    concurrent.sort((a, b) => a - b)
    const r: Result = {
      endpoint: name,
      p50Ms: quantile(serial, 0.5),
      p99Ms: quantile(serial, 0.99),
      concurrentP50Ms: quantile(concurrent, 0.5),
      concurrentP99Ms: quantile(concurrent, 0.99),
      concurrentRps: concurrent.length / elapsed,
    }
    results.push(r)
    progress(`  ${name}: p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms`)
  }
  await app.stop()

  console.log(`\nquery latency: 1 portfolio, ${counts?.days} business days × ${SECURITIES + 1} positions`)
  console.log(`| endpoint | p50 ms | p99 ms | ${CONCURRENCY} clients p50 | ${CONCURRENCY} clients p99 | req/s |`)
  console.log('|---|---|---|---|---|---|')
  for (const r of results) {
    const f = (x: number) => x.toFixed(1)
    console.log(
      `| ${r.endpoint} | ${f(r.p50Ms)} | ${f(r.p99Ms)} | ${f(r.concurrentP50Ms)} | ${f(r.concurrentP99Ms)} | ${r.concurrentRps.toFixed(0)} |`,
    )
  }
  const at = new Date().toISOString()
  mkdirSync(`${import.meta.dir}/results`, { recursive: true })
  const file = `${import.meta.dir}/results/query-${at.replace(/[:.]/g, '-')}.json`
  writeFileSync(
    file,
    JSON.stringify({ bench: 'query', at, requests: REQUESTS, concurrency: CONCURRENCY, results }, null, 2),
  )
  console.log(`\nwritten to ${file}`)
} finally {
  await db.drop()
  await server.server?.stop()
}
