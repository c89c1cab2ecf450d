import { afterAll, describe, expect, test } from 'bun:test'
import { FxTable } from './domain/market-data.ts'
import { recompute } from './domain/positions.ts'
import type { Instrument, Portfolio, Transaction } from './domain/records.ts'
import { applyCancels } from './domain/transactions.ts'
import { freshDatabase } from './testing/infra.ts'
import { spawnPas } from './testing/processes.ts'

// pas as an operator runs it, from source here (the binary is smoke-tested in main.it.test.ts):
// one process with every role, the Postgres-backed log, small batches so there are many of them.
const db = await freshDatabase('crash')
afterAll(() => db.drop())

const startPas = () =>
  spawnPas(['bun', 'src/main.ts', '--role', 'all', '--port', '0', '--partitions', '4', '--batch-max-records', '200'], {
    DATABASE_URL: db.url,
  })

// 100 portfolios × 200 transactions over 10 instruments: deposits, buys and sells (some sells
// beyond the holding, rejected by design), in a deterministic mix.
const instruments: Instrument[] = Array.from({ length: 10 }, (_, i) => ({
  securityId: `S${i}`,
  name: `Stock ${i}`,
  currency: 'USD',
}))
const portfolios: Portfolio[] = Array.from({ length: 100 }, (_, i) => ({
  portfolioId: `P${i}`,
  baseCurrency: 'USD',
  openDate: '2025-01-01',
  costMethod: i % 2 === 0 ? 'FIFO' : 'AVCO',
}))
const transactions: Transaction[] = portfolios.flatMap((p, pi) =>
  Array.from({ length: 200 }, (_, i): Transaction => {
    const day = `2025-0${1 + Math.floor(i / 70)}-${String(1 + (i % 28)).padStart(2, '0')}`
    const base = {
      transactionId: `${p.portfolioId}-T${i}`,
      portfolioId: p.portfolioId,
      tradeDate: day,
      currency: 'USD',
    }
    if (i % 25 === 0) return { ...base, type: 'DEPOSIT', grossAmount: '100000' }
    const securityId = `S${(pi + i) % 10}`
    const quantity = String(1 + ((pi * 7 + i * 13) % 40))
    const price = `${50 + ((pi + i * 3) % 50)}.${String(i % 100).padStart(2, '0')}`
    return { ...base, type: i % 3 === 2 ? 'SELL' : 'BUY', securityId, quantity, price, fee: '1.25' }
  }),
)

/** What the engine computes from the same inputs, portfolio by portfolio: the rows pas must hold. */
function expected() {
  const byId = new Map(instruments.map((i) => [i.securityId, i]))
  let rows = 0
  let cashflows = 0
  let rejections = 0
  const finals = new Map<string, string>()
  for (const portfolio of portfolios) {
    const mine = transactions.filter((t) => t.portfolioId === portfolio.portfolioId)
    const r = recompute([], applyCancels(mine).active, { portfolio, instruments: byId, fx: FxTable.of([]) })
    rows += r.rows.length
    cashflows += r.cashflows.length
    rejections += r.rejections.length
    for (const row of r.rows)
      finals.set(`${row.portfolioId}/${row.positionId}`, `${row.quantity}|${row.costLocal}|${row.realizedLocal}`)
  }
  return { rows, cashflows, rejections, finals }
}

async function stored() {
  const [counts] = await db.sql`
    select (select count(*)::int from position_history) as rows, (select count(*)::int from cashflows) as cashflows,
           (select count(*)::int from transaction_rejections) as rejections`
  const last = await db.sql`
    select distinct on (portfolio_id, position_id) portfolio_id, position_id, quantity::text as q,
           cost_local::text as c, realized_local::text as r
    from position_history order by portfolio_id, position_id, date desc, seq desc`
  return {
    rows: counts?.rows as number,
    cashflows: counts?.cashflows as number,
    rejections: counts?.rejections as number,
    finals: new Map(last.map((l) => [`${l.portfolio_id}/${l.position_id}`, `${l.q}|${l.c}|${l.r}`])),
  }
}

async function post(url: string, path: string, records: unknown[]) {
  for (let i = 0; i < records.length; i += 1000) {
    const res = await fetch(`${url}/v1/ingest/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(records.slice(i, i + 1000)),
    })
    expect(res.status).toBe(202)
  }
}

describe('crash recovery', () => {
  test('SIGKILL in the middle of processing, then a restart: nothing lost, nothing doubled', async () => {
    const want = expected()
    const first = await startPas()
    await post(first.url, 'portfolios', portfolios)
    await post(first.url, 'instruments', instruments)
    await post(first.url, 'business-dates', [{ date: '2025-03-31' }])
    await post(first.url, 'transactions', transactions) // acknowledged: durable in the log

    // Kill it as soon as positions are being written, well before they are all there.
    let atKill = 0
    const killBy = Date.now() + 60_000
    while (Date.now() < killBy) {
      atKill = (await stored()).rows
      if (atKill > 0) break
      await Bun.sleep(5)
    }
    first.proc.kill('SIGKILL')
    await first.proc.exited
    expect(atKill).toBeGreaterThan(0)
    expect(atKill).toBeLessThan(want.rows)

    const second = await startPas()
    const deadline = Date.now() + 120_000
    let now = await stored()
    while (Date.now() < deadline && !(now.rows === want.rows && Bun.deepEquals(now.finals, want.finals))) {
      await Bun.sleep(250)
      now = await stored()
    }
    expect({ rows: now.rows, cashflows: now.cashflows, rejections: now.rejections }).toEqual({
      rows: want.rows,
      cashflows: want.cashflows,
      rejections: want.rejections,
    })
    expect(now.finals).toEqual(want.finals)
    second.proc.kill('SIGTERM')
    expect(await second.proc.exited).toBe(0)
  }, 240_000)
})
