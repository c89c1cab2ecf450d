import { toEpochDay } from './dates.ts'
import { atScale, type Decimal, dec, ONE, str, toScaled } from './money.ts'
import type { FxRate, Price } from './records.ts'

type Series = { days: number[]; texts: string[]; currencies: string[]; quotes: (Quote | undefined)[] }

/**
 * A price or rate of a day. `text` is its decimal text (at most SCALE places); `value` (a Decimal)
 * and `scaled` (money.ts's scaled integer) are parsed from it on first use, so a table of
 * thousands of prices parses only those asked for, once each.
 */
export class Quote {
  #value: Decimal | undefined
  #scaled: bigint | undefined
  constructor(
    readonly text: string,
    readonly day: number,
    readonly currency: string,
  ) {}
  get value(): Decimal {
    this.#value ??= dec(this.text)
    return this.#value
  }
  get scaled(): bigint {
    this.#scaled ??= toScaled(this.text)
    return this.#scaled
  }
}

const quoteOf = (text: string, day: number, currency: string) => new Quote(text, day, currency)
/** A derived rate (inverse or cross), at SCALE places by rule 3. */
const derived = (value: Decimal, day: number, currency: string) => new Quote(str(value), day, currency)

/** Index of the last element of sorted `days` that is <= day, or -1. */
function lastOnOrBefore(days: readonly number[], day: number): number {
  let lo = 0
  let hi = days.length - 1
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if ((days[mid] as number) <= day) {
      found = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  return found
}

function index<T>(
  items: readonly T[],
  key: (t: T) => string,
  day: (t: T) => string,
  value: (t: T) => string,
  ccy: (t: T) => string,
) {
  const byKey = new Map<string, { day: number; text: string; currency: string }[]>()
  for (const item of items) {
    const list = byKey.get(key(item)) ?? []
    list.push({ day: toEpochDay(day(item)), text: value(item), currency: ccy(item) })
    byKey.set(key(item), list)
  }
  const out = new Map<string, Series>()
  for (const [k, list] of byKey) {
    // A later record for the same day replaces an earlier one (a correction).
    const dedup = new Map(list.map((q) => [q.day, q]))
    const sorted = [...dedup.values()].sort((a, b) => a.day - b.day)
    out.set(k, {
      days: sorted.map((q) => q.day),
      texts: sorted.map((q) => q.text),
      currencies: sorted.map((q) => q.currency),
      quotes: [],
    })
  }
  return out
}

/** The quote of the day (the latest on or before it); the same object each time it is asked for. */
const quoteAt = (s: Series | undefined, day: number): Quote | undefined => {
  if (!s) return undefined
  const i = lastOnOrBefore(s.days, day)
  if (i < 0) return undefined
  let quote = s.quotes[i]
  if (!quote) {
    quote = quoteOf(s.texts[i] as string, s.days[i] as number, s.currencies[i] as string)
    s.quotes[i] = quote
  }
  return quote
}

/**
 * One security's prices as a store reads them in bulk: epoch days ascending (one price a day),
 * with each day's decimal text and currency.
 */
export type PriceSeries = {
  readonly securityId: string
  readonly days: number[]
  readonly texts: string[]
  readonly currencies: string[]
}

/** Prices by security: the price of a day is the latest on or before it. */
export class PriceTable {
  private constructor(private readonly series: Map<string, Series>) {}
  /** From series already sorted and one a day: nothing to parse, sort or deduplicate. */
  static ofSeries(series: readonly PriceSeries[]): PriceTable {
    return new PriceTable(new Map(series.map((s) => [s.securityId, { ...s, quotes: [] }])))
  }
  static of(prices: readonly Price[]): PriceTable {
    return new PriceTable(
      index(
        prices,
        (p) => p.securityId,
        (p) => p.date,
        (p) => p.price,
        (p) => p.currency,
      ),
    )
  }
  latest(securityId: string, day: number): Quote | undefined {
    return quoteAt(this.series.get(securityId), day)
  }
  /** `latest` for one security, its prices found once (valuation asks for every day of a position). */
  of(securityId: string): (day: number) => Quote | undefined {
    const series = this.series.get(securityId)
    return (day) => quoteAt(series, day)
  }
}

/**
 * The one currency FX crosses go through: EUR/GBP, when neither it nor GBP/EUR is given, is
 * EUR/USD × USD/GBP. Stores load the pairs touching it besides those touching each base currency.
 */
export const FX_PIVOT = 'USD'

/**
 * FX rates by pair: the rate of a day is the latest on or before it. A pair not given is derived
 * from its inverse (1 / rate, rounded at scale); where both are given the more recent one wins,
 * the direct pair on a tie. Same currency: 1. A pair with neither is crossed through FX_PIVOT:
 * the product of the two legs (each direct or inverse as above), rounded at scale once, dated by
 * the older leg. Only when no quote of the pair itself exists on or before the day.
 */
const shared = new WeakMap<readonly FxRate[], FxTable>()

export class FxTable {
  private constructor(private readonly series: Map<string, Series>) {}
  /**
   * The table of `rates`, built once per array: the stores hand the same array while the rates
   * are unchanged (src/adapters/pg-fx.ts), so a table and the answers it remembers outlive a batch.
   */
  static ofShared(rates: readonly FxRate[]): FxTable {
    let table = shared.get(rates)
    if (table === undefined) {
      table = FxTable.of(rates)
      shared.set(rates, table)
    }
    return table
  }
  static of(rates: readonly FxRate[]): FxTable {
    return new FxTable(
      index(
        rates,
        (r) => `${r.from}/${r.to}`,
        (r) => r.date,
        (r) => r.rate,
        (r) => r.to,
      ),
    )
  }
  /** Answers by pair and day: valuation asks the same one for every position in a currency. */
  readonly #answers = new Map<string, Map<number, Quote | null>>()

  rate(from: string, to: string, day: number): Quote | undefined {
    return this.pair(from, to)(day)
  }
  /** `rate` for one pair, its answers found once (valuation asks for every day of a position). */
  pair(from: string, to: string): (day: number) => Quote | undefined {
    const pair = `${from}/${to}`
    let byDay = this.#answers.get(pair)
    if (!byDay) {
      byDay = new Map()
      this.#answers.set(pair, byDay)
    }
    const answers = byDay
    return (day) => {
      let answer = answers.get(day)
      if (answer === undefined) {
        answer = this.#rate(from, to, day) ?? null
        answers.set(day, answer)
      }
      return answer ?? undefined
    }
  }

  #rate(from: string, to: string, day: number): Quote | undefined {
    const own = this.#pair(from, to, day)
    if (own || from === FX_PIVOT || to === FX_PIVOT) return own
    const first = this.#pair(from, FX_PIVOT, day)
    const second = first && this.#pair(FX_PIVOT, to, day)
    if (!first || !second) return undefined
    const value = atScale(first.value.times(second.value))
    return derived(value, Math.min(first.day, second.day), to)
  }
  #pair(from: string, to: string, day: number): Quote | undefined {
    if (from === to) return quoteOf('1', day, to)
    const direct = quoteAt(this.series.get(`${from}/${to}`), day)
    const inverse = quoteAt(this.series.get(`${to}/${from}`), day)
    if (inverse && (!direct || inverse.day > direct.day) && !inverse.value.isZero()) {
      const value = atScale(ONE.div(inverse.value))
      return derived(value, inverse.day, to)
    }
    return direct
  }
}
