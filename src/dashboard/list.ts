/**
 * The portfolio list (#/): every portfolio the key may see, searchable and filtered by client,
 * booking centre and base currency, with its wealth, YTD TWR, last update and pipeline state
 * (fetched per row, a few at a time, and refreshed while the page is open).
 */
import { get, inTurn } from './api.ts'
import { h, keepFocus, show, tone } from './dom.ts'
import { ago, money, percent, sign } from './format.ts'
import { table } from './table.ts'
import { lastUpdate, type Page, type Portfolio, pipelineState, type Review, type Support } from './types.ts'

type Row = {
  portfolio: Portfolio
  review?: Review
  support?: Support
  failed?: string
}

const REFRESH_MS = 15_000

export async function listPage(root: HTMLElement, locale: string, signal: AbortSignal): Promise<void> {
  const portfolios: Portfolio[] = []
  for (let offset = 0; ; offset += 1000) {
    const page = await get<Page<Portfolio>>(`/v1/portfolios?limit=1000&offset=${offset}`)
    portfolios.push(...page.items)
    if (portfolios.length >= page.total || page.items.length === 0) break
  }
  const rows: Row[] = portfolios.map((portfolio) => ({ portfolio }))
  const filters = { text: '', clientId: '', bookingCentre: '', baseCurrency: '' }

  const choices = (pick: (p: Portfolio) => string | undefined) =>
    [...new Set(portfolios.map(pick).filter((v): v is string => !!v))].sort()
  const select = (label: string, field: 'clientId' | 'bookingCentre' | 'baseCurrency', values: string[]) =>
    h(
      'label',
      {},
      `${label} `,
      h(
        'select',
        {
          name: field,
          onchange: (e: Event) => {
            filters[field] = (e.target as HTMLSelectElement).value
            render()
          },
        },
        h('option', { value: '' }, 'All'),
        ...values.map((v) => h('option', { value: v }, v)),
      ),
    )
  const holder = h('div', { class: 'table-wrap' })
  const count = h('p', { class: 'muted', 'aria-live': 'polite' })
  show(
    root,
    h('h1', {}, 'Portfolios'),
    h(
      'form',
      { class: 'filters', role: 'search', onsubmit: (e: Event) => e.preventDefault() },
      h(
        'label',
        {},
        'Search ',
        h('input', {
          type: 'search',
          name: 'q',
          placeholder: 'id, client, booking centre',
          oninput: (e: Event) => {
            filters.text = (e.target as HTMLInputElement).value.trim().toLowerCase()
            render()
          },
        }),
      ),
      select(
        'Client',
        'clientId',
        choices((p) => p.clientId),
      ),
      select(
        'Booking centre',
        'bookingCentre',
        choices((p) => p.bookingCentre),
      ),
      select(
        'Currency',
        'baseCurrency',
        choices((p) => p.baseCurrency),
      ),
    ),
    count,
    holder,
  )

  const visible = () =>
    rows.filter(({ portfolio: p }) => {
      if (filters.clientId && p.clientId !== filters.clientId) return false
      if (filters.bookingCentre && p.bookingCentre !== filters.bookingCentre) return false
      if (filters.baseCurrency && p.baseCurrency !== filters.baseCurrency) return false
      const text = [p.portfolioId, p.clientId, p.bookingCentre, p.portfolioType, p.riskProfile].join(' ').toLowerCase()
      return filters.text === '' || text.includes(filters.text)
    })
  const ytd = (r: Row) => r.review?.performance?.find((f) => f.preset === 'YTD')?.net?.cumulative ?? null
  function render() {
    const now = Date.now()
    const shown = visible()
    count.textContent = `${shown.length} of ${rows.length} portfolios`
    const t = table<Row>(
      [
        {
          label: 'Portfolio',
          key: (r) => r.portfolio.portfolioId,
          cell: (r) => h('a', { href: `#/p/${encodeURIComponent(r.portfolio.portfolioId)}` }, r.portfolio.portfolioId),
        },
        { label: 'Client', key: (r) => r.portfolio.clientId ?? null, cell: (r) => r.portfolio.clientId ?? '–' },
        {
          label: 'Booking centre',
          key: (r) => r.portfolio.bookingCentre ?? null,
          cell: (r) => r.portfolio.bookingCentre ?? '–',
        },
        { label: 'Currency', key: (r) => r.portfolio.baseCurrency, cell: (r) => r.portfolio.baseCurrency },
        {
          label: 'Wealth',
          numeric: true,
          key: (r) => (r.review?.overview ? Number(r.review.overview.totalWealth) : null),
          cell: (r) =>
            r.review?.overview
              ? money(r.review.overview.totalWealth, r.portfolio.baseCurrency, locale)
              : (r.failed ?? '…'),
        },
        {
          label: 'YTD TWR',
          numeric: true,
          title: 'Time-weighted return, net of fees, since 1 January',
          key: ytd,
          cell: (r) => h('span', { class: tone(sign(ytd(r))) }, r.review ? percent(ytd(r), locale) : '…'),
        },
        {
          label: 'As of',
          key: (r) => r.review?.asOf ?? null,
          cell: (r) => r.review?.asOf ?? '…',
        },
        {
          label: 'Last update',
          key: (r) => (r.support ? lastUpdate(r.support) : null),
          cell: (r) => (r.support ? ago(lastUpdate(r.support), now, locale) : '…'),
        },
        {
          label: 'Pipeline',
          key: (r) => (r.support ? pipelineState(r.support) : null),
          cell: (r) => {
            if (!r.support) return '…'
            const state = pipelineState(r.support)
            return h('span', { class: `state ${state}` }, state)
          },
        },
      ],
      shown,
      {
        caption: 'Portfolios, with wealth in each portfolio’s base currency',
        sort: { column: 0, direction: 'asc' },
        id: 'portfolio-list',
      },
    )
    keepFocus(holder, () => holder.replaceChildren(t))
  }
  render()

  let pending = 0
  const redraw = () => {
    // Redraw at most every 250 ms while rows arrive, so a long list is not drawn once per row.
    if (pending) return
    pending = window.setTimeout(() => {
      pending = 0
      if (!signal.aborted) render()
    }, 250)
  }
  const fetchRows = () =>
    inTurn(
      rows.map((row) => async () => {
        if (signal.aborted) return
        const id = encodeURIComponent(row.portfolio.portfolioId)
        try {
          ;[row.review, row.support] = await Promise.all([
            get<Review>(`/v1/portfolios/${id}/review?sections=overview,performance`),
            get<Support>(`/v1/portfolios/${id}/support`),
          ])
          row.failed = undefined
        } catch (error) {
          row.failed = (error as Error).message
        }
        redraw()
      }),
      4,
    )
  await fetchRows()
  const timer = window.setInterval(() => {
    if (signal.aborted) return window.clearInterval(timer)
    if (document.hidden) return // a background tab does not poll
    void fetchRows()
  }, REFRESH_MS)
  signal.addEventListener('abort', () => window.clearInterval(timer))
}
