/**
 * The benchmark harness: one command runs a generated data set (bench/generator.ts) through the
 * whole system and reports what it achieved, after checking that the results are right.
 *
 *   bun bench/harness.ts --size small|medium|large [--portfolios N] [--transport pg|kafka] [--kafka-client platformatic|rdkafka] [--processes all|ROLE=N,...]
 *                        [--clients 4 [--query-rate R [--query-phase spread|aligned]]] [--auth open|keys] [--database-url URL] [--kafka-brokers HOST:PORT] [--seed 1]
 *                        [--trickle N [--rate 20] [--trickle-kinds correction,trade,price,fx] [--correction-years 5] [--correction-keeps-amount]] [--valuation-workers 1] [--query-workers 1]
 *   bun bench/harness.ts --compare OLD.json NEW.json
 *
 * Deployments: `--processes all` (default) is one `pas --role all` process, the embedded default's
 * shape; `--processes ingest=1,persist=1,positions=1,valuation=2,timeseries=1,api=1` runs a
 * process per role (N of each), as at scale. PostgreSQL is a server of the harness's own
 * (embedded, .pas/bench) unless --database-url names one; the Kafka broker likewise
 * (this checkout's `bench` broker from tools/kafka.sh) unless --kafka-brokers. Each run uses a fresh
 * database and, on Kafka, topics and consumer groups of its own (a prefix), deleted at the end.
 * `--auth keys` runs pas with PAS_AUTH=keys and sends an admin key on every call (the cost of
 * the gate); `open` (default) runs without keys, as the embedded default on loopback does.
 *
 * Reported (a table, and JSON in bench/results/harness-*.json):
 * - the raw COPY rate of this PostgreSQL (rows/s into a copy of the valuations table, 10k-row
 *   batches, one writer), the storage ceiling the pipeline is compared against;
 * - how long the market data took to be stored: it is sent first, and the transactions only once
 *   every price and rate of it is in the tables;
 * - ingest rate (transactions acknowledged per second over HTTP);
 * - end-to-end events/s (transactions ÷ time from the first one sent until every portfolio's
 *   series is complete and the pipeline is idle), position-days valued/s over the same time;
 * - freshness lag, p50 and p99, from a portfolio's transactions being acknowledged to its series
 *   first being complete through the business date;
 * - query latency p50/p99 of /positions and /performance while the pipeline works, with
 *   `--clients` concurrent clients, each calling again as soon as answered, or `--query-rate R`
 *   times a second on a fixed schedule (the same query work for every deployment; `--query-phase`:
 *   the clients' schedules spread evenly over an interval, the default, or aligned);
 * - peak memory (VmHWM) per process, by role; rows written per table.
 * - with `--trickle N`, after the bulk load: N single changes of each kind at `--rate` per second,
 *   and how soon the series reflected them (bench/trickle.ts).
 * Reconciliation (a fast wrong run fails instead of reporting): every transaction stored once, no
 * rejection and no dead letter, every position's final quantity as the generator tallied it (all
 * corrections applied), and every portfolio's series complete on every business day.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { type Cell, copyRows, PgWriter } from '../src/adapters/pg-copy.ts'
import { PgKeyStore } from '../src/adapters/pg-keys.ts'
import { ConfigSchema } from '../src/config.ts'
import { dropKafkaTopics, freePort, localKafka, localPg, scratchDatabase } from '../src/testing/local-infra.ts'
import { type Size, Sizes, Synthetic } from './generator.ts'
import {
  firstScheduled,
  type QueryPhase,
  quantile,
  runTrickle,
  TRICKLE_KINDS,
  type TrickleKind,
  type TrickleResult,
} from './trickle.ts'

const repo = resolve(import.meta.dir, '..')
const ROLES = ['ingest', 'persist', 'positions', 'valuation', 'timeseries', 'api'] as const

export type HarnessOptions = {
  size: Size
  /** The size's shape with this many portfolios instead (a slice of `large`, say). */
  portfolios?: number | undefined
  transport: 'pg' | 'kafka'
  /** On Kafka, which client pas uses (PAS_KAFKA_CLIENT); default platformatic. */
  kafkaClient?: 'platformatic' | 'rdkafka'
  /** 'all' or role → process count */
  processes: 'all' | Partial<Record<(typeof ROLES)[number], number>>
  clients: number
  /**
   * Requests per second each query client sends (a fixed schedule: a slow answer delays the next
   * request, not the schedule); 0 (default) calls again as soon as the answer came, so a faster
   * deployment also gets more queries to answer.
   */
  queryRate?: number
  /** With a query rate, how the clients' schedules line up (bench/trickle.ts, QueryPhase); default spread. */
  queryPhase?: QueryPhase
  /** `keys`: every call carries an API key and pas checks it. */
  auth?: 'open' | 'keys'
  seed: number
  databaseUrl?: string | undefined
  kafkaBrokers?: string | undefined
  progress?: (line: string) => void
  /** Worker threads per valuation process (PAS_VALUATION_WORKERS); pas's default (1) when not given, 0 values on its own thread. */
  valuationWorkers?: number
  /** Worker threads per api process answering the analytics (PAS_QUERY_WORKERS); pas's default (1) when not given. */
  queryWorkers?: number
  /** After the bulk load: this many single changes of each kind (bench/trickle.ts), at `rate` per second. */
  trickle?: number
  /** Which kinds of single change the trickle sends (bench/trickle.ts, TRICKLE_KINDS); default all, in that order. */
  trickleKinds?: readonly TrickleKind[]
  /** Trickle corrections: the first purchase within this many years of the business date (default: the first). */
  correctionYears?: number
  /** Trickle corrections: the purchase's amount sent as it was, so that its cash does not move. */
  correctionKeepsAmount?: boolean
  rate?: number
}

export type HarnessResult = {
  size: Size
  portfolios: number
  transport: string
  layout: string
  auth: string
  transactions: number
  copyRowsPerS: number
  /** From the first market data sent until all of it is stored (before the first transaction). */
  marketDataS: number
  ingestPerS: number
  endToEndS: number
  eventsPerS: number
  positionDays: number
  positionDaysPerS: number
  positionDaysToCopyRatio: number
  lagP50S: number
  lagP99S: number
  queries: number
  /** Per client per second; 0: as fast as answered. */
  queryRate: number
  queryPhase: QueryPhase
  queryP50Ms: number
  queryP99Ms: number
  /** Answers of the query clients by HTTP status (422 while a portfolio's days are not all valued yet). */
  queryStatuses: Record<string, number>
  peakMemoryMb: Record<string, number>
  /**
   * CPU seconds over the run: per pas role (summed over its processes), and the whole machine
   * (PostgreSQL, the Kafka broker and the harness included) from /proc/stat.
   */
  cpuS?: Record<string, number>
  /** Per stage, summed over processes: batches, records and busy seconds (processing + commit). */
  stages: Record<string, { batches: number; records: number; busyS: number }>
  rows: Record<string, number>
  /** The run's database on disk (tables, indexes, TOAST), and that size per position-day valued. */
  databaseMb: number
  bytesPerPositionDay: number
  reconciliation: { ok: boolean; problems: string[] }
  valuationWorkers?: number
  /** Per kind of single change, when `--trickle` asked for them. */
  trickle?: TrickleResult[]
}

/**
 * Rows/s of COPY into a table shaped like the first `valuations` (14 columns, primary key
 * included), 10k-row batches: a fixed yardstick, so the ratio compares across versions of pas.
 */
const BENCH_COPY_COLUMNS = [
  ...['portfolio_id', 'position_id', 'date', 'status', 'quantity', 'price', 'price_date', 'fx_rate'],
  ...['market_value_local', 'market_value_base', 'cost_local', 'cost_base', 'unrealized_local', 'unrealized_base'],
]
async function copyRate(url: string, sql: import('../src/adapters/pg-client.ts').Sql, rows: number): Promise<number> {
  await sql`create table bench_copy (
    portfolio_id text not null, position_id text not null, date date not null, status text not null,
    quantity numeric not null, price numeric, price_date date, fx_rate numeric, market_value_local numeric,
    market_value_base numeric, cost_local numeric not null, cost_base numeric not null, unrealized_local numeric,
    unrealized_base numeric, primary key (portfolio_id, date, position_id))`
  const writer = new PgWriter(url, 'pas-bench-copy')
  const batch: Cell[][] = []
  const start = performance.now()
  for (let i = 0; i < rows; i++) {
    const day = new Date(Date.UTC(2020, 0, 1) + (i % 2000) * 86_400_000).toISOString().slice(0, 10)
    batch.push([
      `P${Math.floor(i / 2000)}`,
      'SEC1',
      day,
      'VALUED',
      '100',
      '12.5',
      day,
      '1',
      '1250',
      '1250',
      '1000',
      '1000',
      '250',
      '250',
    ])
    if (batch.length === 10_000 || i === rows - 1) {
      await writer.transaction((tx) => copyRows(tx, 'bench_copy', BENCH_COPY_COLUMNS, batch, 60_000))
      batch.length = 0
    }
  }
  const rate = rows / ((performance.now() - start) / 1000)
  await writer.close()
  await sql`drop table bench_copy`
  return rate
}

/** CPU seconds a process has used (user + system), from /proc; 0 where there is none. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    return (Number(fields[11]) + Number(fields[12])) / 100 // utime, stime in ticks of 1/100 s
  } catch {
    return 0
  }
}

/** CPU seconds the whole machine has been busy (all cores), from /proc/stat. */
function machineBusySeconds(): number {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? []
    const [user, nice, system, , , irq, softirq, steal] = cpu
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / 100
  } catch {
    return 0
  }
}

function peakRssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0)
    return Math.round(kb / 1024)
  } catch {
    return 0
  }
}

export async function runBenchmark(options: HarnessOptions): Promise<HarnessResult> {
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`))
  const synthetic = new Synthetic(options.size, options.seed, options.portfolios)
  const server = await localPg('bench', options.databaseUrl)
  const db = await scratchDatabase(server.url, `pas_harness_${options.transport}_${Date.now().toString(36)}`)
  const kafka = options.transport === 'kafka' ? await localKafka('bench', options.kafkaBrokers) : undefined
  const procs: { role: string; proc: Bun.Subprocess; url: string }[] = []
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: db.url,
    PAS_LOG_LEVEL: 'warn',
    PAS_PARTITIONS: '8',
    ...(options.valuationWorkers === undefined ? {} : { PAS_VALUATION_WORKERS: String(options.valuationWorkers) }),
    ...(options.queryWorkers === undefined ? {} : { PAS_QUERY_WORKERS: String(options.queryWorkers) }),
  }
  // Topics and groups of this run only: a broker may be shared with other runs or tests.
  const kafkaPrefix = `bench-${Date.now().toString(36)}.`
  if (kafka) {
    Object.assign(env, {
      KAFKA_BROKERS: kafka.brokers.join(','),
      PAS_KAFKA_PREFIX: kafkaPrefix,
      PAS_KAFKA_CLIENT: options.kafkaClient ?? 'platformatic',
    })
  }
  const auth = options.auth ?? 'open'
  env.PAS_AUTH = auth
  // The gate's cost, not its throttle: the query clients call as fast as they can, which a
  // per-key limit would answer with cheap 429s.
  env.PAS_RATE_LIMIT = '1000000'
  const keyHeader: Record<string, string> =
    auth === 'keys'
      ? { authorization: `Bearer ${await new PgKeyStore(db.sql).create('harness', ['admin'], null)}` }
      : {}
  const spawn = (role: string, extra: string[] = []) => {
    const port = freePort()
    // PAS_BENCH_CPU_PROF=DIR: each pas process writes a CPU profile (markdown) there when it exits.
    const profile = process.env.PAS_BENCH_CPU_PROF
    const profiling = profile ? ['--cpu-prof-md', `--cpu-prof-dir=${profile}`] : []
    const proc = Bun.spawn(['bun', ...profiling, 'src/main.ts', ...extra, '--role', role, '--port', String(port)], {
      cwd: repo,
      env: { ...env, PAS_KAFKA_CLIENT_ID: `bench-${role}-${port}` },
      stdout: 'ignore',
      stderr: 'inherit',
    })
    procs.push({ role, proc, url: `http://127.0.0.1:${port}` })
  }
  // A pas process that stopped ends the run at once: the waits below would otherwise poll a
  // process that is gone until their deadline (an hour for the pipeline).
  const stillRunning = () => {
    const gone = procs.find((p) => p.proc.exitCode !== null || p.proc.signalCode !== null)
    if (gone)
      throw new Error(
        `pas --role ${gone.role} (pid ${gone.proc.pid}) exited (${gone.proc.signalCode ?? `code ${gone.proc.exitCode}`}); its log is above`,
      )
  }
  try {
    const copyRowsPerS = await copyRate(db.url, db.sql, 200_000)
    progress(`raw COPY: ${Math.round(copyRowsPerS)} rows/s`)

    if (options.processes === 'all') spawn('all')
    else {
      const setup = Bun.spawn(['bun', 'src/main.ts', 'topics'], { cwd: repo, env, stdout: 'ignore', stderr: 'inherit' })
      if ((await setup.exited) !== 0) throw new Error('pas topics failed')
      for (const role of ROLES) for (let i = 0; i < (options.processes[role] ?? 1); i++) spawn(role)
    }
    for (const p of procs) {
      for (let i = 0; ; i++) {
        if (
          await fetch(`${p.url}/ready`).then(
            (r) => r.ok,
            () => false,
          )
        )
          break
        if (i > 600) throw new Error(`${p.role} did not become ready`)
        stillRunning()
        await Bun.sleep(100)
      }
    }
    progress(`pas started: ${procs.map((p) => `${p.role} (pid ${p.proc.pid})`).join(', ')}`)
    const ingestUrl = (procs.find((p) => p.role === 'ingest' || p.role === 'all') as { url: string }).url
    const apiUrl = (procs.find((p) => p.role === 'api' || p.role === 'all') as { url: string }).url
    const post = async (kind: string, records: unknown[]) => {
      const res = await fetch(`${ingestUrl}/v1/ingest/${kind}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...keyHeader },
        body: JSON.stringify(records),
      })
      if (res.status !== 202) throw new Error(`ingest ${kind}: ${res.status} ${(await res.text()).slice(0, 500)}`)
    }

    // Query load while the pipeline works: random portfolios, positions and performance.
    const latencies: number[] = []
    const queryStatuses: Record<string, number> = {}
    let loading = true
    const interval = options.queryRate ? 1000 / options.queryRate : 0
    const clients = Array.from({ length: options.clients }, async (_, c) => {
      let k = c
      let next = firstScheduled(performance.now(), c, options.clients, interval, options.queryPhase ?? 'spread')
      while (loading) {
        if (interval > 0) {
          next += interval
          const wait = next - performance.now()
          if (wait > 0) await Bun.sleep(wait)
          if (!loading) break
        }
        const id = `BP${(k * 7919) % synthetic.size.portfolios}`
        const path =
          k++ % 2 === 0 ? `/v1/portfolios/${id}/positions` : `/v1/portfolios/${id}/performance?period=SI&frequency=none`
        const t = performance.now()
        const status = await fetch(apiUrl + path, { headers: keyHeader }).then(
          async (r) => {
            await r.arrayBuffer()
            return String(r.status)
          },
          () => 'error',
        )
        queryStatuses[status] = (queryStatuses[status] ?? 0) + 1
        latencies.push(performance.now() - t)
      }
    })

    // CPU from here (processes started, market data not yet sent) to the end of the bulk load.
    const machineAtStart = machineBusySeconds()
    const cpuAtStart = new Map(procs.map((p) => [p.proc.pid, cpuSeconds(p.proc.pid)]))
    let t0 = 0
    let transactions = 0
    let ackedS = 0
    const ackedAt = new Map<string, number>()
    // Market data is stored before the first transaction is sent, as an operator loading a book
    // would: sent alongside, every batch of older prices revalues the positions already valued
    // from its days on (that is the late phase's job).
    const market = { prices: 0, fx: 0, since: 0 }
    let marketDataS = 0
    for (const chunk of synthetic.chunks()) {
      if (chunk.phase === 'market' && market.since === 0) market.since = performance.now()
      if (chunk.phase === 'transactions' && t0 === 0) {
        progress(`reference and market data sent; waiting until stored`)
        for (;;) {
          const [stored] = await db.sql<{ prices: number; fx: number }[]>`
            select (select count(*) from prices)::int as prices, (select count(*) from fx_rates)::int as fx`
          if (stored && stored.prices >= market.prices && stored.fx >= market.fx) break
          stillRunning()
          await Bun.sleep(500)
        }
        marketDataS = (performance.now() - market.since) / 1000
        progress(
          `${market.prices} prices and ${market.fx} FX rates stored in ${marketDataS.toFixed(1)} s; sending transactions`,
        )
        t0 = performance.now()
      }
      if (chunk.phase === 'market' && chunk.kind === 'prices') market.prices += chunk.records.length
      if (chunk.phase === 'market' && chunk.kind === 'fx-rates') market.fx += chunk.records.length
      await post(chunk.kind, chunk.records)
      if (chunk.phase === 'transactions') {
        transactions += chunk.records.length
        ackedS = (performance.now() - t0) / 1000
        for (const id of chunk.portfolioIds ?? []) ackedAt.set(id, performance.now())
      }
    }
    const ingestPerS = transactions / ackedS
    progress(`${transactions} transactions acknowledged at ${Math.round(ingestPerS)}/s; waiting for the pipeline`)

    // Done: every portfolio's series complete on every business day, and the stages idle.
    const doneAt = new Map<string, number>()
    let lastWork = ''
    let idleSince = 0
    // `large` values ~650M position-days: hours, and its completion query reads ~13M series rows.
    const large = options.size === 'large'
    const deadline = performance.now() + (large ? 6 * 60 : 60) * 60_000
    const poll = large ? 15_000 : 1000
    for (;;) {
      const rows = await db.sql<{ id: string; n: number }[]>`
        select f.portfolio_id as id, count(*)::int as n
        from portfolio_series_months f cross join lateral unnest(f.dates) as d(date)
        left join portfolio_values v on v.portfolio_id = f.portfolio_id and v.month = f.month and v.date = d.date
        where coalesce(v.complete, true)
          and d.date between ${synthetic.expected.firstDay}::date and ${synthetic.expected.businessDate}::date
        group by f.portfolio_id`
      const now = performance.now()
      for (const r of rows) if (r.n === synthetic.expected.seriesDays && !doneAt.has(r.id)) doneAt.set(r.id, now)
      const work = JSON.stringify(
        await Promise.all(
          procs.map((p) =>
            fetch(`${p.url}/health`).then(
              async (r) => ((await r.json()) as { services: { detail: unknown }[] }).services.map((s) => s.detail),
              () => null,
            ),
          ),
        ),
      )
      if (work !== lastWork) {
        lastWork = work
        idleSince = now
      }
      const complete = rows.filter((r) => r.n === synthetic.expected.seriesDays).length
      progress(`  ${complete}/${synthetic.size.portfolios} portfolios complete (${((now - t0) / 1000).toFixed(0)} s)`)
      if (complete === synthetic.size.portfolios && now - idleSince > Math.max(3000, poll)) break
      if (now > deadline) throw new Error(`not done in time: ${complete} portfolios complete`)
      stillRunning()
      await Bun.sleep(poll)
    }
    const endToEndS = (idleSince - t0) / 1000
    loading = false
    await Promise.all(clients)

    type StageDetail = { name: string; detail: { batches: number; records: number; busyMs: number } }
    const stages: HarnessResult['stages'] = {}
    for (const p of procs) {
      const health = (await (await fetch(`${p.url}/health`)).json()) as {
        services: { detail: { stages?: StageDetail[] } }[]
      }
      for (const st of health.services.flatMap((svc) => svc.detail.stages ?? [])) {
        const name = st.name.replace('stage:', '')
        const acc = stages[name] ?? { batches: 0, records: 0, busyS: 0 }
        acc.batches += st.detail.batches
        acc.records += st.detail.records
        acc.busyS += st.detail.busyMs / 1000
        stages[name] = acc
      }
    }
    const peakMemoryMb: Record<string, number> = {}
    for (const p of procs) peakMemoryMb[p.role] = Math.max(peakMemoryMb[p.role] ?? 0, peakRssMb(p.proc.pid))
    const cpuS: Record<string, number> = { machine: machineBusySeconds() - machineAtStart }
    for (const p of procs)
      cpuS[p.role] = (cpuS[p.role] ?? 0) + cpuSeconds(p.proc.pid) - (cpuAtStart.get(p.proc.pid) ?? 0)
    const tables = [
      'transactions',
      'prices',
      'position_history',
      'cashflows',
      'portfolio_values',
      'unvalued_days',
      'portfolio_series',
      'lineage',
    ]
    const rowsWritten: Record<string, number> = {}
    for (const t of tables)
      rowsWritten[t] = Number((await db.sql.unsafe(`select count(*)::int as n from ${t}`))[0]?.n ?? 0)

    // Reconciliation against the generator's own expectations.
    const problems: string[] = []
    if (rowsWritten.transactions !== synthetic.expected.transactions) {
      problems.push(`${rowsWritten.transactions} transactions stored, ${synthetic.expected.transactions} sent`)
    }
    const [bad] = await db.sql<{ rejected: number; dead: number }[]>`
      select (select count(*)::int from transaction_rejections) as rejected, (select count(*)::int from dead_letters) as dead`
    if (bad?.rejected) problems.push(`${bad.rejected} transactions rejected`)
    if (bad?.dead) problems.push(`${bad.dead} dead letters`)
    const finals = await db.sql<{ key: string; quantity: string }[]>`
      select distinct on (portfolio_id, position_id) portfolio_id || '|' || position_id as key, quantity::text as quantity
      from position_history where position_id not like 'CASH:%'
      order by portfolio_id, position_id, date desc, seq desc`
    const stored = new Map(finals.map((f) => [f.key, Number(f.quantity)]))
    let wrong = 0
    for (const [key, q] of synthetic.expected.quantities) if (stored.get(key) !== q) wrong++
    if (wrong > 0)
      problems.push(
        `${wrong} of ${synthetic.expected.quantities.size} positions differ from the generator's quantities`,
      )
    if (doneAt.size !== synthetic.size.portfolios) problems.push(`${doneAt.size} portfolios with a complete series`)

    const lags = [...doneAt].map(([id, t]) => (t - (ackedAt.get(id) ?? t0)) / 1000).sort((a, b) => a - b)
    latencies.sort((a, b) => a - b)
    // Position-days valued: the stage stores their count per portfolio-day, not the days themselves.
    const [valued] = await db.sql<{ n: string }[]>`select coalesce(sum(positions), 0)::text as n from portfolio_values`
    const positionDays = Number(valued?.n ?? 0)
    const positionDaysPerS = positionDays / endToEndS
    await db.sql`vacuum analyze`
    const [size] = await db.sql<{ bytes: string }[]>`select pg_database_size(current_database())::text as bytes`
    const databaseBytes = Number(size?.bytes ?? 0)
    const trickle =
      (options.trickle ?? 0) > 0 && problems.length === 0
        ? await runTrickle({
            sql: db.sql,
            urls: procs.map((p) => p.url),
            ingestUrl,
            apiUrl,
            headers: keyHeader,
            count: options.trickle ?? 0,
            kinds: options.trickleKinds ?? TRICKLE_KINDS,
            correctionYears: options.correctionYears,
            correctionKeepsAmount: options.correctionKeepsAmount,
            perSecond: options.rate ?? 20,
            clients: options.clients,
            queryRate: options.queryRate ?? 0,
            queryPhase: options.queryPhase ?? 'spread',
            portfolios: synthetic.size.portfolios,
            progress,
            pgLog: options.transport === 'pg',
          })
        : undefined
    return {
      size: options.size,
      portfolios: synthetic.size.portfolios,
      transport:
        options.transport === 'kafka' && options.kafkaClient === 'rdkafka' ? 'kafka-rdkafka' : options.transport,
      auth,
      layout:
        options.processes === 'all'
          ? 'all'
          : ROLES.map((r) => `${r}=${(options.processes as Record<string, number>)[r] ?? 1}`).join(','),
      transactions,
      copyRowsPerS,
      ingestPerS,
      endToEndS,
      eventsPerS: transactions / endToEndS,
      positionDays,
      positionDaysPerS,
      positionDaysToCopyRatio: positionDaysPerS / copyRowsPerS,
      marketDataS,
      lagP50S: quantile(lags, 0.5),
      lagP99S: quantile(lags, 0.99),
      queries: latencies.length,
      queryRate: options.queryRate ?? 0,
      queryPhase: options.queryPhase ?? 'spread',
      queryP50Ms: quantile(latencies, 0.5),
      queryP99Ms: quantile(latencies, 0.99),
      queryStatuses,
      peakMemoryMb,
      cpuS,
      stages,
      rows: rowsWritten,
      databaseMb: Math.round(databaseBytes / 2 ** 20),
      bytesPerPositionDay: positionDays > 0 ? Math.round(databaseBytes / positionDays) : 0,
      reconciliation: { ok: problems.length === 0, problems },
      valuationWorkers: options.valuationWorkers ?? ConfigSchema.properties.valuationWorkers.default,
      ...(trickle ? { trickle } : {}),
    }
  } finally {
    for (const p of procs) p.proc.kill('SIGTERM')
    await Promise.all(procs.map((p) => p.proc.exited))
    await db.drop()
    if (kafka) await dropKafkaTopics(kafka.brokers, kafkaPrefix).catch(() => {})
    await kafka?.stop()
    await server.server?.stop()
  }
}

export function formatResult(r: HarnessResult): string {
  const f = (x: number, d = 0) => x.toFixed(d)
  return [
    `size ${r.size} (${r.portfolios} portfolios), transport ${r.transport}, processes ${r.layout}, auth ${r.auth}: reconciliation ${r.reconciliation.ok ? 'passed' : `FAILED: ${r.reconciliation.problems.join('; ')}`}`,
    '| metric | value |',
    '|---|---|',
    `| transactions | ${r.transactions} |`,
    `| valuation workers per process | ${r.valuationWorkers ?? 0} |`,
    `| raw COPY rows/s | ${f(r.copyRowsPerS)} |`,
    `| market data stored s (before the transactions) | ${f(r.marketDataS ?? 0, 1)} |`,
    `| ingest transactions/s (acknowledged) | ${f(r.ingestPerS)} |`,
    `| end to end s | ${f(r.endToEndS, 1)} |`,
    `| events/s end to end | ${f(r.eventsPerS)} |`,
    `| position-days valued | ${r.positionDays} |`,
    `| position-days/s | ${f(r.positionDaysPerS)} |`,
    `| position-days/s ÷ raw COPY rows/s | ${f(r.positionDaysToCopyRatio, 3)} |`,
    `| freshness lag p50 / p99 s | ${f(r.lagP50S, 2)} / ${f(r.lagP99S, 2)} |`,
    `| queries during processing | ${r.queries}${r.queryRate ? ` (${r.queryRate}/s per client, schedules ${r.queryPhase ?? 'aligned'})` : ' (each client as fast as answered)'} |`,
    `| query p50 / p99 ms | ${f(r.queryP50Ms, 1)} / ${f(r.queryP99Ms, 1)} |`,
    `| query answers by status | ${Object.entries(r.queryStatuses ?? {})
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')} |`,
    `| peak memory MB | ${Object.entries(r.peakMemoryMb)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} |`,
    `| CPU s (market data and bulk load) | ${Object.entries(r.cpuS ?? {})
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', ')} |`,
    `| rows written | ${Object.entries(r.rows)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} |`,
    `| database on disk MB (bytes per position-day) | ${r.databaseMb} (${r.bytesPerPositionDay}) |`,
    `| stages: batches / records / busy s | ${Object.entries(r.stages)
      .map(([k, v]) => `${k} ${v.batches} / ${v.records} / ${v.busyS.toFixed(1)}`)
      .join(', ')} |`,
    ...(r.trickle ?? []).flatMap((t) => [
      `| trickle ${t.kind}: changes / series writes / fresh p50, p99, max ms / review p50, p99 ms | ${t.changes} / ${t.seriesWrites} / ${f(t.freshP50Ms)}, ${f(t.freshP99Ms)}, ≤ ${f(t.freshMaxMs)} / ${f(t.reviewP50Ms, 1)}, ${f(t.reviewP99Ms, 1)} |`,
      ...(t.exact
        ? [
            `| trickle ${t.kind}: from each 202 to its series written, exact, p50 / p99 / max ms | ${f(t.exact.p50Ms)} / ${f(t.exact.p99Ms)} / ${f(t.exact.maxMs)} (${t.exact.changes} changes) |`,
          ]
        : []),
      ...(t.hops
        ? [
            `| trickle ${t.kind}: notices appended after the change, p50 / p99 ms | ${t.hops.map((h) => `${h.topic} ${f(h.p50Ms)} / ${f(h.p99Ms)}`).join(', ')} |`,
          ]
        : []),
      `| trickle ${t.kind}: stages meanwhile, batches / busy s | ${t.stages.map((x) => `${x.stage} ${x.batches} / ${x.busyS.toFixed(2)}`).join(', ')} |`,
      `| trickle ${t.kind}: slice steps meanwhile, slices / mean ms | ${t.steps.map((x) => `${x.stage} ${x.step} ${x.slices} / ${x.meanMs.toFixed(1)}`).join(', ')} |`,
      `| trickle ${t.kind}: memory guard's collections meanwhile, count / ms | ${t.collections.count} / ${f(t.collections.seconds * 1000)} |`,
    ]),
  ].join('\n')
}

/** Ratios new ÷ old of every numeric metric of two result files. */
export function compare(older: HarnessResult, newer: HarnessResult): string {
  const lines = ['| metric | old | new | new ÷ old |', '|---|---|---|---|']
  for (const [key, value] of Object.entries(newer)) {
    const before = (older as Record<string, unknown>)[key]
    if (typeof value === 'number' && typeof before === 'number') {
      lines.push(
        `| ${key} | ${before.toFixed(2)} | ${value.toFixed(2)} | ${before === 0 ? 'n/a' : (value / before).toFixed(2)} |`,
      )
    }
  }
  return lines.join('\n')
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: 'small' },
      portfolios: { type: 'string' },
      transport: { type: 'string', default: 'pg' },
      'kafka-client': { type: 'string', default: 'platformatic' },
      processes: { type: 'string', default: 'all' },
      clients: { type: 'string', default: '4' },
      auth: { type: 'string', default: 'open' },
      seed: { type: 'string', default: '1' },
      'database-url': { type: 'string' },
      'kafka-brokers': { type: 'string' },
      trickle: { type: 'string' },
      'trickle-kinds': { type: 'string', default: TRICKLE_KINDS.join(',') },
      'correction-years': { type: 'string' },
      'correction-keeps-amount': { type: 'boolean' },
      'valuation-workers': { type: 'string' },
      'query-workers': { type: 'string' },
      rate: { type: 'string', default: '20' },
      'query-rate': { type: 'string', default: '0' },
      'query-phase': { type: 'string', default: 'spread' },
      compare: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  })
  const load = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as HarnessResult
  if (values.compare) {
    const [a, b] = process.argv.slice(2).filter((x) => !x.startsWith('--'))
    if (!a || !b) throw new Error('--compare OLD.json NEW.json')
    console.log(compare(load(a), load(b)))
  } else {
    if (!(values.size in Sizes)) throw new Error(`--size: one of ${Object.keys(Sizes).join(', ')}`)
    if (values.transport !== 'pg' && values.transport !== 'kafka') throw new Error('--transport: pg or kafka')
    const kafkaClient = values['kafka-client']
    if (kafkaClient !== 'platformatic' && kafkaClient !== 'rdkafka') {
      throw new Error('--kafka-client: platformatic or rdkafka')
    }
    if (values['query-phase'] !== 'spread' && values['query-phase'] !== 'aligned')
      throw new Error('--query-phase: spread or aligned')
    const trickleKinds = values['trickle-kinds'].split(',')
    for (const k of trickleKinds)
      if (!TRICKLE_KINDS.includes(k as TrickleKind))
        throw new Error(`--trickle-kinds: ${k} is not one of ${TRICKLE_KINDS.join(', ')}`)
    const processes =
      values.processes === 'all'
        ? ('all' as const)
        : Object.fromEntries(
            values.processes.split(',').map((kv) => {
              const [role, n] = kv.split('=')
              if (!ROLES.includes(role as (typeof ROLES)[number]) || !(Number(n) >= 1))
                throw new Error(`--processes: ${kv}`)
              return [role, Number(n)]
            }),
          )
    const result = await runBenchmark({
      size: values.size as Size,
      portfolios: values.portfolios ? Number(values.portfolios) : undefined,
      transport: values.transport,
      kafkaClient,
      processes,
      clients: Number(values.clients),
      queryRate: Number(values['query-rate']),
      queryPhase: values['query-phase'],
      auth: values.auth === 'keys' ? 'keys' : 'open',
      seed: Number(values.seed),
      databaseUrl: values['database-url'],
      kafkaBrokers: values['kafka-brokers'],
      trickle: values.trickle ? Number(values.trickle) : 0,
      trickleKinds: trickleKinds as TrickleKind[],
      ...(values['correction-years'] === undefined ? {} : { correctionYears: Number(values['correction-years']) }),
      ...(values['correction-keeps-amount'] ? { correctionKeepsAmount: true } : {}),
      valuationWorkers: values['valuation-workers'] === undefined ? undefined : Number(values['valuation-workers']),
      queryWorkers: values['query-workers'] === undefined ? undefined : Number(values['query-workers']),
      rate: Number(values.rate),
    })
    console.log(formatResult(result))
    mkdirSync(`${import.meta.dir}/results`, { recursive: true })
    const at = new Date().toISOString()
    const file = `${import.meta.dir}/results/harness-${result.size}-${result.transport}-${at.replace(/[:.]/g, '-')}.json`
    writeFileSync(file, JSON.stringify({ at, ...result }, null, 2))
    console.log(`written ${file}`)
    if (!result.reconciliation.ok) process.exit(1)
  }
}
