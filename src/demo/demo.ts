import type { Static } from '@sinclair/typebox'
import type { Config } from '../config.ts'
import { ReviewSections } from '../query/review.ts'
import { QueryService } from '../query/service.ts'
import type { ReviewView } from '../query/views.ts'
import type { Logger } from '../runtime/logger.ts'
import { type Dataset, sampleDataset } from './sample.ts'

type Start = (config: Config, logger: Logger) => Promise<import('../main.ts').Running>
type Review = Required<Static<typeof ReviewView>>

/** A review asked for without `sections`: every section is there. */
function whole(r: Static<typeof ReviewView>): Review {
  const missing = ReviewSections.filter((s) => r[s] === undefined)
  if (missing.length > 0) throw new Error(`the review of ${r.portfolioId} lacks ${missing.join(', ')}`)
  return r as Review
}

const CHUNK = 5000
const TIMEOUT_MS = 10 * 60_000

/**
 * `pas demo`: starts every role in this process (the embedded default unless DATABASE_URL or
 * KAFKA_BROKERS say otherwise), loads the sample set through its own ingest API, shows progress
 * until every portfolio's series reaches the business date, prints a short review of each
 * portfolio, and keeps serving the dashboard (its URL printed first), the API and /docs (Ctrl-C
 * stops). `--headless` stops after the review, with exit code 0 when everything processed. The
 * logs go to `logFile` (JSON lines), so the terminal shows the progress and the results only; a
 * failure is printed with where the logs are.
 */
export async function demo(
  config: Config,
  logger: Logger,
  start: Start,
  { headless, logFile }: { headless: boolean; logFile: string },
): Promise<number> {
  const out = (line = '') => process.stdout.write(`${line}\n`)
  process.stderr.write(`pas demo: starting every role (logs in ${logFile})\n`)
  let running: Awaited<ReturnType<Start>>
  try {
    running = await start({ ...config, role: 'all' }, logger)
  } catch (error) {
    process.stderr.write(`pas demo: could not start: ${(error as Error).message} (logs in ${logFile})\n`)
    throw error
  }
  // The dashboard first: it fills in as the sample set flows through, so it is worth opening now.
  out(`dashboard ${running.url}/`)
  try {
    const data = sampleDataset()
    await load(running.url, data, (line) => process.stderr.write(`${line}\n`))
    await waitUntilProcessed(running.deps.db.sql, data)
    const service = new QueryService(running.deps.db.sql)
    out()
    for (const p of data.portfolios) out(formatReview(whole(await service.review(p.portfolioId, {}))))
    out(`dashboard ${running.url}/`)
    out(`API      ${running.url}/v1/portfolios`)
    out(`review   ${running.url}/v1/portfolios/${data.portfolios[0]?.portfolioId}/review`)
    out(`docs     ${running.url}/docs`)
    out(`logs     ${logFile}`)
  } catch (error) {
    logger.error('demo failed', { error })
    process.stderr.write(`\npas demo failed: ${(error as Error).message} (logs in ${logFile})\n`)
    await running.shutdown('demo failed')
    await running.finished
    return 1
  }
  if (headless) {
    await running.shutdown('headless demo done')
    return running.finished
  }
  out('Serving until Ctrl-C.')
  return running.finished
}

/** Sends the dataset through the ingest API, in dependency order, in chunks. */
async function load(url: string, data: Dataset, progress: (line: string) => void): Promise<void> {
  const steps: [string, unknown[]][] = [
    ['portfolios', data.portfolios],
    ['instruments', data.instruments],
    ['prices', data.prices],
    ['fx-rates', data.fx],
    ['benchmarks', data.benchmarks],
    ['business-dates', [{ date: data.businessDate }]],
    ['transactions', data.transactions],
  ]
  for (const [path, records] of steps) {
    for (let i = 0; i < records.length; i += CHUNK) {
      const res = await fetch(`${url}/v1/ingest/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(records.slice(i, i + CHUNK)),
      })
      if (res.status !== 202) throw new Error(`ingest ${path} answered ${res.status}: ${await res.text()}`)
    }
    progress(`loaded ${records.length} ${path}`)
  }
}

/**
 * Waits until every input is stored and every stage reflects it for every sample portfolio (the
 * support view's "current" for positions, valuation and series), printing progress.
 */
async function waitUntilProcessed(sql: import('../adapters/pg-client.ts').Sql, data: Dataset): Promise<void> {
  const ids = data.portfolios.map((p) => p.portfolioId)
  const service = new QueryService(sql)
  const started = Date.now()
  const tty = process.stderr.isTTY
  let last = ''
  for (;;) {
    const [stored] = await sql<{ transactions: number; prices: number }[]>`
      select (select count(*)::int from transactions where portfolio_id = any(${ids}::text[])) as transactions,
             (select count(*)::int from prices where date <= ${data.businessDate}::date
                and security_id = any(${data.instruments.map((i) => i.securityId)}::text[])) as prices`
    const states = await Promise.all(ids.map((id) => service.support(id).catch(() => undefined)))
    const current = (stage: string) =>
      states.filter((s) => s?.stages.find((x) => x.stage === stage)?.state === 'current').length
    // A stage is "current" for what is stored so far: until every input is stored, its count
    // would claim work done that has not been read yet, so it is not shown.
    const storedAll = stored?.transactions === data.transactions.length && stored.prices === data.prices.length
    const stage = (name: string, label: string) =>
      storedAll ? `${label} ${current(name)}/${ids.length}` : `${label} waiting for input`
    const line =
      `processing: transactions ${stored?.transactions}/${data.transactions.length}, prices ${stored?.prices}/${data.prices.length}` +
      ` · ${stage('positions', 'positions')} · ${stage('valuation', 'valuation')}` +
      ` · ${stage('timeseries', 'series')} (${((Date.now() - started) / 1000).toFixed(0)} s)`
    const done = storedAll && ['positions', 'valuation', 'timeseries'].every((s) => current(s) === ids.length)
    if (line !== last) process.stderr.write(tty ? `\r${line}` : `${line}\n`)
    last = line
    if (done) {
      if (tty) process.stderr.write('\n')
      return
    }
    if (Date.now() - started > TIMEOUT_MS) throw new Error(`not processed after ${TIMEOUT_MS / 1000} s: ${line}`)
    await Bun.sleep(500)
  }
}

const money = (s: string) => Number(s).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(2)}%`)

/** A few lines per portfolio: what a relationship manager looks at first. */
export function formatReview(r: Review): string {
  const p = r.overview.portfolio
  const twr = (preset: string) => r.performance.find((x) => x.preset === preset)
  const ytdRisk = r.risk.find((x) => x.preset === 'YTD')
  const top = r.holdings
    .flatMap((h) => h.positions)
    .sort((a, b) => (b.weight ?? 0) - (a.weight ?? 0))
    .slice(0, 5)
  return [
    `${p.portfolioId}  ${p.baseCurrency}  client ${p.clientId ?? '-'} · ${p.riskProfile ?? '-'} · ${p.bookingCentre ?? '-'}  as of ${r.asOf}`,
    `  wealth ${money(r.overview.totalWealth)}  cash ${money(r.overview.cash)}  YTD P&L ${money(r.overview.ytdPnl)}  income ${money(r.activity.ytdIncome)}  fees ${money(r.activity.ytdFees)}`,
    `  TWR  MTD ${pct(twr('MTD')?.net?.cumulative)}  QTD ${pct(twr('QTD')?.net?.cumulative)}  YTD ${pct(twr('YTD')?.net?.cumulative)} (gross ${pct(twr('YTD')?.gross?.cumulative)})  volatility ${pct(ytdRisk?.volatility)}  Sharpe ${ytdRisk?.sharpe?.toFixed(2) ?? 'n/a'}`,
    `  allocation  ${r.allocation.assetClass.map((a) => `${a.key} ${pct(a.weight)}`).join('  ')}`,
    `  top holdings  ${top.map((h) => `${h.positionId} ${pct(h.weight)}`).join('  ')}`,
    '',
  ].join('\n')
}
