import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { dec } from '../domain/money.ts'
import { positionValuations } from '../query/position-days.ts'
import { freshDatabase } from '../testing/infra.ts'
import type { ScratchDatabase } from '../testing/local-infra.ts'

const repo = resolve(import.meta.dir, '../..')

/**
 * `pas demo --headless`, as the README's first command runs it but stopping after the review: it
 * loads the sample set through its own ingest API, waits for the pipeline, prints a review per
 * portfolio and exits 0. The database outlives it, so the printed figures are checked against the
 * stored rows, computed here independently (SQL sums, and the daily returns linked by hand).
 */
describe('pas demo --headless', () => {
  let db: ScratchDatabase
  let stdout = ''
  let stderr = ''
  let code: number | null = null
  const dataDir = mkdtempSync(join(tmpdir(), 'pas-demo-'))

  beforeAll(async () => {
    db = await freshDatabase('demo')
    const proc = Bun.spawn(['bun', 'src/main.ts', 'demo', '--headless', '--port', '0'], {
      cwd: repo,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.url, PAS_LOG_LEVEL: 'info', PAS_DATA_DIR: dataDir },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    ;[stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
    code = await proc.exited
  }, 300_000)
  afterAll(async () => {
    await db?.drop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  test('exits 0 after loading, with progress on stderr and the URLs on stdout', () => {
    expect(code, stderr).toBe(0)
    expect(stderr).toContain('loaded 90 transactions')
    expect(stderr).toMatch(/series 3\/3/)
    expect(stdout).toMatch(/docs\s+http:\/\/127\.0\.0\.1:\d+\/docs/)
    // The dashboard's URL is the first line, before the sample set is loaded.
    expect(stdout.split('\n')[0]).toMatch(/^dashboard http:\/\/127\.0\.0\.1:\d+\/$/)
  })

  test("the terminal has no log lines: they are JSON lines in the data folder's demo.log", () => {
    expect(stderr.split('\n').filter((line) => line.trimStart().startsWith('{'))).toEqual([])
    const logged = readFileSync(join(dataDir, 'demo.log'), 'utf8').trim().split('\n')
    expect(logged.length).toBeGreaterThan(0)
    for (const line of logged) expect(JSON.parse(line)).toHaveProperty('level')
    expect(stdout).toContain(`logs     ${join(dataDir, 'demo.log')}`)
  })

  test('progress shows no stage count until every input is stored', () => {
    const lines = stderr.split(/[\r\n]/).filter((l) => l.startsWith('processing:'))
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines) {
      const [, t, tAll, p, pAll] = line.match(/transactions (\d+)\/(\d+), prices (\d+)\/(\d+)/) ?? []
      const complete = t === tAll && p === pAll
      expect(line.includes('waiting for input'), line).toBe(!complete)
    }
  })

  const block = (id: string) => stdout.split('\n\n').find((b) => b.includes(`${id}  `)) ?? ''
  const figure = (text: string, label: string) => {
    const m = text.match(new RegExp(`${label} (-?[\\d,]+\\.\\d\\d)`))
    return m ? Number((m[1] as string).replaceAll(',', '')) : Number.NaN
  }

  test('each portfolio’s wealth and cash are the sums of its position-days on the business date', async () => {
    for (const id of ['DEMO-GROWTH', 'DEMO-INCOME', 'DEMO-BALANCED']) {
      const days = await positionValuations(db.sql, id, '2025-12-31', '2025-12-31')
      const sum = (rows: typeof days) => rows.reduce((a, v) => a.plus(dec(v.marketValueBase ?? '0')), dec(0))
      const wealth = sum(days)
      const cash = sum(days.filter((v) => v.positionId.startsWith('CASH:')))
      expect(figure(block(id), 'wealth')).toBe(Number(wealth.toFixed(2)))
      expect(figure(block(id), 'cash')).toBe(Number(cash.toFixed(2)))
      // The valuation stage stored the same sum for the day.
      const [stored] = await db.sql`select emv_base::text as e from portfolio_values where portfolio_id = ${id}
                                    and date = '2025-12-31'`
      expect(dec(stored?.e ?? 'NaN').eq(wealth)).toBe(true)
    }
  })

  test('the YTD TWR printed is the stored series linked day by day (flows as recorded)', async () => {
    const days = await db.sql<{ bmv: string; emv: string; sod: string; eod: string }[]>`
      select bmv_base::text as bmv, emv_base::text as emv, sod_flow_base::text as sod, eod_flow_base::text as eod
      from portfolio_series where portfolio_id = 'DEMO-INCOME' and date between '2025-01-01' and '2025-12-31' order by date`
    expect(days.length).toBe(260) // every weekday of 2025 from the first deposit on 2 January
    let growth = 1
    for (const d of days) {
      const [bmv, emv, sod, eod] = [d.bmv, d.emv, d.sod, d.eod].map(Number) as [number, number, number, number]
      growth *= 1 + (emv - bmv - sod - eod) / (bmv + sod)
    }
    const printed = block('DEMO-INCOME').match(/YTD (-?\d+\.\d\d)%/)?.[1]
    expect(printed).toBe(((growth - 1) * 100).toFixed(2))
  })

  test('the cancelled purchase left no trace, and AVCO applies to the CHF portfolio', async () => {
    const [jpm] = await db.sql<{ quantity: string }[]>`
      select quantity::text as quantity from position_history
      where portfolio_id = 'DEMO-BALANCED' and position_id = 'JPM' order by date desc, seq desc limit 1`
    expect(jpm?.quantity).toBe('400')
    const [rejected] = await db.sql<{ n: number }[]>`select count(*)::int as n from transaction_rejections`
    expect(rejected?.n).toBe(0)
    // AVCO: DEMO-INCOME bought NOVN twice (800 on Jan 3, 200 on Oct 1, at different closes). Average
    // cost keeps one pooled lot of 1,000 whose cost is what both purchases paid (their cashflows,
    // price × quantity + fee each); FIFO would keep two lots.
    const [novn] = await db.sql<{ lots: { quantity: string; costLocal: string }[]; cost: string }[]>`
      select lots, cost_local::text as cost from position_history
      where portfolio_id = 'DEMO-INCOME' and position_id = 'NOVN' order by date desc, seq desc limit 1`
    const [paid] = await db.sql<{ total: string }[]>`
      select (-sum(amount_local))::text as total from cashflows where transaction_id in ('I-0008', 'I-0027')`
    expect(novn?.lots.map((l) => l.quantity)).toEqual(['1000'])
    expect(novn?.cost).toBe(paid?.total as string)
    expect(novn?.lots[0]?.costLocal).toBe(paid?.total as string)
  })
})
