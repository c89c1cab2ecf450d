/**
 * Synthetic data for the benchmark harness: deterministic from a seed, and streamed in chunks so
 * that no size is ever held in memory whole (only the price paths, as one Float64Array, and a
 * quantity tally per position for the reconciliation).
 *
 *   bun bench/generator.ts --size small|medium|large|decade [--seed 1] [--out DIR]   counts, or files for `pas ingest`
 *
 * What each portfolio does, over the business days of the size's window ending 2025-12-31:
 * - day 1: a deposit in its base currency and in each other currency it trades, then it buys its
 *   positions (about 10,000 of base currency each) over the first five days;
 * - every 21 business days: one buy or sell (a sell takes at most half the holding), and a fee;
 * - every 63 business days: a dividend on a third of its positions (0.5 % of their value, 15 %
 *   withheld), and alternately a deposit or a withdrawal.
 * Market data: a daily price per instrument (a seeded walk), EUR/USD, EUR/CHF and USD/CHF rates.
 * Realistic mess at the end: 1 % of buys corrected (quantity + 1) after everything else, 0.5 % of
 * prices sent late, and 0.5 % sent wrong (+5 %) and corrected late.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { seeded, walk } from '../src/demo/sample.ts'
import { businessDays, fromEpochDay, toEpochDay } from '../src/domain/dates.ts'

export const Sizes = {
  small: { portfolios: 20, positions: 8, instruments: 30, days: 65 },
  medium: { portfolios: 500, positions: 20, instruments: 150, days: 260 },
  large: { portfolios: 10_000, positions: 50, instruments: 2_000, days: 1_300 },
  /** One portfolio over ten years, for the dashboard's page-load figures (bench/dashboard.bench.ts). */
  decade: { portfolios: 1, positions: 50, instruments: 60, days: 2_610 },
} as const
export type Size = keyof typeof Sizes

export type Kind = 'portfolios' | 'instruments' | 'prices' | 'fx-rates' | 'business-dates' | 'transactions'
export type Phase = 'reference' | 'market' | 'transactions' | 'late'
export type Chunk = { phase: Phase; kind: Kind; records: Record<string, unknown>[]; portfolioIds?: string[] }

const CURRENCIES = ['USD', 'EUR', 'CHF'] as const
const END = '2025-12-31'
const CHUNK = 5_000

/** What the data implies, for the harness to reconcile the stored results against. */
export type Expected = {
  transactions: number
  /** Final quantity per `${portfolioId}|${securityId}` (every correction applied). */
  quantities: Map<string, number>
  /** Business days each portfolio's series must cover: every day of the window. */
  seriesDays: number
  firstDay: string
  businessDate: string
  prices: number
  positionDays: number
}

export class Synthetic {
  readonly size: { portfolios: number; positions: number; instruments: number; days: number }
  readonly days: string[]
  readonly expected: Expected
  /** Price paths, instrument-major: paths[i * days + d]. */
  readonly #paths: Float64Array
  readonly #seed: number

  /** `portfolios` runs the size's shape (positions, instruments, days) with fewer or more portfolios. */
  constructor(size: Size, seed = 1, portfolios?: number) {
    this.size = { ...Sizes[size], ...(portfolios ? { portfolios } : {}) }
    this.#seed = seed
    const end = toEpochDay(END)
    const all = businessDays(end - Math.ceil(this.size.days * 1.5) - 10, end).map(fromEpochDay)
    this.days = all.slice(-this.size.days)
    const random = seeded(seed)
    const n = this.days.length
    this.#paths = new Float64Array(this.size.instruments * n)
    for (let i = 0; i < this.size.instruments; i++) {
      const path = walk(random, 20 + random() * 180, 0.06, 0.15 + random() * 0.2, n)
      this.#paths.set(path, i * n)
    }
    this.expected = {
      transactions: 0,
      quantities: new Map(),
      seriesDays: n,
      firstDay: this.days[0] as string,
      businessDate: END,
      prices: this.size.instruments * n,
      positionDays: 0,
    }
  }

  price(instrument: number, day: number): number {
    return this.#paths[instrument * this.days.length + day] as number
  }

  static currencyOf(instrument: number): string {
    return CURRENCIES[instrument % 3] as string
  }

  static baseOf(portfolio: number): string {
    return CURRENCIES[(portfolio + 1) % 3] as string
  }

  /** Every chunk, in the order a feed would send them; fills `expected` as it goes. */
  *chunks(): Generator<Chunk> {
    const { size, days } = this
    const n = days.length
    yield* batches('reference', 'instruments', size.instruments, (i) => ({
      securityId: `SEC${i}`,
      name: `Security ${i}`,
      currency: Synthetic.currencyOf(i),
      assetClass: ['Equity', 'Fixed Income', 'Fund'][i % 3],
      sector: ['Technology', 'Health Care', 'Financials', 'Energy', 'Industrials'][i % 5],
      countryOfRisk: ['US', 'DE', 'CH', 'FR', 'GB', 'JP'][i % 6],
      issuerId: `ISS${i % Math.max(1, Math.floor(size.instruments / 3))}`,
    }))
    yield* batches('reference', 'portfolios', size.portfolios, (p) => ({
      portfolioId: `BP${p}`,
      baseCurrency: Synthetic.baseOf(p),
      openDate: days[0],
      costMethod: p % 4 === 3 ? 'AVCO' : 'FIFO',
      clientId: `C${p % 97}`,
    }))

    // Market data, day by day; some prices held back (late) or sent wrong (corrected late).
    const random = seeded(this.#seed + 7)
    const late: Record<string, unknown>[] = []
    let prices: Record<string, unknown>[] = []
    for (let d = 0; d < n; d++) {
      for (let i = 0; i < size.instruments; i++) {
        const record = {
          securityId: `SEC${i}`,
          date: days[d],
          price: this.price(i, d).toFixed(4),
          currency: Synthetic.currencyOf(i),
        }
        const roll = d === 0 ? 1 : random() // the first day always arrives on time
        if (roll < 0.005) late.push(record)
        else if (roll < 0.01) {
          prices.push({ ...record, price: (this.price(i, d) * 1.05).toFixed(4) })
          late.push(record)
        } else prices.push(record)
        if (prices.length >= CHUNK) {
          yield { phase: 'market', kind: 'prices', records: prices }
          prices = []
        }
      }
    }
    if (prices.length > 0) yield { phase: 'market', kind: 'prices', records: prices }
    const fxWalks = [
      ['EUR', 'USD', walk(random, 1.08, 0.0, 0.07, n)],
      ['EUR', 'CHF', walk(random, 0.95, 0.0, 0.05, n)],
    ] as const
    const fx: Record<string, unknown>[] = []
    for (const [from, to, path] of fxWalks) {
      path.forEach((rate, d) => {
        fx.push({ from, to, date: days[d], rate: rate.toFixed(6) })
      })
    }
    fxWalks[0][2].forEach((usd, d) => {
      fx.push({ from: 'USD', to: 'CHF', date: days[d], rate: ((fxWalks[1][2][d] as number) / usd).toFixed(6) })
    })
    yield* chunked('market', 'fx-rates', fx)
    yield { phase: 'market', kind: 'business-dates', records: [{ date: END }] }

    // Transactions, a few portfolios at a time; corrections kept for the end.
    const corrections: Record<string, unknown>[] = []
    let pending: Record<string, unknown>[] = []
    let ids: string[] = []
    for (let p = 0; p < size.portfolios; p++) {
      const { records, corrected } = this.#portfolio(p)
      pending.push(...records)
      corrections.push(...corrected)
      ids.push(`BP${p}`)
      if (pending.length >= CHUNK) {
        yield { phase: 'transactions', kind: 'transactions', records: pending, portfolioIds: ids }
        pending = []
        ids = []
      }
    }
    if (pending.length > 0) yield { phase: 'transactions', kind: 'transactions', records: pending, portfolioIds: ids }
    yield* chunked('late', 'transactions', corrections)
    yield* chunked('late', 'prices', late)
  }

  /** One portfolio's transactions, and the corrections to send later (tallied as final). */
  #portfolio(p: number) {
    const { size, days, expected } = this
    const random = seeded(this.#seed * 1_000_003 + p)
    const base = Synthetic.baseOf(p)
    const held = new Set<number>()
    while (held.size < Math.min(size.positions, size.instruments)) held.add(Math.floor(random() * size.instruments))
    const instruments = [...held]
    const quantity = new Map<number, number>()
    const records: Record<string, unknown>[] = []
    const corrected: Record<string, unknown>[] = []
    let seq = 0
    const add = (d: number, fields: Record<string, unknown>) => {
      const t = { transactionId: `BP${p}-${seq++}`, portfolioId: `BP${p}`, tradeDate: days[d], ...fields }
      records.push(t)
      expected.transactions++
      return t
    }
    const trade = (d: number, type: 'BUY' | 'SELL', i: number, q: number) => {
      const t = add(d, {
        type,
        securityId: `SEC${i}`,
        quantity: String(q),
        price: this.price(i, d).toFixed(4),
        currency: Synthetic.currencyOf(i),
        fee: '5',
      })
      quantity.set(i, (quantity.get(i) ?? 0) + (type === 'BUY' ? q : -q))
      if (type === 'BUY' && random() < 0.01) {
        corrected.push({ ...t, quantity: String(q + 1) })
        quantity.set(i, (quantity.get(i) ?? 0) + 1)
      }
    }
    // Money first: enough of each currency for the initial purchases, with a margin.
    for (const c of new Set([base, ...instruments.map(Synthetic.currencyOf)])) {
      add(0, { type: 'DEPOSIT', grossAmount: String(instruments.length * 20_000), currency: c })
    }
    instruments.forEach((i, k) => {
      const d = Math.min(k % 5, days.length - 1)
      trade(d, 'BUY', i, Math.max(1, Math.round(10_000 / this.price(i, d))))
    })
    for (let d = 21; d < days.length; d += 21) {
      const i = instruments[Math.floor(random() * instruments.length)] as number
      const holding = quantity.get(i) ?? 0
      if (random() < 0.5 && holding >= 2) trade(d, 'SELL', i, Math.max(1, Math.floor((holding / 2) * random())))
      else trade(d, 'BUY', i, 1 + Math.floor(random() * 20))
      add(d, { type: 'FEE', grossAmount: '25', currency: base })
    }
    for (let d = 63, k = 0; d < days.length; d += 63, k++) {
      for (const i of instruments.filter((_, j) => j % 3 === k % 3)) {
        const gross = (quantity.get(i) ?? 0) * this.price(i, d) * 0.005
        if (gross >= 0.01) {
          const fields = { type: 'DIVIDEND', securityId: `SEC${i}`, currency: Synthetic.currencyOf(i) }
          add(d, { ...fields, grossAmount: gross.toFixed(2), fee: (gross * 0.15).toFixed(2) })
        }
      }
      add(d, { type: k % 2 === 0 ? 'DEPOSIT' : 'WITHDRAWAL', grossAmount: '5000', currency: base })
    }
    for (const [i, q] of quantity) expected.quantities.set(`BP${p}|SEC${i}`, q)
    return { records, corrected }
  }
}

function* batches(phase: Phase, kind: Kind, count: number, make: (i: number) => Record<string, unknown>) {
  for (let i = 0; i < count; i += CHUNK) {
    yield { phase, kind, records: Array.from({ length: Math.min(CHUNK, count - i) }, (_, k) => make(i + k)) }
  }
}

function* chunked(phase: Phase, kind: Kind, records: Record<string, unknown>[]) {
  for (let i = 0; i < records.length; i += CHUNK) yield { phase, kind, records: records.slice(i, i + CHUNK) }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: 'small' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
    },
  })
  if (!(values.size in Sizes)) throw new Error(`--size: one of ${Object.keys(Sizes).join(', ')}`)
  const synthetic = new Synthetic(values.size as Size, Number(values.seed))
  const counts = new Map<string, number>()
  let part = 0
  if (values.out) mkdirSync(values.out, { recursive: true })
  for (const chunk of synthetic.chunks()) {
    const key = `${chunk.phase} ${chunk.kind}`
    counts.set(key, (counts.get(key) ?? 0) + chunk.records.length)
    if (values.out) {
      const file = join(values.out, `${chunk.kind}-${String(part++).padStart(5, '0')}-${chunk.phase}.json`)
      writeFileSync(file, JSON.stringify(chunk.records))
    }
  }
  for (const [key, n] of counts) console.log(`${key.padEnd(26)} ${n}`)
  console.log(`${'positions'.padEnd(26)} ${synthetic.expected.quantities.size}`)
  console.log(`${'business days'.padEnd(26)} ${synthetic.days.length} (${synthetic.days[0]} to ${END})`)
}
