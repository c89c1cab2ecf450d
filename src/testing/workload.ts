import { expect } from 'bun:test'
import type { Sql } from '../adapters/pg-client.ts'
import { FxTable } from '../domain/market-data.ts'
import { recompute } from '../domain/positions.ts'
import type { Instrument, Portfolio, Transaction } from '../domain/records.ts'
import { applyCancels } from '../domain/transactions.ts'

/**
 * A deterministic book for the crash and outage tests: `portfolios` × `perPortfolio` transactions
 * over 10 USD instruments in Q1 2025: deposits, buys and sells (some sells beyond the holding,
 * rejected by design). `prefix` makes the ids of one test run its own.
 */
export function book(portfolioCount: number, perPortfolio: number, prefix = '') {
  const instruments: Instrument[] = Array.from({ length: 10 }, (_, i) => ({
    securityId: `${prefix}S${i}`,
    name: `Stock ${i}`,
    currency: 'USD',
  }))
  const portfolios: Portfolio[] = Array.from({ length: portfolioCount }, (_, i) => ({
    portfolioId: `${prefix}P${i}`,
    baseCurrency: 'USD',
    openDate: '2025-01-01',
    costMethod: i % 2 === 0 ? 'FIFO' : 'AVCO',
  }))
  const transactions: Transaction[] = portfolios.flatMap((p, pi) =>
    Array.from({ length: perPortfolio }, (_, i): Transaction => {
      const day = `2025-0${1 + Math.floor(i / 70)}-${String(1 + (i % 28)).padStart(2, '0')}`
      const base = {
        transactionId: `${p.portfolioId}-T${i}`,
        portfolioId: p.portfolioId,
        tradeDate: day,
        currency: 'USD',
      }
      if (i % 25 === 0) return { ...base, type: 'DEPOSIT', grossAmount: '100000' }
      const securityId = `${prefix}S${(pi + i) % 10}`
      const quantity = String(1 + ((pi * 7 + i * 13) % 40))
      const price = `${50 + ((pi + i * 3) % 50)}.${String(i % 100).padStart(2, '0')}`
      return { ...base, type: i % 3 === 2 ? 'SELL' : 'BUY', securityId, quantity, price, fee: '1.25' }
    }),
  )
  return { instruments, portfolios, transactions }
}
export type Book = ReturnType<typeof book>

/**
 * A close for every instrument of the book on every day of Q1 2025 (weekends too, as feeds send
 * them), so valuations and series run to 2025-03-31: 60 + the instrument's index + day mod 7, and
 * `cents` after the point.
 */
export function dailyCloses({ instruments }: Book, cents = '50') {
  return instruments.flatMap((i, n) =>
    Array.from({ length: 90 }, (_, d) => ({
      securityId: i.securityId,
      date: new Date(Date.UTC(2025, 0, 1 + d)).toISOString().slice(0, 10),
      price: `${60 + n + (d % 7)}.${cents}`,
      currency: 'USD',
    })),
  )
}

export type PositionTotals = { rows: number; cashflows: number; rejections: number; finals: Map<string, string> }

/** What the engine computes from the same inputs, portfolio by portfolio: the rows pas must hold. */
export function expectedPositions({ instruments, portfolios, transactions }: Book): PositionTotals {
  const byId = new Map(instruments.map((i) => [i.securityId, i]))
  const totals: PositionTotals = { rows: 0, cashflows: 0, rejections: 0, finals: new Map() }
  for (const portfolio of portfolios) {
    const mine = transactions.filter((t) => t.portfolioId === portfolio.portfolioId)
    const r = recompute([], applyCancels(mine).active, { portfolio, instruments: byId, fx: FxTable.of([]) })
    totals.rows += r.rows.length
    totals.cashflows += r.cashflows.length
    totals.rejections += r.rejections.length
    for (const row of r.rows)
      totals.finals.set(`${row.portfolioId}/${row.positionId}`, `${row.quantity}|${row.costLocal}|${row.realizedLocal}`)
  }
  return totals
}

/** The same figures as stored (only portfolios whose id starts with `prefix`, when given). */
export async function storedPositions(sql: Sql, prefix = ''): Promise<PositionTotals> {
  const like = `${prefix}%`
  const [counts] = await sql`
    select (select count(*)::int from position_history where portfolio_id like ${like}) as rows,
           (select count(*)::int from cashflows where portfolio_id like ${like}) as cashflows,
           (select count(*)::int from transaction_rejections where portfolio_id like ${like}) as rejections`
  const last = await sql`
    select distinct on (portfolio_id, position_id) portfolio_id, position_id, quantity::text as q,
           cost_local::text as c, realized_local::text as r
    from position_history where portfolio_id like ${like} order by portfolio_id, position_id, date desc, seq desc`
  return {
    rows: counts?.rows as number,
    cashflows: counts?.cashflows as number,
    rejections: counts?.rejections as number,
    finals: new Map(last.map((l) => [`${l.portfolio_id}/${l.position_id}`, `${l.q}|${l.c}|${l.r}`])),
  }
}

/** Posts `records` to a running ingest API in chunks of 1,000, expecting 202 for each. */
export async function post(url: string, path: string, records: unknown[], headers: Record<string, string> = {}) {
  for (let i = 0; i < records.length; i += 1000) {
    const res = await fetch(`${url}/v1/ingest/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(records.slice(i, i + 1000)),
    })
    expect(res.status).toBe(202)
  }
}
