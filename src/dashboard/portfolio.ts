/**
 * A portfolio's page (#/p/<id>): its figures as of the business date, charts over its whole life,
 * and how current each figure is. The page polls the support view every few seconds; when a stage
 * has finished new work for this portfolio it fetches the figures again and redraws, so a trade
 * posted through the API shows here without a reload.
 */
import { ApiError, get } from './api.ts'
import { donut, draw, lines, tidy } from './charts.ts'
import { drawdowns, investedCapital, rebase } from './derive.ts'
import { type Child, h, keepFocus, show, tone } from './dom.ts'
import { ago, day, money, moneyShort, number, percent, share, sign } from './format.ts'
import { table } from './table.ts'
import {
  type BenchmarkLevel,
  type BenchmarkSummary,
  type Concentration,
  type Performance,
  pipelineState,
  type Review,
  type Risk,
  type SeriesDay,
  type Support,
} from './types.ts'

const POLL_MS = 3_000
const BENCHMARK = 'pas.benchmark'
const CLASSIFICATIONS = [
  ['assetClass', 'Asset class'],
  ['sector', 'Sector'],
  ['country', 'Country'],
  ['currency', 'Currency'],
  ['issuer', 'Issuer'],
  ['rating', 'Rating'],
  ['maturity', 'Maturity'],
] as const
type Classification = (typeof CLASSIFICATIONS)[number][0]

type Figures = {
  review: Review
  series: SeriesDay[]
  performance: Performance | Error
  risk: Risk | Error
  /** Why the risk figures are without the benchmark's (its own gaps), when they are. */
  riskNote: string | undefined
  concentration: Concentration | Error
  benchmark: { id: string; levels: BenchmarkLevel[] } | undefined
}

const dayBefore = (date: string) => {
  const d = new Date(`${date}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() - 1)
  return d.toISOString().slice(0, 10)
}

/** Sections as wide as the page: the overview, and the tables too wide for half of it. */
const WIDE = new Set(['overview', 'allocation', 'holdings', 'transactions'])

const attempt = <T>(p: Promise<T>): Promise<T | Error> =>
  p.catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))))

/** A section with a heading and a note of how current its figures are. */
function section(id: string, title: string, note: Child, ...body: Child[]) {
  return h(
    'section',
    { class: WIDE.has(id) ? 'card wide' : 'card', 'aria-labelledby': `${id}-h`, 'data-testid': id },
    h('header', {}, h('h2', { id: `${id}-h` }, title), h('span', { class: 'asof' }, note)),
    ...body,
  )
}

/** One key figure: a label over its value; `title` (a definition) shows on hover. */
const kpi = (label: string, value: string, options: { testid?: string; tone?: string; title?: string } = {}) =>
  h(
    'div',
    { class: 'kpi', title: options.title ?? null },
    h('dt', {}, label),
    h('dd', { class: options.tone || null, 'data-testid': options.testid ?? null }, value),
  )

/** A figure that could not be computed shows why (the API's message), not an empty box. */
const problem = (e: Error) =>
  h('p', { class: 'problem', role: 'note' }, e instanceof ApiError ? e.message : `Could not load: ${e.message}`)

export async function portfolioPage(root: HTMLElement, id: string, locale: string, signal: AbortSignal): Promise<void> {
  const path = `/v1/portfolios/${encodeURIComponent(id)}`
  const benchmarks = await get<BenchmarkSummary[]>('/v1/benchmarks').catch(() => [] as BenchmarkSummary[])
  let benchmarkId = sessionStorage.getItem(BENCHMARK) ?? benchmarks[0]?.benchmarkId ?? ''
  if (!benchmarks.some((b) => b.benchmarkId === benchmarkId)) benchmarkId = benchmarks[0]?.benchmarkId ?? ''
  let classification: Classification = 'assetClass'
  let figures: Figures | undefined
  let support: Support | undefined
  let loadedAt = 0

  const load = async (): Promise<Figures> => {
    const withBenchmark = benchmarkId ? `&benchmarkId=${encodeURIComponent(benchmarkId)}` : ''
    const [review, series, performance, risk, concentration] = await Promise.all([
      get<Review>(`${path}/review`),
      get<SeriesDay[]>(`${path}/series`),
      attempt(get<Performance>(`${path}/performance?period=SI&frequency=daily`)),
      attempt(get<Risk>(`${path}/risk?period=SI${withBenchmark}`)),
      attempt(get<Concentration>(`${path}/concentration`)),
    ])
    // Risk against the benchmark when it covers the period; else without it, saying why.
    let riskNote: string | undefined
    let riskAlone = risk
    if (risk instanceof ApiError && risk.status === 422 && withBenchmark) {
      riskNote = risk.message
      riskAlone = await attempt(get<Risk>(`${path}/risk?period=SI`))
    }
    const start = series[0]?.date
    const levels =
      benchmarkId && start
        ? await get<BenchmarkLevel[]>(`/v1/benchmarks/${encodeURIComponent(benchmarkId)}`).catch(() => undefined)
        : undefined
    return {
      review,
      series,
      performance,
      risk: riskAlone,
      riskNote,
      concentration,
      benchmark: levels ? { id: benchmarkId, levels } : undefined,
    }
  }

  const freshness = h('p', { class: 'freshness', 'aria-live': 'polite', 'data-testid': 'freshness' })
  const body = h('div', { class: 'sections' })
  show(root, h('p', {}, h('a', { href: '#/' }, '← All portfolios')), h('h1', {}, id), freshness, body)

  const renderFreshness = () => {
    if (!support) return
    const now = Date.now()
    const state = pipelineState(support)
    freshness.replaceChildren(
      h('span', { class: `state ${state}`, 'data-testid': 'pipeline-state' }, state),
      ` Business date ${day(support.businessDate, locale)} · `,
      ...support.stages.flatMap((s) => [
        h(
          'span',
          { title: `inputs as of ${s.inputsAsOf ?? '–'}, through ${s.throughDate ?? '–'}` },
          `${s.stage} ${s.state} (${ago(s.completedAt, now, locale)})`,
        ),
        ' · ',
      ]),
      `figures fetched ${ago(new Date(loadedAt).toISOString(), now, locale)}`,
      ...(support.rejectedTransactions.length > 0
        ? [h('span', { class: 'neg' }, ` · ${support.rejectedTransactions.length} rejected transaction(s)`)]
        : []),
    )
  }

  const render = () => {
    if (!figures) return
    const { review, series } = figures
    const ccy = review.overview?.portfolio.baseCurrency ?? 'EUR'
    const m = (v: string | null | undefined) => money(v, ccy, locale)
    const asOf = `as of ${day(review.asOf, locale)}`
    const ytd = review.performance?.find((p) => p.preset === 'YTD')
    const overview = review.overview
    const p = overview?.portfolio
    const facts = [
      p?.clientId && `Client ${p.clientId}`,
      p?.bookingCentre,
      p?.baseCurrency,
      p?.riskProfile && `risk profile ${p.riskProfile}`,
      p?.costMethod,
    ].filter(Boolean)

    const wealthChart = h('div', { class: 'chart', 'data-testid': 'chart-wealth' })
    const twrChart = h('div', { class: 'chart', 'data-testid': 'chart-twr' })
    const ddChart = h('div', { class: 'chart small', 'data-testid': 'chart-drawdown' })
    const allocChart = h('div', { class: 'chart', 'data-testid': 'chart-allocation' })
    const allocTable = h('div', { class: 'table-wrap' })

    const benchmarkPicker = h(
      'label',
      {},
      'Benchmark ',
      h(
        'select',
        {
          name: 'benchmark',
          onchange: async (e: Event) => {
            benchmarkId = (e.target as HTMLSelectElement).value
            sessionStorage.setItem(BENCHMARK, benchmarkId)
            figures = await load()
            render()
          },
        },
        h('option', { value: '', selected: benchmarkId === '' }, 'None'),
        ...benchmarks.map((b) =>
          h('option', { value: b.benchmarkId, selected: b.benchmarkId === benchmarkId }, b.benchmarkId),
        ),
      ),
    )
    const classPicker = h(
      'label',
      {},
      'By ',
      h(
        'select',
        {
          name: 'classification',
          onchange: (e: Event) => {
            classification = (e.target as HTMLSelectElement).value as Classification
            drawAllocation()
          },
        },
        ...CLASSIFICATIONS.map(([value, label]) => h('option', { value, selected: value === classification }, label)),
      ),
    )

    const { performance, risk, concentration } = figures
    keepFocus(body, () =>
      body.replaceChildren(
        h('p', { class: 'facts' }, facts.join(' · ')),
        section(
          'overview',
          'Overview',
          asOf,
          h(
            'dl',
            { class: 'kpis' },
            kpi('Total wealth', m(overview?.totalWealth), { testid: 'kpi-wealth' }),
            kpi('Cash', m(overview?.cash), { testid: 'kpi-cash' }),
            kpi('P&L this year', m(overview?.ytdPnl), {
              testid: 'kpi-ytd-pnl',
              tone: tone(sign(overview?.ytdPnl)),
              title: 'Change in value this year less external flows',
            }),
            kpi('TWR this year', percent(ytd?.net?.cumulative, locale), {
              testid: 'kpi-ytd-twr',
              tone: tone(sign(ytd?.net?.cumulative)),
              title: 'Time-weighted return, net of fees, flows as recorded',
            }),
          ),
          overview && !overview.complete
            ? h('p', { class: 'problem' }, 'Some positions could not be valued on this day.')
            : null,
        ),
        section(
          'wealth',
          'Wealth and net invested capital',
          series.length ? `${day(series[0]?.date, locale)} – ${day(series.at(-1)?.date, locale)}` : 'no series yet',
          wealthChart,
        ),
        section(
          'twr',
          'Cumulative return',
          performance instanceof Error ? '' : `since ${day(performance.period.from, locale)}`,
          benchmarkPicker,
          performance instanceof Error ? problem(performance) : twrChart,
        ),
        section(
          'drawdown',
          'Drawdown',
          'from the highest cumulative return so far',
          performance instanceof Error ? problem(performance) : ddChart,
        ),
        section('returns', 'Period returns', asOf, returnsTable(review, locale)),
        section(
          'risk',
          'Risk',
          risk instanceof Error
            ? ''
            : `${risk.frequency}, ${day(risk.period.from, locale)} – ${day(risk.period.to, locale)}`,
          risk instanceof Error ? problem(risk) : riskList(risk, locale),
        ),
        section('allocation', 'Allocation', asOf, classPicker, h('div', { class: 'split' }, allocChart, allocTable)),
        section(
          'concentration',
          'Concentration',
          concentration instanceof Error ? '' : `as of ${day(concentration.asOf, locale)}`,
          concentration instanceof Error ? problem(concentration) : concentrationView(concentration, ccy, locale),
        ),
        section('holdings', 'Holdings', asOf, holdingsTable(review, ccy, locale)),
        section(
          'transactions',
          'Recent transactions',
          `${review.transactions?.ytdCount ?? 0} this year`,
          transactionsTable(review, locale),
        ),
      ),
    )

    // Charts: drawn once their containers are on the page (ECharts measures them).
    const invested = investedCapital(series)
    const dates = series.map((d) => d.date)
    const last = series.at(-1)
    draw(
      wealthChart,
      lines(
        dates,
        [
          { name: 'Wealth', values: series.map((d) => Number(d.emvBase)), area: true },
          { name: 'Net invested capital', values: invested.map((d) => d.value) },
        ],
        (v) => moneyShort(v, ccy, locale),
        (v) => money(v.toFixed(2), ccy, locale),
      ),
      last
        ? `Wealth over time, ${dates.length} days to ${last.date}: ${m(last.emvBase)} at the end, against net invested capital of ${m(invested.at(-1)?.value.toFixed(2))}.`
        : 'No series yet.',
    )
    if (!(performance instanceof Error)) {
      const points = performance.series
      const periods = points.map((s) => s.period)
      const bench = figures.benchmark
      // The benchmark from its close the day before the first return (the portfolio's start), else from that day.
      const first = periods[0] ?? ''
      let benchmarkLine = bench ? rebase(bench.levels, dayBefore(first), periods) : undefined
      if (bench && benchmarkLine?.every((v) => v === null)) benchmarkLine = rebase(bench.levels, first, periods)
      const lastPoint = points.at(-1)
      draw(
        twrChart,
        lines(
          periods,
          [
            { name: 'Portfolio (TWR, net)', values: points.map((s) => s.cumulative) },
            ...(benchmarkLine && bench ? [{ name: bench.id, values: benchmarkLine }] : []),
          ],
          (v) => percent(v, locale, 1),
          (v) => percent(v, locale),
        ),
        lastPoint
          ? `Cumulative time-weighted return to ${lastPoint.period}: ${percent(performance.twr.cumulative, locale)}${bench && benchmarkLine ? `; ${bench.id} ${percent(benchmarkLine.at(-1), locale)}` : ''}.`
          : 'No returns yet.',
      )
      const dd = drawdowns(points)
      const deepest = dd.reduce((low, d) => Math.min(low, d.drawdown), 0)
      draw(
        ddChart,
        lines(
          periods,
          [{ name: 'Drawdown', values: dd.map((d) => d.drawdown), area: true, color: '#c0392b' }],
          (v) => percent(v, locale, 1),
          (v) => percent(v, locale),
        ),
        `Drawdown curve; the deepest fall from a peak was ${percent(deepest, locale)}.`,
      )
    }
    function drawAllocation() {
      const slices = review.allocation?.[classification] ?? []
      const label = CLASSIFICATIONS.find(([c]) => c === classification)?.[1] ?? classification
      draw(
        allocChart,
        donut(
          slices.map((s) => ({ name: s.key, value: Number(s.value) })),
          (v) => money(v.toFixed(2), ccy, locale),
        ),
        `Allocation by ${label.toLowerCase()}: ${slices.map((s) => `${s.key} ${percent(s.weight, locale, 1)}`).join(', ')}.`,
      )
      allocTable.replaceChildren(
        table(
          [
            { label, key: (s) => s.key, cell: (s) => s.key },
            { label: 'Value', numeric: true, key: (s) => Number(s.value), cell: (s) => m(s.value) },
            {
              label: 'Weight',
              numeric: true,
              key: (s) => s.weight,
              cell: (s) => share(s.weight, locale, 1),
            },
          ],
          slices,
          { caption: `Allocation by ${label.toLowerCase()}`, id: 'allocation-table' },
        ),
      )
    }
    drawAllocation()
    tidy()
    renderFreshness()
  }

  const refresh = async () => {
    figures = await load()
    loadedAt = Date.now()
    render()
  }
  const signature = (s: Support) => JSON.stringify([s.businessDate, s.stages.map((x) => [x.completedAt, x.state])])

  support = await get<Support>(`${path}/support`)
  await refresh()
  let polling = false
  const timer = window.setInterval(async () => {
    // A background tab does not poll; it catches up at the first tick after it is shown again.
    if (signal.aborted || polling || document.hidden) return
    polling = true
    try {
      const next = await get<Support>(`${path}/support`)
      const changed = !support || signature(next) !== signature(support)
      support = next
      if (changed) await refresh()
      else renderFreshness()
    } catch {
      // A failed poll (a restart, a dropped connection) is retried at the next tick.
    } finally {
      polling = false
    }
  }, POLL_MS)
  signal.addEventListener('abort', () => window.clearInterval(timer))
}

function returnsTable(review: Review, locale: string) {
  type Row = NonNullable<Review['performance']>[number]
  const pct = (v: number | null | undefined) => h('span', { class: tone(sign(v)) }, percent(v, locale))
  return table<Row>(
    [
      {
        label: 'Period',
        cell: (r) => h('span', { title: r.from ? `from ${r.from}` : (r.unavailable ?? '') }, r.preset),
      },
      {
        label: 'Net',
        numeric: true,
        cell: (r) => (r.net ? pct(r.net.cumulative) : h('span', { title: r.unavailable ?? '' }, '–')),
      },
      { label: 'Gross', numeric: true, cell: (r) => (r.gross ? pct(r.gross.cumulative) : '–') },
      {
        label: 'Net, annualized',
        numeric: true,
        title: '(1 + cumulative)^(365 / days) − 1, only over more than a year',
        cell: (r) => (r.net?.annualized !== null && r.net?.annualized !== undefined ? pct(r.net.annualized) : '–'),
      },
      { label: 'Days', numeric: true, cell: (r) => r.net?.days ?? '–' },
    ],
    review.performance ?? [],
    { caption: 'Time-weighted returns, flows as recorded; net of fees and gross', id: 'returns-table' },
  )
}

function riskList(risk: Risk, locale: string) {
  const k = risk.annualizationFactor
  const per = `${risk.frequency} returns, annualized with k = ${k}`
  const dd = risk.maxDrawdown
  const varH = risk.valueAtRisk
  const items: [string, string, string][] = [
    ['Volatility', share(risk.volatility, locale), `Sample standard deviation of ${per} (× √k)`],
    [
      'Sharpe ratio',
      number(risk.sharpe, locale),
      `mean(r − rf) / sample std(r − rf) × √k; ${per}; risk-free rate ${percent(risk.riskFreeRate, locale)} a year`,
    ],
    [
      'Sortino ratio',
      number(risk.sortino, locale),
      `mean(r − MAR) / downside deviation × √k; MAR ${percent(risk.minimumAcceptableReturn, locale)} a year`,
    ],
    [
      'Max drawdown',
      percent(dd.maxDrawdown, locale),
      `Largest fall from a peak: peak ${dd.peak ?? '–'}, trough ${dd.trough ?? '–'}, recovered ${dd.recovery ?? 'not yet'}`,
    ],
    [
      `VaR ${share(varH.confidence, locale, 0)}`,
      share(varH.historical.var, locale),
      `Historical value at risk over ${varH.horizon} period(s), ${varH.quantile} quantile; a loss, positive`,
    ],
  ]
  if (risk.benchmark) {
    items.push([
      'Beta',
      number(risk.benchmark.beta, locale),
      `Against ${risk.benchmark.benchmarkId}: sample cov(r, b) / sample var(b)`,
    ])
    items.push(['Tracking error', share(risk.benchmark.trackingError, locale), 'Sample std(r − b) × √k'])
  }
  return h(
    'div',
    {},
    h('dl', { class: 'kpis' }, ...items.map(([label, value, how]) => kpi(label, value, { title: how }))),
    h(
      'details',
      {},
      h('summary', {}, 'How these are computed'),
      h('ul', {}, ...items.map(([label, , how]) => h('li', {}, h('strong', {}, `${label}: `), how))),
    ),
  )
}

function concentrationView(c: Concentration, ccy: string, locale: string) {
  const weight = (v: number) => share(v, locale, 1)
  return h(
    'div',
    {},
    h(
      'dl',
      { class: 'kpis' },
      kpi('HHI', number(c.hhi, locale, 4), {
        testid: 'hhi',
        title: 'Herfindahl–Hirschman index: Σ weight² over positions; 1 = a single position',
      }),
      kpi('Largest position', weight(c.largest)),
      kpi('Top 5', weight(c.top5)),
      kpi('Top 10', weight(c.top10)),
    ),
    table(
      [
        { label: 'Issuer', key: (i) => i.issuer, cell: (i) => i.issuer },
        { label: 'Value', numeric: true, key: (i) => Number(i.value), cell: (i) => money(i.value, ccy, locale) },
        { label: 'Weight', numeric: true, key: (i) => i.weight, cell: (i) => weight(i.weight) },
      ],
      c.issuers.slice(0, 10),
      { caption: 'Largest issuer exposures', sort: { column: 2, direction: 'desc' } },
    ),
  )
}

function holdingsTable(review: Review, ccy: string, locale: string) {
  type Position = NonNullable<Review['holdings']>[number]['positions'][number] & { assetClass: string }
  const groups = review.holdings ?? []
  const rows: Position[] = groups.flatMap((g) => g.positions.map((p) => ({ ...p, assetClass: g.assetClass })))
  const m = (v: string | null) => money(v, ccy, locale)
  return table<Position>(
    [
      { label: 'Position', key: (p) => p.positionId, cell: (p) => p.positionId },
      { label: 'Currency', key: (p) => p.currency, cell: (p) => p.currency },
      { label: 'Quantity', numeric: true, key: (p) => Number(p.quantity), cell: (p) => number(p.quantity, locale, 6) },
      { label: 'Cost', numeric: true, key: (p) => Number(p.costBase), cell: (p) => m(p.costBase) },
      {
        label: 'Value',
        numeric: true,
        key: (p) => (p.marketValueBase === null ? null : Number(p.marketValueBase)),
        cell: (p) => m(p.marketValueBase),
      },
      {
        label: 'Unrealized P&L',
        numeric: true,
        key: (p) => (p.unrealizedBase === null ? null : Number(p.unrealizedBase)),
        cell: (p) => h('span', { class: tone(sign(p.unrealizedBase)) }, m(p.unrealizedBase)),
      },
      {
        label: 'Weight',
        numeric: true,
        key: (p) => p.weight,
        cell: (p) => share(p.weight, locale, 1),
      },
    ],
    rows,
    {
      caption: `Holdings by asset class, in ${ccy}`,
      sort: { column: 4, direction: 'desc' },
      group: (p) => p.assetClass,
      groupLabel: (g) => `${g} · ${m(groups.find((x) => x.assetClass === g)?.value ?? null)}`,
      id: 'holdings-table',
    },
  )
}

function transactionsTable(review: Review, locale: string) {
  type Tx = NonNullable<Review['transactions']>['recent'][number]
  const gross = (t: Tx) => t.grossAmount ?? t.economics?.grossAmount ?? null
  return table<Tx>(
    [
      { label: 'Date', key: (t) => t.tradeDate, cell: (t) => day(t.tradeDate, locale) },
      { label: 'Type', key: (t) => t.type, cell: (t) => t.type },
      { label: 'Security', key: (t) => t.securityId ?? null, cell: (t) => t.securityId ?? '–' },
      {
        label: 'Quantity',
        numeric: true,
        key: (t) => (t.quantity ? Number(t.quantity) : null),
        cell: (t) => number(t.quantity ?? null, locale, 6),
      },
      {
        // As given, else what the engine derived (quantity × price).
        label: 'Amount',
        numeric: true,
        key: (t) => (gross(t) === null ? null : Number(gross(t))),
        cell: (t) => money(gross(t), t.currency, locale),
      },
      {
        label: 'Id',
        key: (t) => t.transactionId,
        cell: (t) =>
          t.rejection
            ? h('span', { class: 'neg', title: t.rejection.reason }, `${t.transactionId} (rejected)`)
            : t.transactionId,
      },
    ],
    review.transactions?.recent ?? [],
    { caption: 'This year’s transactions, newest first (at most 20)', id: 'transactions-table' },
  )
}
