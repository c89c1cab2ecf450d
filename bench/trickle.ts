/**
 * The harness's trickle mode (`--trickle N`): after the bulk load, single changes sent one at a
 * time at a fixed rate, one kind after the other, while query clients read portfolio reviews (as
 * fast as answered, or `queryRate` a second each on a fixed schedule). For
 * each kind it reports how soon the affected portfolios' series reflected the change, from pas's
 * own freshness histogram (`pas_freshness_seconds`: from the ingest of the oldest input behind a
 * portfolio's series write to that write), and the review latencies meanwhile.
 *
 * Kinds:
 * - `correction`: a portfolio's earliest purchase (within `correctionYears` of the business date,
 *   when given) sent again with its quantity changed by one (a back-dated correction: positions,
 *   valuation and series from that day on). With `correctionKeepsAmount` its amount is sent as it
 *   was (`grossAmount`): its security's history moves, its cash's does not (the work left when a
 *   correction rewrites no cash row: docs/scale.md);
 * - `trade`: a new purchase of one unit on the business date;
 * - `price`: a past day's price of one of the most widely held securities, corrected by 0.1 % (the
 *   fan-out revalues every holder for the days that price is in force);
 * - `fx`: a past day's rate of a pair, corrected by 0.01 % (its holders revalue from that day on,
 *   and the portfolios trading the pair recompute their positions).
 * Every kind but `fx` sends N changes; `fx` sends N / 10 (each reaches most of the book).
 */
import type { Sql } from '../src/adapters/pg-client.ts'
import { atScale, dec, str } from '../src/domain/money.ts'
import { samples } from '../src/testing/metrics-text.ts'

export const TRICKLE_KINDS = ['correction', 'trade', 'price', 'fx'] as const
export type TrickleKind = (typeof TRICKLE_KINDS)[number]

export type TrickleResult = {
  kind: TrickleKind
  changes: number
  /** Portfolio series written because of them (observations of the freshness histogram). */
  seriesWrites: number
  /** Quantiles of the freshness histogram over this kind's writes, interpolated within buckets, ms. */
  freshP50Ms: number
  freshP99Ms: number
  /** The upper bound of the highest bucket that filled, ms. */
  freshMaxMs: number
  /**
   * For the kinds that change one portfolio each (correction, trade), when no portfolio is changed
   * twice: from each change's 202 to its portfolio's series written (the series stage's lineage),
   * exact, nearest-rank quantiles, ms. The histogram's p99 of 60 changes is its largest, placed
   * within a bucket; this is the figure itself.
   */
  exact?: { changes: number; p50Ms: number; p99Ms: number; maxMs: number }
  reviewP50Ms: number
  reviewP99Ms: number
  reviews: number
  /**
   * On the pg log: per notice topic, how long after the ingest of the change (the notice's `since`)
   * the notices were appended, p50 and p99 ms: where along the pipeline the time goes.
   */
  hops?: { topic: string; notices: number; p50Ms: number; p99Ms: number }[]
  /** Per stage, what it did while this kind's changes flowed and settled: batches and busy seconds. */
  stages: { stage: string; batches: number; busyS: number }[]
  /** Per stage that works in slices and step (pas_stage_slice_step_seconds): slices, and mean ms per slice. */
  steps: { stage: string; step: string; slices: number; meanMs: number }[]
  /**
   * The memory guards' full collections meanwhile (each process's thread and valuation worker
   * threads), and their seconds: each stops its thread for its length.
   */
  collections: { count: number; seconds: number }
}

/**
 * How clients on a fixed schedule (one call every `interval` ms each) line up: `spread` starts
 * client c of n c/n of an interval after the first, so their calls arrive evenly, as independent
 * clients' do; `aligned` starts them together, so each round's n calls arrive at the same moment
 * (the worst case for the server: a queue of n at once).
 */
export type QueryPhase = 'spread' | 'aligned'
export const firstScheduled = (start: number, client: number, clients: number, interval: number, phase: QueryPhase) =>
  start + (phase === 'spread' ? (client * interval) / clients : 0)

export type TrickleOptions = {
  sql: Sql
  /** Every pas process's base URL: the histogram and the lag are summed over them. */
  urls: readonly string[]
  ingestUrl: string
  apiUrl: string
  headers: Record<string, string>
  count: number
  /** The kinds to send, in this order. */
  kinds: readonly TrickleKind[]
  /** Corrections: the first purchase within this many years of the business date (default: the first). */
  correctionYears?: number | undefined
  /** Corrections: the purchase's amount sent as it was, so that its cash does not move. */
  correctionKeepsAmount?: boolean | undefined
  perSecond: number
  clients: number
  /** Reviews per second per client on a fixed schedule; 0 (default): again as soon as answered. */
  queryRate?: number
  /** How the clients' fixed schedules line up (QueryPhase); default spread. */
  queryPhase?: QueryPhase
  portfolios: number
  progress: (line: string) => void
  /** The event log is the pg log's table: the trickle reads its notices for the hops. */
  pgLog?: boolean
}

const STAGES = ['persist', 'positions', 'valuation-fanout', 'valuation', 'timeseries'] as const
/** The stages that work in slices, and the steps of a slice (src/stages/notices.ts SliceStep). */
const SLICED = ['positions', 'valuation', 'timeseries'] as const
const STEPS = ['load', 'compute', 'write'] as const
type Scrape = {
  buckets: Map<number, number>
  lag: number
  batches: Map<string, number>
  busy: Map<string, number>
  /** By `stage/step`: slices and seconds. */
  slices: Map<string, number>
  stepSeconds: Map<string, number>
  /** The memory guard's full collections (src/runtime/memory-guard.ts): how many, and their seconds. */
  collections: number
  collectionSeconds: number
}

/**
 * The freshness histogram (cumulative counts by upper bound), the total lag, and each stage's
 * batches and busy seconds, summed over processes.
 */
async function scrape(urls: readonly string[]): Promise<Scrape> {
  const buckets = new Map<number, number>()
  let lag = 0
  const batches = new Map<string, number>()
  const busy = new Map<string, number>()
  const slices = new Map<string, number>()
  const stepSeconds = new Map<string, number>()
  let [collections, collectionSeconds] = [0, 0]
  const add = (into: Map<string, number>, stage: string, n: number) => into.set(stage, (into.get(stage) ?? 0) + n)
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`)).text()
    for (const line of text.split('\n')) {
      const m = /^pas_freshness_seconds_bucket\{(?:.*,)?le="([^"]+)".*\} (\S+)$/.exec(line)
      if (m) {
        const le = m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1])
        buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]))
      }
    }
    lag += samples(text, 'pas_consumer_lag_records').reduce((a, b) => a + b, 0)
    collections += samples(text, 'pas_memory_collections_total').reduce((a, b) => a + b, 0)
    collectionSeconds += samples(text, 'pas_memory_collection_seconds_total').reduce((a, b) => a + b, 0)
    for (const stage of STAGES) {
      add(
        batches,
        stage,
        samples(text, 'pas_stage_batches_total', { stage }).reduce((a, b) => a + b, 0),
      )
      add(
        busy,
        stage,
        samples(text, 'pas_stage_busy_seconds_total', { stage }).reduce((a, b) => a + b, 0),
      )
    }
    for (const stage of SLICED) {
      for (const step of STEPS) {
        const sum = (name: string) => samples(text, name, { stage, step }).reduce((a, b) => a + b, 0)
        add(slices, `${stage}/${step}`, sum('pas_stage_slice_step_seconds_count'))
        add(stepSeconds, `${stage}/${step}`, sum('pas_stage_slice_step_seconds_sum'))
      }
    }
  }
  return { buckets, lag, batches, busy, slices, stepSeconds, collections, collectionSeconds }
}

/** The q-quantile of a cumulative histogram, linear within its bucket (as Prometheus's histogram_quantile). */
export function histogramQuantile(cumulative: readonly [number, number][], q: number): number {
  const total = cumulative.at(-1)?.[1] ?? 0
  if (total === 0) return 0
  const rank = q * total
  let [lower, below] = [0, 0]
  for (const [le, count] of cumulative) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return lower
      return count === below ? le : lower + ((le - lower) * (rank - below)) / (count - below)
    }
    ;[lower, below] = [le, count]
  }
  return lower
}

/** The nearest-rank q-quantile of sorted latencies (the harness's too). */
export const quantile = (sorted: readonly number[], q: number) =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number)

/** One change of `kind`, number `k`: what to POST where, and the portfolio it changes when one. */
type Change = { path: string; records: unknown[]; portfolioId?: string }

async function changesOf(
  sql: Sql,
  kind: TrickleKind,
  count: number,
  portfolios: number,
  correctionYears?: number,
  keepsAmount = false,
): Promise<Change[]> {
  const [bd] = await sql<{ d: string }[]>`select date::text as d from business_date`
  const businessDate = bd?.d as string
  const portfolioOf = (k: number) => `BP${(k * 7919) % portfolios}`
  switch (kind) {
    case 'correction': {
      // The first purchase, or with `correctionYears` the first within that many years of the
      // business date (issue 13: corrections up to five years back on ten-year histories).
      const within =
        correctionYears === undefined
          ? sql``
          : sql`and trade_date >= ${businessDate}::date - make_interval(years => ${correctionYears}::int)`
      const rows = await sql<{ record: Record<string, string> }[]>`
        select distinct on (portfolio_id) record from transactions
        where portfolio_id = any(${Array.from({ length: count }, (_, k) => portfolioOf(k))}::text[]) and type = 'BUY'
          ${within}
        order by portfolio_id, trade_date, transaction_id`
      return Array.from({ length: count }, (_, k) => {
        // As sent, without what persist adds (who wrote it, where it came from).
        const { writtenBy, sourcePartition, sourceOffset, ...r } = rows[k % Math.max(1, rows.length)]?.record ?? {}
        // +1, and back on the next round: the book stays the size it was.
        const quantity = String(Number(r.quantity) + (Math.floor(k / rows.length) % 2 === 0 ? 1 : 0))
        // The amount the purchase had: its grossAmount, else its quantity × price as the fold
        // computes it (money.ts: rounded to the scale), so its cash moves by nothing.
        const amount =
          keepsAmount && r.grossAmount === undefined
            ? { grossAmount: str(atScale(dec(r.quantity as string).times(dec(r.price as string)))) }
            : {}
        return { path: 'transactions', records: [{ ...r, quantity, ...amount }], portfolioId: r.portfolioId }
      })
    }
    case 'trade': {
      const held = await sql<{ portfolio: string; security: string; currency: string; price: string }[]>`
        select distinct on (h.portfolio_id) h.portfolio_id as portfolio, h.position_id as security, h.currency,
               (select price::text from prices p where p.security_id = h.position_id order by date desc limit 1) as price
        from position_history h
        where h.portfolio_id = any(${Array.from({ length: count }, (_, k) => portfolioOf(k))}::text[])
          and h.position_id not like 'CASH:%' and exists (select 1 from prices p where p.security_id = h.position_id)
        order by h.portfolio_id, h.position_id`
      const stamp = Date.now().toString(36)
      return Array.from({ length: count }, (_, k) => {
        const h = held[k % Math.max(1, held.length)] as (typeof held)[number]
        return {
          path: 'transactions',
          portfolioId: h.portfolio,
          records: [
            {
              transactionId: `TRICKLE-${stamp}-${k}`,
              portfolioId: h.portfolio,
              type: 'BUY',
              tradeDate: businessDate,
              securityId: h.security,
              quantity: '1',
              price: h.price,
              currency: h.currency,
            },
          ],
        }
      })
    }
    case 'price': {
      const widest = await sql<{ security: string }[]>`
        select position_id as security from position_history where position_id not like 'CASH:%'
        group by position_id order by count(distinct portfolio_id) desc limit 10`
      const prices = await sql<{ securityId: string; date: string; price: string; currency: string }[]>`
        select security_id as "securityId", date::text as date, price::text as price, currency from prices
        where security_id = any(${widest.map((w) => w.security)}::text[]) and date <= ${businessDate}::date
          and date > ${businessDate}::date - 200
        order by date desc, security_id`
      return Array.from({ length: count }, (_, k) => {
        const p = prices[(k * 37) % Math.max(1, prices.length)] as (typeof prices)[number]
        return { path: 'prices', records: [{ ...p, price: (Number(p.price) * 1.001).toFixed(4) }] }
      })
    }
    case 'fx': {
      const rates = await sql<{ from: string; to: string; date: string; rate: string }[]>`
        select from_currency as "from", to_currency as "to", date::text as date, rate::text as rate from fx_rates
        where date <= ${businessDate}::date and date > ${businessDate}::date - 60 order by date desc`
      return Array.from({ length: Math.max(1, Math.floor(count / 10)) }, (_, k) => {
        const r = rates[(k * 13) % Math.max(1, rates.length)] as (typeof rates)[number]
        return { path: 'fx-rates', records: [{ ...r, rate: (Number(r.rate) * 1.0001).toFixed(6) }] }
      })
    }
  }
}

export async function runTrickle(options: TrickleOptions): Promise<TrickleResult[]> {
  const { sql, urls, ingestUrl, apiUrl, headers, count, perSecond, progress } = options
  const results: TrickleResult[] = []
  for (const kind of options.kinds) {
    const changes = await changesOf(
      sql,
      kind,
      count,
      options.portfolios,
      options.correctionYears,
      options.correctionKeepsAmount,
    )
    const before = await scrape(urls)
    // Reviews while the changes flow: random portfolios, as fast as each client can.
    const reviews: number[] = []
    let reading = true
    const interval = options.queryRate ? 1000 / options.queryRate : 0
    const clients = Array.from({ length: options.clients }, async (_, c) => {
      let next = firstScheduled(performance.now(), c, options.clients, interval, options.queryPhase ?? 'spread')
      for (let k = c; reading; k += options.clients) {
        if (interval > 0) {
          next += interval
          const wait = next - performance.now()
          if (wait > 0) await Bun.sleep(wait)
          if (!reading) break
        }
        const t = performance.now()
        const res = await fetch(`${apiUrl}/v1/portfolios/BP${(k * 104_729) % options.portfolios}/review`, { headers })
        await res.arrayBuffer()
        if (res.status === 200) reviews.push(performance.now() - t)
      }
    })
    const started = performance.now()
    const startedAt = new Date()
    // When each single-portfolio change was accepted (its 202), by portfolio: read back against the
    // series' lineage once the trickle settles. Only when each portfolio is changed once.
    const once = changes.every((c) => c.portfolioId !== undefined)
      ? new Set(changes.map((c) => c.portfolioId)).size === changes.length
      : false
    const accepted = new Map<string, number>()
    for (const [k, change] of changes.entries()) {
      const due = started + (k * 1000) / perSecond
      const wait = due - performance.now()
      if (wait > 0) await Bun.sleep(wait)
      const res = await fetch(`${ingestUrl}/v1/ingest/${change.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(change.records),
      })
      if (res.status !== 202) throw new Error(`trickle ${kind}: ${res.status} ${await res.text()}`)
      if (once && change.portfolioId) accepted.set(change.portfolioId, Date.now())
    }
    // Done when nothing is left to read and the histogram has stopped moving for two seconds.
    let after = await scrape(urls)
    let total = after.buckets.get(Number.POSITIVE_INFINITY) ?? 0
    let stillSince = performance.now()
    const deadline = performance.now() + 10 * 60_000
    while (performance.now() - stillSince < 2000 || after.lag > 0) {
      if (performance.now() > deadline) throw new Error(`trickle ${kind}: not idle after 10 minutes`)
      await Bun.sleep(200)
      after = await scrape(urls)
      const now = after.buckets.get(Number.POSITIVE_INFINITY) ?? 0
      if (now !== total) [total, stillSince] = [now, performance.now()]
    }
    reading = false
    await Promise.all(clients)
    const delta: [number, number][] = [...after.buckets]
      .map(([le, n]): [number, number] => [le, n - (before.buckets.get(le) ?? 0)])
      .sort((a, b) => a[0] - b[0])
    const writes = delta.at(-1)?.[1] ?? 0
    const filled = delta.find(([, n]) => n === writes)?.[0] ?? 0
    reviews.sort((a, b) => a - b)
    const hops = options.pgLog ? await hopsSince(sql, startedAt) : undefined
    const exact = accepted.size > 0 ? await exactFreshness(sql, accepted) : undefined
    const result: TrickleResult = {
      kind,
      changes: changes.length,
      seriesWrites: writes,
      freshP50Ms: histogramQuantile(delta, 0.5) * 1000,
      freshP99Ms: histogramQuantile(delta, 0.99) * 1000,
      freshMaxMs: filled * 1000,
      ...(exact ? { exact } : {}),
      reviewP50Ms: quantile(reviews, 0.5),
      reviewP99Ms: quantile(reviews, 0.99),
      reviews: reviews.length,
      ...(hops ? { hops } : {}),
      stages: STAGES.map((stage) => ({
        stage,
        batches: (after.batches.get(stage) ?? 0) - (before.batches.get(stage) ?? 0),
        busyS: (after.busy.get(stage) ?? 0) - (before.busy.get(stage) ?? 0),
      })).filter((x) => x.batches > 0),
      steps: SLICED.flatMap((stage) =>
        STEPS.map((step) => {
          const key = `${stage}/${step}`
          const slices = (after.slices.get(key) ?? 0) - (before.slices.get(key) ?? 0)
          const seconds = (after.stepSeconds.get(key) ?? 0) - (before.stepSeconds.get(key) ?? 0)
          return { stage, step, slices, meanMs: slices > 0 ? (seconds / slices) * 1000 : 0 }
        }),
      ).filter((x) => x.slices > 0),
      collections: {
        count: after.collections - before.collections,
        seconds: after.collectionSeconds - before.collectionSeconds,
      },
    }
    progress(
      `trickle ${kind}: ${result.changes} changes, ${writes} series writes, fresh p50 ${result.freshP50Ms.toFixed(0)} / p99 ${result.freshP99Ms.toFixed(0)} / max ≤ ${result.freshMaxMs.toFixed(0)} ms; review p50 ${result.reviewP50Ms.toFixed(1)} / p99 ${result.reviewP99Ms.toFixed(1)} ms`,
    )
    if (exact)
      progress(
        `  from each 202 to its series written (exact, ${exact.changes} changes): p50 ${exact.p50Ms.toFixed(0)} / p99 ${exact.p99Ms.toFixed(0)} / max ${exact.maxMs.toFixed(0)} ms`,
      )
    if (hops) {
      const line = hops.map((h) => `${h.topic} ${h.p50Ms.toFixed(0)}/${h.p99Ms.toFixed(0)}`).join(', ')
      progress(`  notices appended after the change (p50/p99 ms): ${line}`)
    }
    const busy = result.stages.map((x) => `${x.stage} ${x.batches} / ${x.busyS.toFixed(2)} s`).join(', ')
    progress(`  stages meanwhile (batches / busy): ${busy}`)
    const steps = result.steps.map((x) => `${x.stage} ${x.step} ${x.slices} / ${x.meanMs.toFixed(1)}`).join(', ')
    if (steps) progress(`  slice steps meanwhile (slices / mean ms): ${steps}`)
    const gc = result.collections
    progress(`  memory guard's collections meanwhile: ${gc.count}, ${(gc.seconds * 1000).toFixed(0)} ms in all`)
    results.push(result)
  }
  return results
}

/**
 * Each portfolio's series written last (the series stage's lineage row, clock_timestamp() in its
 * write) less when its change was accepted, ms: a portfolio whose series was not written after its
 * change counts as never (the trickle waited for the pipeline to settle, so that is a failure).
 */
async function exactFreshness(
  sql: Sql,
  accepted: ReadonlyMap<string, number>,
): Promise<NonNullable<TrickleResult['exact']>> {
  const rows = await sql<{ portfolioId: string; at: number }[]>`
    select portfolio_id as "portfolioId", extract(epoch from completed_at) * 1000 as at from lineage
    where stage = 'timeseries' and position_id = '' and portfolio_id = any(${[...accepted.keys()]}::text[])`
  const written = new Map(rows.map((r) => [r.portfolioId, Number(r.at)]))
  const lags = [...accepted].map(([portfolioId, at]) => {
    const done = written.get(portfolioId)
    if (done === undefined || done < at)
      throw new Error(`trickle: ${portfolioId}'s series was not written after its change`)
    return done - at
  })
  lags.sort((a, b) => a - b)
  return { changes: lags.length, p50Ms: quantile(lags, 0.5), p99Ms: quantile(lags, 0.99), maxMs: lags.at(-1) ?? 0 }
}

/** The pipeline's notice topics, in the order a change travels them. */
const NOTICE_TOPICS = [
  'transactions.changed',
  'prices.changed',
  'fx.changed',
  'positions.changed',
  'valuation.jobs',
  'valuations.changed',
]

/** Per notice topic of the pg log, appended since `from`: appended_at − since, quantiles in ms. */
async function hopsSince(sql: Sql, from: Date): Promise<NonNullable<TrickleResult['hops']>> {
  const rows = await sql<{ topic: string; notices: number; p50: number; p99: number }[]>`
    select topic, count(*)::int as notices,
      percentile_cont(0.5) within group (order by lag) as p50, percentile_cont(0.99) within group (order by lag) as p99
    from (select topic, extract(epoch from appended_at) * 1000 - (value::jsonb ->> 'since')::float8 as lag
          from log_records where appended_at >= ${from} and topic = any(${NOTICE_TOPICS}::text[])
            and value::jsonb ? 'since') r
    group by topic`
  return rows
    .sort((a, b) => NOTICE_TOPICS.indexOf(a.topic) - NOTICE_TOPICS.indexOf(b.topic))
    .map((r) => ({ topic: r.topic, notices: r.notices, p50Ms: r.p50, p99Ms: r.p99 }))
}
