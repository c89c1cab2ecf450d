/**
 * The domain engine on one core: transactions folded per second (recompute from the start) and
 * position-days valued per second, plus portfolio series points per second.
 *
 *   bun bench/domain.bench.ts [--portfolios 100] [--transactions 1000] [--valued 20] [--runs 3]
 *
 * Each portfolio: USD base, 20 instruments (half USD, half EUR), 5 years of business days with a
 * price per instrument per day and EUR/USD daily; transactions are a seeded mix of deposits,
 * buys, sells, dividends and fees. Valuation runs over every position of the first `valued`
 * portfolios, every business day from its first holding day. Median of the runs; JSON goes to
 * bench/results/domain-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { businessDays, fromEpochDay, toEpochDay } from '../src/domain/dates.ts'
import { FxTable, PriceTable } from '../src/domain/market-data.ts'
import { recompute } from '../src/domain/positions.ts'
import type { FxRate, Instrument, Portfolio, Price, Transaction } from '../src/domain/records.ts'
import { portfolioSeries } from '../src/domain/timeseries.ts'
import { valueDays } from '../src/domain/valuation.ts'

const { values: args } = parseArgs({
  options: {
    portfolios: { type: 'string', default: '100' },
    transactions: { type: 'string', default: '1000' },
    valued: { type: 'string', default: '20' },
    runs: { type: 'string', default: '3' },
  },
})
const PORTFOLIOS = Number(args.portfolios)
const TXNS = Number(args.transactions)
const VALUED = Number(args.valued)
const RUNS = Number(args.runs)

let seed = 42
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
  return seed / 2_147_483_648
}
const first = toEpochDay('2020-01-01')
const last = toEpochDay('2024-12-31')
const days = businessDays(first, last)
const instruments = new Map<string, Instrument>(
  Array.from({ length: 20 }, (_, i) => [
    `S${i}`,
    { securityId: `S${i}`, name: `Stock ${i}`, currency: i % 2 ? 'EUR' : 'USD' },
  ]),
)
const prices: Price[] = []
const fxRates: FxRate[] = []
for (const [id, inst] of instruments) {
  let p = 50 + random() * 100
  for (const d of days) {
    p *= 1 + (random() - 0.5) * 0.02
    prices.push({ securityId: id, date: fromEpochDay(d), price: p.toFixed(4), currency: inst.currency })
  }
}
let rate = 1.1
for (const d of days) {
  rate *= 1 + (random() - 0.5) * 0.006
  fxRates.push({ from: 'EUR', to: 'USD', date: fromEpochDay(d), rate: rate.toFixed(6) })
}
const fx = FxTable.of(fxRates)
const priceTable = PriceTable.of(prices)

function transactionsOf(portfolioId: string): Transaction[] {
  const out: Transaction[] = []
  const held = new Map<string, number>()
  for (let i = 0; i < TXNS; i++) {
    const day = fromEpochDay(days[Math.floor((i / TXNS) * days.length)] as number)
    const id = `S${Math.floor(random() * 20)}`
    const currency = (instruments.get(id) as Instrument).currency
    const base = { transactionId: `${portfolioId}-${i}`, portfolioId, tradeDate: day }
    const r = random()
    const qty = Math.floor(random() * 100) + 1
    if (i % 50 === 0) out.push({ ...base, type: 'DEPOSIT', currency: 'USD', grossAmount: '250000' })
    else if (r < 0.55 || (held.get(id) ?? 0) < qty) {
      out.push({
        ...base,
        type: 'BUY',
        securityId: id,
        currency,
        quantity: String(qty),
        price: (50 + random() * 100).toFixed(2),
        fee: '4.95',
      })
      held.set(id, (held.get(id) ?? 0) + qty)
    } else if (r < 0.85) {
      out.push({
        ...base,
        type: 'SELL',
        securityId: id,
        currency,
        quantity: String(qty),
        price: (50 + random() * 100).toFixed(2),
        fee: '4.95',
      })
      held.set(id, (held.get(id) ?? 0) - qty)
    } else if (r < 0.95)
      out.push({ ...base, type: 'DIVIDEND', securityId: id, currency, grossAmount: (random() * 500).toFixed(2) })
    else out.push({ ...base, type: 'FEE', currency: 'USD', grossAmount: '12.50' })
  }
  return out
}

const portfolios = Array.from({ length: PORTFOLIOS }, (_, i) => {
  const portfolio: Portfolio = {
    portfolioId: `P${i}`,
    baseCurrency: 'USD',
    openDate: '2020-01-01',
    costMethod: i % 2 ? 'AVCO' : 'FIFO',
  }
  return { portfolio, txns: transactionsOf(portfolio.portfolioId) }
})
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const progress = (m: string) => process.stderr.write(`${m}\n`)

const foldRates: number[] = []
const valueRates: number[] = []
const seriesRates: number[] = []
let rejected = 0
for (let run = 1; run <= RUNS; run++) {
  let t0 = performance.now()
  const folds = portfolios.map(({ portfolio, txns }) => recompute([], txns, { portfolio, instruments, fx }))
  const foldS = (performance.now() - t0) / 1000
  rejected = folds.reduce((n, f) => n + f.rejections.length, 0)
  foldRates.push((PORTFOLIOS * TXNS) / foldS)

  t0 = performance.now()
  let positionDays = 0
  const valuedSets = []
  for (let p = 0; p < VALUED; p++) {
    const { portfolio } = portfolios[p] as (typeof portfolios)[number]
    const rows = (folds[p] as (typeof folds)[number]).rows
    const byPosition = Map.groupBy(rows, (r) => r.positionId)
    const valuations = [...byPosition.values()].flatMap((history) =>
      valueDays(history, first, last, { portfolio, prices: priceTable, fx }),
    )
    positionDays += valuations.length
    valuedSets.push(valuations)
  }
  const valueS = (performance.now() - t0) / 1000
  valueRates.push(positionDays / valueS)

  t0 = performance.now()
  let points = 0
  valuedSets.forEach((valuations, p) => {
    const cashflows = (folds[p] as (typeof folds)[number]).cashflows
    points += portfolioSeries(`P${p}`, valuations, cashflows, first, last).length
  })
  seriesRates.push(points / ((performance.now() - t0) / 1000))
  progress(
    `run ${run}: fold ${foldRates.at(-1)?.toFixed(0)} txn/s, valuation ${valueRates.at(-1)?.toFixed(0)} position-days/s (${positionDays}), series ${seriesRates.at(-1)?.toFixed(0)} points/s`,
  )
}

const result = {
  bench: 'domain',
  at: new Date().toISOString(),
  bun: Bun.version,
  portfolios: PORTFOLIOS,
  transactionsPerPortfolio: TXNS,
  rejected,
  foldTransactionsPerS: median(foldRates),
  valuedPositionDaysPerS: median(valueRates),
  portfolioSeriesPointsPerS: median(seriesRates),
}
console.log(`\nfold            ${Math.round(result.foldTransactionsPerS).toLocaleString('en-US')} transactions/s`)
console.log(`valuation       ${Math.round(result.valuedPositionDaysPerS).toLocaleString('en-US')} position-days/s`)
console.log(`portfolio series ${Math.round(result.portfolioSeriesPointsPerS).toLocaleString('en-US')} points/s`)
console.log(
  `(one core, median of ${RUNS}; ${PORTFOLIOS} × ${TXNS} transactions, ${rejected} rejected by design of the mix)`,
)
mkdirSync(`${import.meta.dir}/results`, { recursive: true })
const file = `${import.meta.dir}/results/domain-${result.at.replace(/[:.]/g, '-')}.json`
writeFileSync(file, JSON.stringify(result, null, 2))
console.log(`written ${file}`)
