import instrumentsCsv from '../../data/sample/instruments.csv' with { type: 'text' }
import market from '../../data/sample/market.json' with { type: 'json' }
import portfolios from '../../data/sample/portfolios.json' with { type: 'json' }
import transactionsCsv from '../../data/sample/transactions.csv' with { type: 'text' }
import { businessDays, fromEpochDay, toEpochDay } from '../domain/dates.ts'
import type { BenchmarkPoint, FxRate, Instrument, Portfolio, Price, Transaction } from '../domain/records.ts'
import { parseCsv } from '../http/csv.ts'

/**
 * The sample set of `pas demo` (data/sample/): three portfolios in EUR, CHF and USD, 30 instruments
 * with issuers, sectors and countries, and a year of transactions, all written by hand. A year of
 * daily prices, FX rates and benchmark levels is expanded from market.json by a seeded random walk,
 * identical on every machine, instead of being committed as 9,000 generated rows. Transactions
 * that leave `price` empty trade at that day's generated close. Imported as text and JSON so the
 * compiled binary carries it.
 */
export type Dataset = {
  portfolios: Portfolio[]
  instruments: Instrument[]
  prices: Price[]
  fx: FxRate[]
  benchmarks: BenchmarkPoint[]
  transactions: Transaction[]
  businessDate: string
}

/** Mulberry32: a small, fast, seeded PRNG; uniform in [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** A daily random walk: log return drift/252 + vol/√252 × N(0, 1) (Box-Muller). */
export function walk(random: () => number, start: number, drift: number, vol: number, days: number): number[] {
  const out = [start]
  for (let i = 1; i < days; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
    out.push((out[i - 1] as number) * Math.exp(drift / 252 - vol ** 2 / 504 + (vol / Math.sqrt(252)) * z))
  }
  return out
}

const INSTRUMENT_FIELDS = [
  'securityId',
  'name',
  'currency',
  'productType',
  'assetClass',
  'sector',
  'countryOfRisk',
  'issuerId',
  'ultimateParentIssuerId',
  'rating',
  'maturityDate',
] as const

export function sampleDataset(): Dataset {
  const days = businessDays(toEpochDay(market.from), toEpochDay(market.businessDate)).map(fromEpochDay)
  const random = seeded(market.seed)
  const rows = parseCsv(instrumentsCsv)
  const instruments = rows.map(
    (r) => Object.fromEntries(INSTRUMENT_FIELDS.filter((f) => r[f] !== undefined).map((f) => [f, r[f]])) as Instrument,
  )
  const close = new Map<string, string>()
  const prices: Price[] = rows.flatMap((r) =>
    walk(random, Number(r.startPrice), Number(r.drift), Number(r.vol), days.length).map((p, i) => {
      const price = {
        securityId: r.securityId as string,
        date: days[i] as string,
        price: p.toFixed(4),
        currency: r.currency as string,
      }
      close.set(`${price.securityId}@${price.date}`, price.price)
      return price
    }),
  )
  const fxSeries = market.fx.map((f) => ({ ...f, levels: walk(random, f.start, f.drift, f.vol, days.length) }))
  const fx: FxRate[] = fxSeries.flatMap((f) =>
    f.levels.map((rate, i) => ({ from: f.from, to: f.to, date: days[i] as string, rate: rate.toFixed(6) })),
  )
  const [eurUsd, eurChf] = fxSeries
  if (eurUsd && eurChf) {
    eurUsd.levels.forEach((usd, i) => {
      fx.push({
        from: 'USD',
        to: 'CHF',
        date: days[i] as string,
        rate: ((eurChf.levels[i] as number) / usd).toFixed(6),
      })
    })
  }
  const benchmarks: BenchmarkPoint[] = market.benchmarks.flatMap((b) =>
    walk(random, b.start, b.drift, b.vol, days.length).map((level, i) => ({
      benchmarkId: b.benchmarkId,
      date: days[i] as string,
      level: level.toFixed(4),
    })),
  )
  const transactions = parseCsv(transactionsCsv).map((t) => {
    const needsPrice = (t.type === 'BUY' || t.type === 'SELL') && t.price === undefined && t.grossAmount === undefined
    const price = needsPrice ? close.get(`${t.securityId}@${t.tradeDate}`) : undefined
    return (price ? { ...t, price } : t) as unknown as Transaction
  })
  return {
    portfolios: portfolios as Portfolio[],
    instruments,
    prices,
    fx,
    benchmarks,
    transactions,
    businessDate: market.businessDate,
  }
}
