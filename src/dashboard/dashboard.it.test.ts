import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { dec } from '../domain/money.ts'
import { freshDatabase, inCI } from '../testing/infra.ts'
import type { ScratchDatabase } from '../testing/local-infra.ts'
import { money, percent } from './format.ts'
import type { Page as Paged, Portfolio, Review } from './types.ts'

const repo = resolve(import.meta.dir, '../..')
/** Debian's chromium (`.ci/run` installs it); CHROMIUM_PATH elsewhere. */
const executablePath = process.env.CHROMIUM_PATH ?? Bun.which('chromium') ?? Bun.which('chromium-browser')
/** Screenshots of what the tests saw, kept out of git (.pas/ is ignored). */
const artifacts = join(repo, '.pas', 'artifacts', 'dashboard')
const LOCALE = 'en-US'

/** The value of `read` once `ok` holds, or its last value after `timeoutMs` (the caller's expect then fails). */
async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (ok(value) || Date.now() > until) return value
    await Bun.sleep(100)
  }
}

/**
 * The dashboard in a real headless Chromium, against `pas demo` in its own process (every role,
 * the sample set loaded through the API, a fresh database). What the page shows is compared with
 * what the API answers for the same figure, formatted as the page formats it (format.test.ts
 * pins the formatting to literal strings). Skipped only outside CI when no Chromium is installed.
 */
describe.skipIf(!executablePath && !inCI)('dashboard in a browser', () => {
  let db: ScratchDatabase
  let proc: ReturnType<typeof Bun.spawn>
  let url = ''
  let browser: Browser
  let page: Page
  const dataDir = mkdtempSync(join(tmpdir(), 'pas-dashboard-'))
  const api = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const response = await fetch(`${url}${path}`, init)
    if (!response.ok && response.status !== 422) throw new Error(`${path}: ${response.status} ${await response.text()}`)
    return (await response.json()) as T
  }
  const shot = (name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true })
  const text = async (testid: string) => ((await page.getByTestId(testid).textContent()) ?? '').trim()

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true })
    db = await freshDatabase('dashboard')
    proc = Bun.spawn(['bun', 'src/main.ts', 'demo', '--port', '0'], {
      cwd: repo,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.url, PAS_DATA_DIR: dataDir },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    // The first line names the dashboard; "Serving until Ctrl-C." follows once the sample set is processed.
    let out = ''
    const decoder = new TextDecoder()
    const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader()
    while (!out.includes('Serving until Ctrl-C.')) {
      const { done, value } = await reader.read()
      if (done) break
      out += decoder.decode(value)
    }
    reader.releaseLock()
    url = /^dashboard (http:\/\/\S+)\/$/m.exec(out)?.[1] ?? ''
    expect(url, out).not.toBe('')
    browser = await chromium.launch({ executablePath: executablePath ?? 'chromium', args: ['--no-sandbox'] })
    page = await (await browser.newContext({ locale: LOCALE, viewport: { width: 1400, height: 1000 } })).newPage()
  }, 300_000)

  afterAll(async () => {
    await browser?.close()
    proc?.kill('SIGTERM')
    await proc?.exited
    await db?.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }, 60_000)

  const reviewOf = (id: string) => api<Review>(`/v1/portfolios/${id}/review`)

  test('the list shows every portfolio with the wealth and YTD TWR the API gives', async () => {
    const portfolios = (await api<Paged<Portfolio>>('/v1/portfolios')).items
    await page.goto(`${url}/`)
    const rows = page.locator('[data-testid=portfolio-list] tbody tr')
    expect(
      await eventually(
        () => rows.count(),
        (n) => n === portfolios.length,
      ),
    ).toBe(portfolios.length)
    for (const p of portfolios) {
      const review = await reviewOf(p.portfolioId)
      const ytd = review.performance?.find((f) => f.preset === 'YTD')?.net?.cumulative
      const row = page.locator('[data-testid=portfolio-list] tbody tr', { hasText: p.portfolioId })
      await row.getByText(money(review.overview?.totalWealth, p.baseCurrency, LOCALE), { exact: true }).waitFor()
      await row.getByText(percent(ytd, LOCALE), { exact: true }).waitFor()
      await row.getByText('current', { exact: true }).waitFor()
    }
    // Filtering by booking centre leaves the one portfolio booked there.
    const zurich = portfolios.filter((p) => p.bookingCentre === 'Zurich')
    await page.getByLabel('Booking centre').selectOption('Zurich')
    expect(
      await eventually(
        () => rows.count(),
        (n) => n === zurich.length,
      ),
    ).toBe(zurich.length)
    await shot('list')
  }, 60_000)

  test('a portfolio page shows its charts and the figures the API gives', async () => {
    const id = 'DEMO-GROWTH'
    const review = await reviewOf(id)
    const series = await api<{ date: string; emvBase: string }[]>(`/v1/portfolios/${id}/series`)
    await page.goto(`${url}/#/p/${id}`)
    await page.getByTestId('kpi-wealth').waitFor()
    expect(await text('kpi-wealth')).toBe(money(review.overview?.totalWealth, 'EUR', LOCALE))
    expect(await text('kpi-cash')).toBe(money(review.overview?.cash, 'EUR', LOCALE))
    expect(await text('kpi-ytd-pnl')).toBe(money(review.overview?.ytdPnl, 'EUR', LOCALE))
    // Period returns: each preset's net and gross as the review has them.
    const table = page.getByTestId('returns-table')
    for (const figure of review.performance ?? []) {
      const cells = await table.locator('tbody tr', { hasText: figure.preset }).first().locator('td').allTextContents()
      expect(cells.slice(0, 3)).toEqual([
        figure.preset,
        figure.net ? percent(figure.net.cumulative, LOCALE) : '–',
        figure.gross ? percent(figure.gross.cumulative, LOCALE) : '–',
      ])
    }
    // Every chart is drawn, and the wealth chart's description ends on the series' last value.
    for (const chart of ['chart-wealth', 'chart-twr', 'chart-drawdown', 'chart-allocation']) {
      await page.locator(`[data-testid=${chart}] canvas`).waitFor()
    }
    const last = series.at(-1)
    expect(await page.getByTestId('chart-wealth').getAttribute('aria-label')).toContain(
      `${last?.date}: ${money(last?.emvBase, 'EUR', LOCALE)} at the end`,
    )
    // Holdings: one row per position, grouped by asset class.
    const positions = (review.holdings ?? []).flatMap((g) => g.positions)
    expect(await page.locator('[data-testid=holdings-table] tbody tr:not(.group)').count()).toBe(positions.length)
    expect(await page.locator('[data-testid=holdings-table] tbody tr.group').count()).toBe(review.holdings?.length ?? 0)
    await shot('portfolio')
  }, 60_000)

  test('a trade posted through the API shows on the open page without a reload', async () => {
    const id = 'DEMO-GROWTH'
    await page.goto(`${url}/#/p/${id}`)
    await page.getByTestId('kpi-wealth').waitFor()
    const before = await reviewOf(id)
    await page.evaluate(() => {
      ;(window as unknown as { stayed: boolean }).stayed = true
    })
    // A sort chosen before the figures change outlives the redraw.
    const pnl = page.locator('[data-testid=holdings-table] th', { hasText: 'Unrealized P&L' })
    await pnl.locator('button').click()
    expect(await pnl.getAttribute('aria-sort')).toBe('descending')
    const deposit = {
      transactionId: `DASH-${Date.now()}`,
      portfolioId: id,
      type: 'DEPOSIT',
      tradeDate: before.asOf,
      grossAmount: '1234.56',
      currency: 'EUR',
    }
    const answer = await api<{ accepted: number }>('/v1/ingest/transactions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([deposit]),
    })
    expect(answer.accepted).toBe(1)
    // Cash in the base currency raises the wealth by the amount, to the cent.
    const expected = money(
      dec(before.overview?.totalWealth ?? '0')
        .plus('1234.56')
        .toString(),
      'EUR',
      LOCALE,
    )
    expect(
      await eventually(
        () => text('kpi-wealth'),
        (t) => t === expected,
        60_000,
      ),
    ).toBe(expected)
    expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true)
    expect(await pnl.getAttribute('aria-sort')).toBe('descending')
    expect(await text('transactions-table')).toContain(deposit.transactionId)
    await shot('after-deposit')
  }, 60_000)

  test('a CSV dropped on the page shows each rejected row as the ingest API gives it', async () => {
    const csv = [
      'securityId,date,price,currency',
      'SAP,2025-12-31,150.5,EUR',
      'SAP,2025-12-31,abc,EUR',
      ',2025-12-31,1,EUR',
    ].join('\n')
    // The same file straight to the API: the page must show exactly this.
    const direct = await api<{ rejected: { index: number; field: string; message: string }[] }>('/v1/ingest/prices', {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: csv,
    })
    expect(direct.rejected.length).toBeGreaterThanOrEqual(2)
    await page.goto(`${url}/`)
    await page.getByTestId('portfolio-list').waitFor()
    await page.evaluate((content) => {
      const data = new DataTransfer()
      data.items.add(new File([content], 'prices.csv', { type: 'text/csv' }))
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }))
    }, csv)
    await page.getByTestId('upload-errors').waitFor()
    const rows = await page
      .locator('[data-testid=upload-errors] tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)))
    expect(rows).toEqual(direct.rejected.map((r) => [String(r.index), String(r.index + 2), r.field, r.message]))
    expect(await text('upload-result')).toContain('1 accepted')
    await shot('upload')
  }, 60_000)

  test('sortable with the keyboard', async () => {
    await page.goto(`${url}/`)
    const wealth = page.locator('[data-testid=portfolio-list] th', { hasText: 'Wealth' })
    await wealth.locator('button').focus()
    await page.keyboard.press('Enter')
    const sorted = () => wealth.getAttribute('aria-sort')
    expect(await eventually(sorted, (v) => v === 'descending')).toBe('descending')
    await page.keyboard.press('Enter')
    expect(await eventually(sorted, (v) => v === 'ascending')).toBe('ascending')
  }, 60_000)

  test('axe-core finds no accessibility violations, light or dark', async () => {
    const axe = await Bun.file(join(repo, 'node_modules/axe-core/axe.min.js')).text()
    const violations = async () => {
      await page.addScriptTag({ content: axe })
      return page.evaluate(async () => {
        const run = (
          window as unknown as {
            axe: { run: () => Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> }
          }
        ).axe.run
        return (await run()).violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
      })
    }
    for (const theme of ['light', 'dark']) {
      await page.goto(`${url}/`)
      await page.evaluate((t) => localStorage.setItem('pas.theme', t), theme)
      await page.reload()
      await page.locator('[data-testid=portfolio-list] tbody tr').first().waitFor()
      expect(await violations()).toEqual([])
      await page.goto(`${url}/#/p/DEMO-INCOME`)
      await page.locator('[data-testid=chart-allocation] canvas').waitFor()
      expect(await violations()).toEqual([])
      await shot(`portfolio-${theme}`)
    }
  }, 60_000)

  test('once keys are required, the page asks for one and keeps it for the tab', async () => {
    const created = Bun.spawnSync(['bun', 'src/main.ts', 'keys', 'create', '--name', 'dashboard', '--scopes', 'read'], {
      cwd: repo,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.url, PAS_DATA_DIR: dataDir },
    })
    const key = /pas_\S+/.exec(created.stdout.toString())?.[0]
    expect(key, created.stderr.toString()).toBeDefined()
    // The server notices that a key exists within its key cache's lifetime (KEY_CACHE_MS).
    const context = await browser.newContext({ locale: LOCALE })
    const fresh = await context.newPage()
    const status = () => fetch(`${url}/v1/portfolios`).then((r) => r.status)
    expect(await eventually(status, (s) => s === 401, 20_000)).toBe(401)
    await fresh.goto(`${url}/`)
    await fresh.getByRole('dialog').waitFor()
    await fresh.getByLabel(/Key/).fill(key ?? '')
    await fresh.getByRole('button', { name: 'Use key' }).click()
    await fresh.locator('[data-testid=portfolio-list] tbody tr').first().waitFor()
    expect(await fresh.evaluate(() => sessionStorage.getItem('pas.apiKey'))).toBe(key ?? '')
    await context.close()
  }, 60_000)
})
