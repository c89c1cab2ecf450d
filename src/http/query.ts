import { OptionalKind, type TProperties } from '@sinclair/typebox'
import { Elysia, t } from 'elysia'
import type { Sql } from '../adapters/pg-client.ts'
import { type PeriodName, type Preset, Presets, parsePeriods } from '../analytics/periods.ts'
import { FeeScopes, FlowTimings } from '../analytics/returns.ts'
import { QuantileRules } from '../analytics/risk.ts'
import { XIRR_SOLVER, xirr } from '../analytics/xirr.ts'
import { isIsoDate } from '../domain/dates.ts'
import { literalUnion } from '../domain/literal-union.ts'
import {
  CashflowClasses,
  Classifications,
  Currency,
  Id,
  IsoDateString,
  Text,
  TransactionTypes,
} from '../domain/records.ts'
import { PgReads, TransactionSorts } from '../query/pg-reads.ts'
import { type ReviewSection, ReviewSections } from '../query/review.ts'
import {
  AnswerSchemas,
  JsonAnswer,
  QueryError,
  QueryService,
  type Questions,
  unknownPortfolio,
} from '../query/service.ts'
import {
  BenchmarkSummaryView,
  BenchmarkView,
  CashflowView,
  FxRateView,
  HolidayView,
  InstrumentView,
  Page,
  PortfolioSeriesView,
  PortfolioView,
  PositionHistoryView,
  PositionSeriesView,
  PriceView,
  TransactionView,
  ValuationView,
  XirrView,
} from '../query/views.ts'
import { type Principal, principalOf } from './auth.ts'
import { ErrorBody, errorBody, namedValidation } from './errors.ts'

const Day = (description: string) =>
  t.Optional(t.String({ pattern: IsoDateString.pattern, description: `${description}; ${IsoDateString.description}` }))
/** Ids in paths and filters follow the record schemas: a NUL or a 1 MiB id is a 400, never a database error. */
const idRules = { minLength: Id.minLength, maxLength: Id.maxLength, pattern: Id.pattern }
const IdParam = (description: string) => t.String({ ...idRules, description })
const IdFilter = (description?: string) => t.Optional(IdParam(description ?? 'An id'))
const TextFilter = (description: string) =>
  t.Optional(t.String({ maxLength: 256, pattern: Text().pattern, description }))
const Range = {
  from: Day('First day, inclusive (YYYY-MM-DD); default: the first day there is'),
  to: Day('Last day, inclusive (YYYY-MM-DD); default: the last day there is'),
}
const Paging = {
  limit: t.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Rows per page, 1–1000' }),
  offset: t.Integer({ minimum: 0, default: 0, description: 'Rows to skip' }),
}
/** Paging of the market-data series: all of the range by default, oldest first. */
const SeriesPaging = {
  sort: t.Optional(literalUnion(['date', '-date'] as const, { description: 'date (default) or -date: newest first' })),
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 100_000, description: 'At most this many days; default all' })),
  offset: t.Optional(t.Integer({ minimum: 0, maximum: 1_000_000_000, description: 'Days to skip' })),
}
const SERIES_PAGING =
  'The whole range by default, oldest first; `sort=-date`, `limit` and `offset` page it, and the X-Total-Count header counts the range.'

/** A dated series as the answer, with its range's size in X-Total-Count. */
async function totalled<T>(set: { headers: Record<string, unknown> }, series: Promise<T[] & { total: number }>) {
  const rows = await series
  set.headers['x-total-count'] = String(rows.total)
  return [...rows]
}

const PeriodQuery = {
  period: t.Optional(
    literalUnion(Presets, { description: 'A preset ending on `to` (MTD, QTD, YTD, 1Y, 3Y, 5Y, SI); else from/to' }),
  ),
  from: Day('First day, inclusive; default: inception. Ignored with `period`'),
  to: Day('Last day, inclusive, also the as-of date of presets; default: the business date'),
}
const XIRR_CONVENTIONS = {
  dayCount: 'actual/365, from the earliest flow',
  signs: 'as given: paid in negative, received positive',
  solver: XIRR_SOLVER,
}

/** The period a request asks for: a preset, or from/to. */
const periodAsked = (q: { period?: Preset | undefined; from?: string | undefined; to?: string | undefined }) => ({
  preset: q.period,
  from: q.from,
  to: q.to,
})

/** `period` of the summaries, which default to the year to date. */
const YtdDefault = t.Optional(
  literalUnion(Presets, {
    description: 'A preset ending on `to` (MTD, QTD, YTD, 1Y, 3Y, 5Y, SI); default YTD unless `from` is given',
  }),
)
/** `periods=` of performance and risk: further named periods, parsed by periodsOf. */
const PeriodsQuery = t.Optional(
  t.String({
    maxLength: 200,
    description: 'Further periods, comma-separated: presets and calendar years, e.g. MTD,QTD,YTD,1Y,3Y,SI,Y2024',
  }),
)
const PortfolioParams = t.Object({ portfolioId: IdParam('The portfolio id') })
const PositionParams = t.Object({
  portfolioId: IdParam('The portfolio id'),
  positionId: IdParam('securityId, or CASH:<currency>'),
})
const errors = { 400: ErrorBody, 404: ErrorBody, 422: ErrorBody }

/**
 * A query-string schema whose parameters carry their names as titles, so errors can name them.
 * Elysia's integer is a union (a numeric string, or an integer) whose errors report the inner
 * integer's schema, so an integer is made again with the title among its options.
 */
function queryOf<P extends TProperties>(properties: P) {
  const titled = Object.fromEntries(
    Object.entries(properties).map(([k, v]) => {
      const integer = (v.anyOf as { type?: string }[] | undefined)?.some((x) => x.type === 'integer')
      if (!integer) return [k, { ...v, title: k }]
      const options = Object.fromEntries(Object.entries(v).filter(([key]) => key !== 'anyOf'))
      const titledInteger = t.Integer({ ...options, title: k })
      return [k, v[OptionalKind] === 'Optional' ? t.Optional(titledInteger) : titledInteger]
    }),
  ) as P
  return t.Object(titled)
}

/** Dates the pattern accepts but the calendar does not (2025-02-30): 400 naming the parameter. */
function checkDates(query: Record<string, unknown>): void {
  for (const field of ['from', 'to', 'asOf'] as const) {
    const value = query[field]
    if (typeof value === 'string' && !isIsoDate(value)) {
      throw new QueryError(400, { error: `${field}: ${value} is not a calendar date`, field })
    }
  }
}

type Answer = {
  request: Request
  status: (code: 400 | 404 | 422, body: ErrorBody) => unknown
  query?: unknown
  params?: Record<string, string>
}
/** A risk request names one benchmark at most: a series or a security. */
function oneBenchmark(benchmarkId: string | undefined, securityId: string | undefined): string | undefined {
  if (benchmarkId !== undefined && securityId !== undefined) {
    throw new QueryError(400, {
      error: 'benchmarkSecurityId: give it or benchmarkId, not both',
      field: 'benchmarkSecurityId',
    })
  }
  return securityId
}

/** `periods=MTD,YTD,Y2024`: 400 naming `periods` for a name that is neither a preset nor a year. */
function periodsOf(periods: string | undefined): PeriodName[] | undefined {
  if (periods === undefined) return undefined
  const parsed = parsePeriods(periods)
  if (!parsed.ok) {
    throw new QueryError(400, {
      error: `periods: ${parsed.wrong} is neither a preset (${Presets.join(', ')}) nor a year (Y2024)`,
      field: 'periods',
    })
  }
  return parsed.names
}

/** `sections=overview,risk`: 400 naming `sections` for a name that is not a section. */
function sectionsOf(sections: string | undefined): ReviewSection[] | undefined {
  if (sections === undefined) return undefined
  const names = sections.split(',').map((s) => s.trim())
  const wrong = names.find((n) => !(ReviewSections as readonly string[]).includes(n))
  if (wrong !== undefined) {
    throw new QueryError(400, {
      error: `sections: ${wrong} is not one of ${ReviewSections.join(', ')}`,
      field: 'sections',
    })
  }
  return names as ReviewSection[]
}

/** The top-N counts of `top=3,5,10` (default 5); each must be 1 to 100. */
function topsOf(top: string | undefined): number[] {
  const tops = (top ?? '5').split(',').map(Number)
  const wrong = tops.find((n) => n < 1 || n > 100)
  if (wrong !== undefined) throw new QueryError(400, { error: `top: ${wrong} is not between 1 and 100`, field: 'top' })
  return tops
}

/** Whether the key may see a portfolio: keys limited to some clients see only their portfolios. */
type Visible = (principal: Principal, portfolioId: string) => Promise<boolean>

/**
 * Runs a handler: dates checked, the portfolio in the path visible to the caller's key (else 404,
 * as if it did not exist), and a QueryError answered with its status in the one error shape. A
 * JsonAnswer (a query worker's) is sent as its text.
 */
async function answer<T>(ctx: Answer, visible: Visible, fn: () => Promise<T>) {
  try {
    if (ctx.query) checkDates(ctx.query as Record<string, unknown>)
    const portfolioId = ctx.params?.portfolioId
    if (portfolioId !== undefined && !(await visible(principalOf(ctx.request), portfolioId))) {
      throw unknownPortfolio(portfolioId)
    }
    const value = await fn()
    // From a query worker: checked against the route's schema and serialized there already.
    return value instanceof JsonAnswer
      ? (new Response(value.text, {
          headers: { 'content-type': 'application/json;charset=utf-8' },
        }) as never as Exclude<T, JsonAnswer>)
      : (value as Exclude<T, JsonAnswer>)
  } catch (error) {
    if (!(error instanceof QueryError)) throw error
    const { error: message, ...extra } = error.body
    return ctx.status(error.status, errorBody(ctx.request, error.status, message, extra)) as never
  }
}

/**
 * The query API (role `api`): reads of what the pipeline stored, and analytics computed on
 * request from the daily series. Conventions: docs/analytics.md, echoed in each analytics answer.
 * `service` answers the analytics: on this thread, or a QueryPool's worker threads.
 */
export function queryRoutes(sql: Sql, service: Questions = new QueryService(sql)) {
  const reads = new PgReads(sql)
  const visible: Visible = async (principal, portfolioId) => {
    if (principal.clientIds === null) return true
    const p = await reads.portfolio(portfolioId)
    return p === undefined || (p.clientId !== undefined && principal.clientIds.includes(p.clientId))
  }
  const knownPortfolio = async (portfolioId: string) => {
    if (!(await reads.portfolio(portfolioId))) {
      throw unknownPortfolio(portfolioId)
    }
  }
  const doc = (tag: string, summary: string, description?: string) => ({
    detail: { tags: [tag], summary, ...(description ? { description } : {}) },
  })

  return (
    new Elysia({ prefix: '/v1' })
      .use(namedValidation)
      /* ---- reference data ---- */
      .get(
        '/portfolios',
        ({ query, request }) =>
          reads.portfolios(
            {
              ...query,
              portfolioIds: query.portfolioIds?.split(',').filter((id) => id !== ''),
              clientIds: principalOf(request).clientIds,
            },
            query,
          ),
        {
          query: queryOf({
            portfolioIds: t.Optional(
              t.String({
                maxLength: 1000 * (Number(Id.maxLength) + 1),
                pattern: Text().pattern,
                description: 'Only these portfolios: ids separated by commas (an id with a comma cannot be listed)',
              }),
            ),
            clientId: IdFilter('Only this client’s portfolios'),
            bookingCentre: TextFilter('Only portfolios booked here'),
            ...Paging,
          }),
          response: { 200: Page(PortfolioView), ...errors },
          ...doc('reference', 'List portfolios', 'Sorted by id. A key limited to some clients lists only theirs.'),
        },
      )
      .get(
        '/portfolios/:portfolioId',
        (ctx) =>
          answer(ctx, visible, async () => {
            const p = await reads.portfolio(ctx.params.portfolioId)
            if (!p) throw unknownPortfolio(ctx.params.portfolioId)
            return p
          }),
        { params: PortfolioParams, response: { 200: PortfolioView, ...errors }, ...doc('reference', 'One portfolio') },
      )
      .get('/instruments', ({ query }) => reads.instruments(query, query), {
        query: queryOf({
          assetClass: TextFilter('Only this asset class'),
          productType: TextFilter('Only this product type'),
          issuerId: IdFilter('Issuer or ultimate parent issuer'),
          currency: t.Optional(t.String({ pattern: Currency.pattern, description: 'ISO 4217 code' })),
          ...Paging,
        }),
        response: { 200: Page(InstrumentView), ...errors },
        ...doc('reference', 'List instruments', 'Sorted by security id.'),
      })
      .get(
        '/instruments/:securityId',
        (ctx) =>
          answer(ctx, visible, async () => {
            const i = await reads.instrument(ctx.params.securityId)
            if (!i) throw new QueryError(404, { error: `no instrument ${ctx.params.securityId}`, field: 'securityId' })
            return i
          }),
        {
          params: t.Object({ securityId: IdParam('The security id') }),
          response: { 200: InstrumentView, ...errors },
          ...doc('reference', 'One instrument'),
        },
      )
      /* ---- transactions and what the engine derived ---- */
      .get(
        '/portfolios/:portfolioId/transactions',
        (ctx) =>
          answer(ctx, visible, async () => {
            await knownPortfolio(ctx.params.portfolioId)
            return reads.transactions(ctx.params.portfolioId, ctx.query, ctx.query)
          }),
        {
          params: PortfolioParams,
          query: queryOf({
            ...Range,
            securityId: IdFilter('Only this security'),
            type: t.Optional(literalUnion(TransactionTypes)),
            sort: t.Optional(
              literalUnion(TransactionSorts, {
                description:
                  'By trade date (default), id, quantity, price or gross amount (as given, else quantity × price); - for descending; those without the field last',
              }),
            ),
            ...Paging,
          }),
          response: { 200: Page(TransactionView), ...errors },
          ...doc(
            'transactions',
            'Transactions of a portfolio',
            'Filter by trade-date range, security and type; each with its rejection, if the engine refused it, or its economics (gross amount, FX rate, change in cost, realized P&L in price and FX parts, cashflow).',
          ),
        },
      )
      .get(
        '/portfolios/:portfolioId/transactions/:transactionId',
        (ctx) =>
          answer(ctx, visible, async () => {
            await knownPortfolio(ctx.params.portfolioId)
            const { transactionId } = ctx.params
            const [found] = (
              await reads.transactions(ctx.params.portfolioId, { transactionId }, { limit: 1, offset: 0 })
            ).items
            if (!found) throw new QueryError(404, { error: `no transaction ${transactionId}`, field: 'transactionId' })
            return found
          }),
        {
          params: t.Object({
            portfolioId: IdParam('The portfolio id'),
            transactionId: IdParam('The transaction id'),
          }),
          response: { 200: TransactionView, ...errors },
          ...doc(
            'transactions',
            'One transaction with its economics',
            'As stored (latest version), with its rejection or what the engine derived: gross amount, FX rate, change in cost, realized P&L split into price and FX, and its cashflow.',
          ),
        },
      )
      .get(
        '/portfolios/:portfolioId/positions',
        (ctx) =>
          answer(ctx, visible, () =>
            service.positions(ctx.params.portfolioId, ctx.query.asOf, ctx.query.includeClosed ?? false),
          ),
        {
          params: PortfolioParams,
          query: queryOf({
            asOf: Day('Positions at the end of this day; default: the business date'),
            includeClosed: t.Optional(t.Boolean({ description: 'Also positions with quantity 0' })),
          }),
          response: { 200: AnswerSchemas.positions, ...errors },
          ...doc(
            'positions',
            'Positions as of a date',
            'Quantity, cost, realized P&L and income from the position history; market value from the latest valuation on or before the date.',
          ),
        },
      )
      .get(
        '/portfolios/:portfolioId/positions/:positionId/history',
        (ctx) =>
          answer(ctx, visible, async () => {
            await knownPortfolio(ctx.params.portfolioId)
            return reads.positionHistory(ctx.params.portfolioId, ctx.params.positionId, ctx.query)
          }),
        {
          params: PositionParams,
          query: queryOf(Range),
          response: { 200: t.Array(PositionHistoryView), ...errors },
          ...doc(
            'positions',
            'Position history',
            'One row per transaction that changed the position, with its open lots.',
          ),
        },
      )
      .get(
        '/portfolios/:portfolioId/cashflows',
        (ctx) =>
          answer(ctx, visible, async () => {
            await knownPortfolio(ctx.params.portfolioId)
            return reads.cashflows(ctx.params.portfolioId, ctx.query)
          }),
        {
          params: PortfolioParams,
          query: queryOf({ ...Range, class: t.Optional(literalUnion(CashflowClasses)) }),
          response: { 200: t.Array(CashflowView), ...errors },
          ...doc(
            'transactions',
            'Cashflows',
            'Signed from the portfolio’s side; class and start/end-of-day timing as in docs/domain.md.',
          ),
        },
      )
      .get(
        '/portfolios/:portfolioId/valuations',
        (ctx) =>
          answer(ctx, visible, async () => {
            await knownPortfolio(ctx.params.portfolioId)
            const { from, to } = ctx.query
            const day = (from ?? to) ? {} : { from: (await reads.businessDate()) ?? undefined }
            const range = {
              from: from ?? day.from,
              to: to ?? day.from,
              positionId: ctx.query.positionId,
              staleAfterDays: ctx.query.staleAfterDays,
            }
            return reads.valuations(ctx.params.portfolioId, range, ctx.query)
          }),
        {
          params: PortfolioParams,
          query: queryOf({
            ...Range,
            positionId: IdFilter('Only this position'),
            staleAfterDays: t.Optional(
              t.Integer({
                minimum: 0,
                maximum: 3660,
                description: 'A price older than this many calendar days than the day it values is stale; default 5',
              }),
            ),
            ...Paging,
          }),
          response: { 200: Page(ValuationView), ...errors },
          ...doc(
            'valuation',
            'Daily valuations',
            'Without from/to: the business date only. Paged, by date then position. A row whose status is not VALUED has no market value.',
          ),
        },
      )
      .get(
        '/portfolios/:portfolioId/series',
        (ctx) =>
          answer(ctx, visible, async () => {
            await knownPortfolio(ctx.params.portfolioId)
            return reads.portfolioSeries(ctx.params.portfolioId, ctx.query)
          }),
        {
          params: PortfolioParams,
          query: queryOf(Range),
          response: { 200: t.Array(PortfolioSeriesView), ...errors },
          ...doc('series', 'Portfolio daily series', 'Base currency, one point per business day.'),
        },
      )
      .get(
        '/portfolios/:portfolioId/positions/:positionId/series',
        (ctx) =>
          answer(ctx, visible, async () => {
            await knownPortfolio(ctx.params.portfolioId)
            return reads.positionSeries(ctx.params.portfolioId, { ...ctx.query, positionId: ctx.params.positionId })
          }),
        {
          params: PositionParams,
          query: queryOf(Range),
          response: { 200: t.Array(PositionSeriesView), ...errors },
          ...doc('series', 'Position daily series'),
        },
      )
      /* ---- market data ---- */
      .get(
        '/prices/:securityId',
        (ctx) =>
          answer(ctx, visible, () => totalled(ctx.set, reads.prices(ctx.params.securityId, ctx.query, ctx.query))),
        {
          params: t.Object({ securityId: IdParam('The security id') }),
          query: queryOf({ ...Range, ...SeriesPaging }),
          response: { 200: t.Array(PriceView), ...errors },
          ...doc('market data', 'Prices of a security', SERIES_PAGING),
        },
      )
      .get(
        '/fx-rates/:base/:quote',
        (ctx) =>
          answer(ctx, visible, () =>
            totalled(ctx.set, reads.fxRates(ctx.params.base, ctx.params.quote, ctx.query, ctx.query)),
          ),
        {
          params: t.Object({
            base: t.String({ pattern: Currency.pattern, description: 'From currency' }),
            quote: t.String({ pattern: Currency.pattern, description: 'To currency' }),
          }),
          query: queryOf({ ...Range, ...SeriesPaging }),
          response: { 200: t.Array(FxRateView), ...errors },
          ...doc(
            'market data',
            'FX rates as stored',
            `Units of quote per one base. The inverse pair is derived when valuing, not listed here. ${SERIES_PAGING}`,
          ),
        },
      )
      .get(
        '/calendars/:calendarId/holidays',
        (ctx) =>
          answer(ctx, visible, () => totalled(ctx.set, reads.holidayList(ctx.params.calendarId, ctx.query, ctx.query))),
        {
          params: t.Object({ calendarId: IdParam('The holiday calendar, as portfolios name it in `calendar`') }),
          query: queryOf({ ...Range, ...SeriesPaging }),
          response: { 200: t.Array(HolidayView), ...errors },
          ...doc(
            'market data',
            'The holidays of a holiday calendar',
            `Days its portfolios are not valued on (POST /v1/ingest/holidays); none for an unknown calendar. ${SERIES_PAGING}`,
          ),
        },
      )
      .get('/benchmarks', () => reads.benchmarks(), {
        response: { 200: t.Array(BenchmarkSummaryView), ...errors },
        ...doc('market data', 'Every benchmark', 'Its id and the first and last day with a level, by id.'),
      })
      .get(
        '/benchmarks/:benchmarkId',
        (ctx) =>
          answer(ctx, visible, () => totalled(ctx.set, reads.benchmark(ctx.params.benchmarkId, ctx.query, ctx.query))),
        {
          params: t.Object({ benchmarkId: IdParam('The benchmark id') }),
          query: queryOf({ ...Range, ...SeriesPaging }),
          response: { 200: t.Array(BenchmarkView), ...errors },
          ...doc('market data', 'A benchmark series', SERIES_PAGING),
        },
      )
      /* ---- analytics ---- */
      .get(
        '/portfolios/:portfolioId/performance',
        (ctx) =>
          answer(ctx, visible, () =>
            service.performance(ctx.params.portfolioId, {
              ...periodAsked(ctx.query),
              timing: ctx.query.timing ?? 'recorded',
              fees: ctx.query.fees ?? 'net',
              frequency: ctx.query.frequency ?? 'monthly',
              periods: periodsOf(ctx.query.periods),
              attributes: ctx.query.attributes,
            }),
          ),
        {
          params: PortfolioParams,
          query: queryOf({
            ...PeriodQuery,
            timing: t.Optional(
              literalUnion(FlowTimings, {
                description: 'Flows as recorded (default), all at start or all at end of day',
              }),
            ),
            fees: t.Optional(literalUnion(FeeScopes, { description: 'net (default) or gross of fees' })),
            frequency: t.Optional(
              literalUnion(['daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'none'] as const, {
                description: 'Return series to include; default monthly',
              }),
            ),
            periods: PeriodsQuery,
            attributes: t.Optional(
              t.Boolean({ description: 'With each of periods: begin and end value, flows and fees' }),
            ),
          }),
          response: { 200: AnswerSchemas.performance, ...errors },
          ...doc(
            'analytics',
            'Time-weighted return',
            'Daily returns linked geometrically; annualized only over one calendar year. A period with days lacking complete data answers 422 listing them.',
          ),
        },
      )
      .get(
        '/portfolios/:portfolioId/mwr',
        (ctx) => answer(ctx, visible, () => service.mwr(ctx.params.portfolioId, periodAsked(ctx.query))),
        {
          params: PortfolioParams,
          query: queryOf(PeriodQuery),
          response: { 200: AnswerSchemas.mwr, ...errors },
          ...doc(
            'analytics',
            'Money-weighted return (XIRR)',
            'actual/365; `solved: false` with the reason when no rate exists; the period return, not the annual rate, under a year.',
          ),
        },
      )
      .get(
        '/portfolios/:portfolioId/contribution',
        (ctx) => answer(ctx, visible, () => service.contribution(ctx.params.portfolioId, periodAsked(ctx.query))),
        {
          params: PortfolioParams,
          query: queryOf(PeriodQuery),
          response: { 200: AnswerSchemas.contribution, ...errors },
          ...doc('analytics', 'Contribution to return per position', 'Plus each position’s own TWR.'),
        },
      )
      .get(
        '/portfolios/:portfolioId/attribution',
        (ctx) =>
          answer(ctx, visible, () =>
            service.attribution(ctx.params.portfolioId, {
              ...periodAsked(ctx.query),
              benchmarkId: ctx.query.benchmarkId,
              classification: ctx.query.classification ?? 'assetClass',
              method: ctx.query.method ?? 'BF',
            }),
          ),
        {
          params: PortfolioParams,
          query: queryOf({
            ...PeriodQuery,
            benchmarkId: IdParam(
              'The benchmark whose segments (POST /v1/ingest/benchmark-segments) it is measured against',
            ),
            classification: t.Optional(
              literalUnion(Classifications, { description: 'Segments by this instrument field; default assetClass' }),
            ),
            method: t.Optional(
              literalUnion(['BF', 'BHB'] as const, {
                description: 'BF: Brinson–Fachler (default); BHB: Brinson–Hood–Beebower',
              }),
            ),
          }),
          response: { 200: AnswerSchemas.attribution, ...errors },
          ...doc(
            'analytics',
            'Return attribution (Brinson)',
            'Allocation, selection and interaction per segment, each business day against the benchmark’s segments of that day, linked by Carino. A day without benchmark segments, or whose weights do not sum to 1, answers 422.',
          ),
        },
      )
      .get(
        '/portfolios/:portfolioId/risk',
        (ctx) =>
          answer(ctx, visible, () =>
            service.risk(ctx.params.portfolioId, {
              ...periodAsked(ctx.query),
              frequency: ctx.query.frequency ?? 'daily',
              annualizationFactor: ctx.query.annualizationFactor,
              riskFreeRate: ctx.query.riskFreeRate ?? 0,
              minimumAcceptableReturn: ctx.query.mar ?? 0,
              confidence: ctx.query.confidence ?? 0.95,
              horizon: ctx.query.horizon ?? 1,
              quantile: ctx.query.quantile,
              benchmarkId: ctx.query.benchmarkId,
              benchmarkSecurityId: oneBenchmark(ctx.query.benchmarkId, ctx.query.benchmarkSecurityId),
              fees: ctx.query.fees,
              returns: ctx.query.returns,
              periods: periodsOf(ctx.query.periods),
            }),
          ),
        {
          params: PortfolioParams,
          query: queryOf({
            ...PeriodQuery,
            frequency: t.Optional(
              literalUnion(['daily', 'weekly', 'monthly'] as const, { description: 'Return frequency; default daily' }),
            ),
            fees: t.Optional(literalUnion(FeeScopes, { description: 'net (default) or gross of fees' })),
            returns: t.Optional(
              literalUnion(['simple', 'log'] as const, {
                description: 'Statistics on simple periodic returns (default) or on log returns ln(1 + r)',
              }),
            ),
            annualizationFactor: t.Optional(t.Number({ exclusiveMinimum: 0, description: 'k; default 252, 52 or 12' })),
            riskFreeRate: t.Optional(t.Number({ minimum: -1, description: 'Annual, as a fraction; default 0' })),
            mar: t.Optional(
              t.Number({ minimum: -1, description: 'Minimum acceptable return for Sortino, annual; default 0' }),
            ),
            confidence: t.Optional(
              t.Number({
                exclusiveMinimum: 0,
                exclusiveMaximum: 1,
                description:
                  'VaR confidence in (0, 1); default 0.95 (below 0.5 the historical VaR can be a gain, negative)',
              }),
            ),
            quantile: t.Optional(
              literalUnion(QuantileRules, {
                description: 'Historical quantile by nearest rank (default) or linear interpolation (numpy’s default)',
              }),
            ),
            horizon: t.Optional(t.Integer({ minimum: 1, description: 'VaR horizon in periods; default 1' })),
            benchmarkId: IdFilter('Adds beta, tracking error and information ratio'),
            periods: PeriodsQuery,
            benchmarkSecurityId: IdFilter(
              'A security whose prices serve as the benchmark (its own currency), instead of benchmarkId',
            ),
          }),
          response: { 200: AnswerSchemas.risk, ...errors },
          ...doc('analytics', 'Risk statistics', 'On the periodic TWR series; every convention echoed in the answer.'),
        },
      )
      .get(
        '/portfolios/:portfolioId/concentration',
        (ctx) =>
          answer(ctx, visible, () =>
            service.concentration(ctx.params.portfolioId, { asOf: ctx.query.asOf, top: topsOf(ctx.query.top) }),
          ),
        {
          params: PortfolioParams,
          query: queryOf({
            asOf: Day('Valuations of this day; default: the business date'),
            top: t.Optional(
              t.String({
                pattern: '^[0-9]{1,3}(,[0-9]{1,3}){0,9}$',
                description:
                  'N of the top-N share, or up to ten of them comma-separated (`3,5,10`), each 1 to 100; default 5',
              }),
            ),
          }),
          response: { 200: AnswerSchemas.concentration, ...errors },
          ...doc(
            'analytics',
            'Concentration',
            'Weights, HHI, top-N, issuer exposure and allocation by asset class, sector, country and currency.',
          ),
        },
      )
      .get(
        '/portfolios/:portfolioId/review',
        (ctx) =>
          answer(ctx, visible, () =>
            service.review(ctx.params.portfolioId, { asOf: ctx.query.asOf, sections: sectionsOf(ctx.query.sections) }),
          ),
        {
          params: PortfolioParams,
          query: queryOf({
            asOf: Day('The snapshot date; default: the business date'),
            sections: t.Optional(
              t.String({
                maxLength: 200,
                description: `Only these sections, comma-separated (default all): ${ReviewSections.join(', ')}`,
              }),
            ),
          }),
          response: { 200: AnswerSchemas.review, ...errors },
          ...doc(
            'analytics',
            'Portfolio review',
            'Overview, allocation, performance presets, risk, activity, holdings and recent transactions from one consistent snapshot.',
          ),
        },
      )
      .get(
        '/portfolios/:portfolioId/summary',
        (ctx) => answer(ctx, visible, () => service.summary(ctx.params.portfolioId, periodAsked(ctx.query))),
        {
          params: PortfolioParams,
          query: queryOf({
            ...PeriodQuery,
            period: YtdDefault,
          }),
          response: { 200: AnswerSchemas.summary, ...errors },
          ...doc(
            'analytics',
            'Portfolio summary of a period',
            'Wealth at both ends, net new money, P&L split into realized, change in unrealized, income, fees, taxes and other so that P&L = end − start − net new money; income, costs, activity per transaction type, allocation at the end.',
          ),
        },
      )
      .get(
        '/portfolios/:portfolioId/position-analytics',
        (ctx) => answer(ctx, visible, () => service.positionAnalytics(ctx.params.portfolioId, periodAsked(ctx.query))),
        {
          params: PortfolioParams,
          query: queryOf({ ...PeriodQuery, period: YtdDefault }),
          response: { 200: AnswerSchemas.positionAnalytics, ...errors },
          ...doc(
            'analytics',
            'Position analytics of a period',
            'Per position held in the period: held since, quantity, cost, market value and unrealized P&L on `to` in local and base currency, income and fees of the period, weight, and TWR in base and local currency with the FX part.',
          ),
        },
      )
      .post(
        '/analytics/xirr',
        ({ body, request, status }) => {
          const wrong = body.flows.find((f) => !isIsoDate(f.date))
          if (wrong) {
            return status(
              400,
              errorBody(request, 400, `flows: ${wrong.date} is not a calendar date`, { field: 'flows' }),
            )
          }
          if (!body.flows.some((f) => f.amount > 0) || !body.flows.some((f) => f.amount < 0)) {
            const message = 'flows: needs money both ways (at least one negative and one positive amount)'
            return status(422, errorBody(request, 422, message, { field: 'flows' }))
          }
          const result = xirr(body.flows)
          return {
            solved: result.ok,
            rate: result.ok ? result.rate : null,
            periodReturn: result.ok ? result.periodReturn : null,
            annualized: result.ok ? result.annualized : null,
            days: result.ok ? result.days : null,
            reason: result.ok ? null : result.reason,
            conventions: XIRR_CONVENTIONS,
          }
        },
        {
          body: t.Object({
            flows: t.Array(
              t.Object({
                date: t.String({ pattern: IsoDateString.pattern, description: 'YYYY-MM-DD' }),
                amount: t.Number({ description: 'Signed: paid in negative, received positive' }),
              }),
              { minItems: 2, maxItems: 10_000, description: 'Dated cash flows, any order' },
            ),
          }),
          response: { 200: XirrView, ...errors },
          ...doc(
            'analytics',
            'XIRR of any dated cash flows',
            'The annual rate r with Σ amount / (1 + r)^(days / 365) = 0, as Excel’s XIRR. 422 when the flows do not go both ways; 200 with solved: false and the reason when no rate in (−99.99 %, 10⁶ %) solves them.',
          ),
        },
      )
      /* ---- support ---- */
      .get(
        '/portfolios/:portfolioId/support',
        (ctx) => answer(ctx, visible, () => service.support(ctx.params.portfolioId)),
        {
          params: PortfolioParams,
          response: { 200: AnswerSchemas.support, ...errors },
          ...doc(
            'support',
            'What is current, pending, lagging or failed for a portfolio',
            'Per stage: current when it reflects every input, pending when an input arrived after it read, lagging when it stops before the business date. With rejected transactions and dead letters.',
          ),
        },
      )
      .get(
        '/portfolios/:portfolioId/positions/:positionId/lineage',
        (ctx) => answer(ctx, visible, () => service.lineage(ctx.params.portfolioId, ctx.params.positionId)),
        {
          params: PositionParams,
          response: { 200: AnswerSchemas.lineage, ...errors },
          ...doc(
            'support',
            'Lineage of one position',
            'The newest transaction and price received, and whether each stage reflects them.',
          ),
        },
      )
  )
}
