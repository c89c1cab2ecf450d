import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { PgLog } from '../adapters/pg-log.ts'
import { freshDatabase } from '../testing/infra.ts'
import type { ScratchDatabase } from '../testing/local-infra.ts'
import { settles } from '../testing/pipeline.ts'
import { type PasProcess, spawnPas } from '../testing/processes.ts'
import { Topics } from '../topology.ts'
import { createTopics, ingestFiles, kindOf, listDeadLetters, replayDeadLetters, reprocess } from './ops.ts'

const repo = resolve(import.meta.dir, '../..')

/**
 * The operator tools against a running `pas --role all` (pg log, a scratch database): ingest
 * files, list and replay dead letters, reprocess a portfolio, create topics. They run in-process
 * here, the same functions `pas <tool>` runs; one test goes through the binary's command line.
 */
describe('operator tools', () => {
  let db: ScratchDatabase
  let pas: PasProcess
  let log: PgLog
  const dir = mkdtempSync(join(tmpdir(), 'pas-tools-'))
  const lines: string[] = []
  const out = (line: string) => lines.push(line)
  const count = async (query: string) => Number((await db.sql.unsafe(query))[0]?.n ?? 0)

  beforeAll(async () => {
    db = await freshDatabase('tools')
    pas = await spawnPas(['bun', 'src/main.ts', '--role', 'all', '--port', '0', '--partitions', '2'], {
      DATABASE_URL: db.url,
    })
    log = new PgLog(db.sql)
  }, 120_000)
  afterAll(async () => {
    await log?.close()
    pas?.proc.kill('SIGTERM')
    await pas?.proc.exited
    await db?.drop()
  })

  test('the kind of a file comes from --kind or its name', () => {
    expect(kindOf('/data/transactions-2025.csv', undefined)).toBe('transactions')
    expect(kindOf('fx-rates.json', undefined)).toBe('fx-rates')
    expect(kindOf('anything.csv', 'prices')).toBe('prices')
    expect(kindOf('notes.csv', undefined)).toBeUndefined()
  })

  test('ingest: JSON and CSV files reach the pipeline; a bad row is named by file and row', async () => {
    writeFileSync(
      join(dir, 'portfolios.json'),
      JSON.stringify([{ portfolioId: 'T1', baseCurrency: 'EUR', openDate: '2025-01-06' }]),
    )
    writeFileSync(join(dir, 'instruments.csv'), 'securityId,name,currency\nX,Stock X,EUR\n')
    writeFileSync(
      join(dir, 'prices.csv'),
      'securityId,date,price,currency\nX,2025-01-06,10,EUR\nX,2025-01-07,oops,EUR\nX,2025-01-08,12,EUR\n',
    )
    writeFileSync(join(dir, 'business-dates.json'), JSON.stringify([{ date: '2025-01-08' }]))
    writeFileSync(
      join(dir, 'transactions.csv'),
      'transactionId,portfolioId,type,tradeDate,securityId,quantity,price,grossAmount,currency\n' +
        'D1,T1,DEPOSIT,2025-01-06,,,,1000,EUR\nB1,T1,BUY,2025-01-06,X,10,10,,EUR\n',
    )
    const files = ['portfolios.json', 'instruments.csv', 'prices.csv', 'business-dates.json', 'transactions.csv']
    const code = await ingestFiles(
      files.map((f) => join(dir, f)),
      { url: pas.url, chunk: 2 },
      out,
    )
    expect(code).toBe(1) // one rejected row
    expect(lines).toContain(
      `${join(dir, 'prices.csv')}: row 3: price: expected price per unit: exact decimal string, at most 9 integer digits and 10 decimal places`,
    )
    expect(lines).toContain(`${join(dir, 'prices.csv')}: 2 prices accepted, 1 rejected`)
    await settles(() => count(`select count(*) as n from portfolio_series where portfolio_id = 'T1'`), 3)
  }, 60_000)

  test('dead letters: listed, replayed to their topic after a fix, then marked', async () => {
    // A price a former version refused (the payload is valid now), parked by the persist stage.
    const payload = JSON.stringify({
      kind: 'price',
      ingestId: 'old',
      record: { securityId: 'Y', date: '2025-01-06', price: '5', currency: 'EUR' },
    })
    await db.sql`insert into dead_letters (stage, topic, partition, "offset", key, payload, code, reason)
      values ('persist', ${Topics.rawPrices}, 0, 999999, 'Y', ${payload}, 'INVALID_RECORD', 'refused by an older rule')`
    lines.length = 0
    expect(await listDeadLetters(db.sql, { all: false }, out)).toBe(0)
    expect(lines.at(-1)).toBe('1 dead letter(s)')
    expect(lines[0]).toContain('refused by an older rule')
    expect(await replayDeadLetters(db.sql, log, {}, out)).toBe(2) // nothing named: refused
    expect(await replayDeadLetters(db.sql, log, { stage: 'any' }, out)).toBe(0)
    await settles(() => count(`select count(*) as n from prices where security_id = 'Y'`), 1)
    expect(await count('select count(*) as n from dead_letters where replayed_at is null')).toBe(0)
  }, 60_000)

  test('reprocess: lost valuations of a portfolio come back from the date given', async () => {
    const valuations = `select count(*) as n from portfolio_values where portfolio_id = 'T1'`
    const before = await count(valuations)
    expect(before).toBeGreaterThan(0)
    await db.sql`delete from portfolio_value_months where portfolio_id = 'T1'`
    expect(await reprocess(db.sql, log, { portfolioId: 'T1', from: '2025-01-06', security: 'NOPE' }, out)).toBe(2)
    expect(await reprocess(db.sql, log, { portfolioId: 'T1', from: '2025-02-30' }, out)).toBe(2)
    expect(await reprocess(db.sql, log, { portfolioId: 'T1', from: '2025-01-06', security: 'X' }, out)).toBe(0)
    await settles(() => count(valuations), before)
  }, 60_000)

  test('topics: creating them again changes nothing', async () => {
    lines.length = 0
    expect(await createTopics(log, 2, out)).toBe(0)
    expect(lines).toContain('raw.transactions       2 partitions')
  })

  test('through the command line: `pas dead-letters list` exits 0 and prints the count', async () => {
    const proc = Bun.spawn(['bun', 'src/main.ts', 'dead-letters', 'list', '--all'], {
      cwd: repo,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.url, PAS_LOG_LEVEL: 'warn' },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const text = await new Response(proc.stdout).text()
    expect(await proc.exited).toBe(0)
    expect(text).toContain('1 dead letter(s)')
    expect(text).toContain('replayed')
  }, 30_000)
})
