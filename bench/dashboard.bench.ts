/**
 * What the dashboard costs a person opening it: bytes transferred and the time until a portfolio's
 * page is drawn, for one portfolio of 50 positions over ten years (the generator's `decade` size:
 * 2,610 business days), in headless Chromium against `pas --role all` on a fresh database.
 *
 *   bun bench/dashboard.bench.ts [--runs 7] [--database-url URL]
 *
 * "Shown" means: the four charts drawn (their canvases exist), the KPI cards filled and the holdings
 * table's rows present. A cold load has an empty browser cache; warm loads reload the page (the
 * HTML answers 304, the API is fetched again). One tab takes gzip, one asks for identity, in turn. Figures are this machine's, one run: compare
 * before/after ratios, never absolute values across machines.
 */

import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { chromium, type Page } from 'playwright-core'
import { freePort, localPg, scratchDatabase } from '../src/testing/local-infra.ts'
import { Synthetic } from './generator.ts'

const repo = resolve(import.meta.dir, '..')
const { values } = parseArgs({
  options: { runs: { type: 'string', default: '7' }, 'database-url': { type: 'string' } },
})
const runs = Number(values.runs)
const log = (line: string) => process.stderr.write(`${line}\n`)

const synthetic = new Synthetic('decade')
const server = await localPg('bench', values['database-url'])
const db = await scratchDatabase(server.url, `pas_dashboard_${Date.now().toString(36)}`)
const port = freePort()
const url = `http://127.0.0.1:${port}`
const proc = Bun.spawn(['bun', 'src/main.ts', '--role', 'all', '--port', String(port)], {
  cwd: repo,
  env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.url, PAS_LOG_LEVEL: 'warn', PAS_AUTH: 'open' },
  stdout: 'ignore',
  stderr: 'inherit',
})
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? Bun.which('chromium') ?? 'chromium',
  args: ['--no-sandbox'],
})
try {
  for (
    let i = 0;
    !(await fetch(`${url}/ready`).then(
      (r) => r.ok,
      () => false,
    ));
    i++
  ) {
    if (i > 600 || proc.exitCode !== null) throw new Error('pas did not become ready')
    await Bun.sleep(100)
  }
  const started = performance.now()
  let sent = 0
  for (const chunk of synthetic.chunks()) {
    const response = await fetch(`${url}/v1/ingest/${chunk.kind}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chunk.records),
    })
    if (response.status !== 202) throw new Error(`ingest ${chunk.kind}: ${response.status} ${await response.text()}`)
    sent += chunk.records.length
  }
  log(`sent ${sent} records (${synthetic.days.length} business days, ${synthetic.size.positions} positions)`)
  // Processed: every stage current for the portfolio, the series through the business date.
  const id = 'BP0'
  for (;;) {
    const support = (await (await fetch(`${url}/v1/portfolios/${id}/support`)).json()) as {
      stages: { stage: string; state: string; throughDate: string | null }[]
    }
    const done = support.stages.length === 3 && support.stages.every((s) => s.state === 'current')
    const series = support.stages.find((s) => s.stage === 'timeseries')?.throughDate
    if (done && series === synthetic.expected.businessDate) break
    log(`processing… ${support.stages.map((s) => `${s.stage} ${s.state} ${s.throughDate ?? ''}`).join(', ')}`)
    await Bun.sleep(2000)
  }
  log(`processed in ${((performance.now() - started) / 1000).toFixed(0)} s`)

  // Two browsers' worth of tabs, reloaded in turn: one takes gzip (as every browser does), one asks
  // for identity, so the cost and the saving of compression are measured in the same minutes.
  const shown = async (p: Page) => {
    await p.locator('[data-testid=holdings-table] tbody tr:not(.group)').first().waitFor({ timeout: 60_000 })
    for (const chart of ['chart-wealth', 'chart-twr', 'chart-drawdown', 'chart-allocation']) {
      await p.locator(`[data-testid=${chart}] canvas`).waitFor({ timeout: 60_000 })
    }
  }
  const tab = async (name: string, headers: Record<string, string>) => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, extraHTTPHeaders: headers })
    const page = await context.newPage()
    const transfers: { url: string; bytes: number; decoded: number }[] = []
    page.on('requestfinished', async (request) => {
      const sizes = await request.sizes()
      const response = await request.response()
      const decoded = response ? (await response.body().catch(() => Buffer.alloc(0))).length : 0
      transfers.push({ url: request.url(), bytes: sizes.responseBodySize + sizes.responseHeadersSize, decoded })
    })
    const times: number[] = []
    return {
      name,
      times,
      async load(run: number) {
        transfers.length = 0
        const t = performance.now()
        if (run === 0) await page.goto(`${url}/#/p/${id}`)
        else await page.reload()
        await shown(page)
        const ms = performance.now() - t
        await Bun.sleep(300) // let the last requestfinished events land
        const total = transfers.reduce((s, x) => s + x.bytes, 0)
        const decoded = transfers.reduce((s, x) => s + x.decoded, 0)
        const byPath = transfers
          .map(
            (x) => `${new URL(x.url).pathname.replace(/^\/v1\/portfolios\/[^/]+/, '…')} ${(x.bytes / 1024).toFixed(0)}`,
          )
          .join(', ')
        log(
          `${name} ${run === 0 ? 'cold' : `warm ${run}`}: shown in ${ms.toFixed(0)} ms; ${transfers.length} requests, ${(total / 1024).toFixed(0)} KiB transferred (${(decoded / 1024).toFixed(0)} KiB decoded): ${byPath}`,
        )
        if (run > 0) times.push(ms)
      },
    }
  }
  const tabs = [await tab('gzip', {}), await tab('identity', { 'accept-encoding': 'identity' })]
  for (let run = 0; run <= runs; run++) for (const t of tabs) await t.load(run)
  for (const t of tabs) {
    const times = t.times.sort((a, b) => a - b)
    console.log(
      `dashboard (${t.name}), ${synthetic.days.length} days × ${synthetic.size.positions} positions: warm median ${times[Math.floor(times.length / 2)]?.toFixed(0)} ms (min ${times[0]?.toFixed(0)}, max ${times.at(-1)?.toFixed(0)}) over ${runs} reloads`,
    )
  }
} finally {
  await browser.close()
  proc.kill('SIGTERM')
  await proc.exited
  await db.drop()
  await server.server?.stop()
}
