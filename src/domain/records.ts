import { type Static, Type } from '@sinclair/typebox'
import { literalUnion } from './literal-union.ts'

/**
 * One TypeBox schema per record: it validates HTTP bodies and topic payloads, documents the
 * OpenAPI schema, and types the code. Money, quantities, prices and rates are decimal strings.
 */

const oneOf = <const T extends readonly string[]>(values: T, description: string) =>
  literalUnion(values, { description })

/**
 * LIMITS OF WHAT PAS ACCEPTS (docs/domain.md, "Limits"). Each is in the schema, so the OpenAPI
 * document shows it and a client can build a valid record from it; what a pattern cannot say (a
 * calendar date, an ISO 4217 code, a rate's lower bound) validateRecord checks after the schema.
 * - Dates of events (trades, prices, rates, benchmarks, business and open dates): 1970-01-01 to
 *   2099-12-31. Maturity dates: 1900-01-01 to 2199-12-31.
 * - Text: no control characters (U+0000–U+001F, U+007F) and no unpaired UTF-16 surrogates, which
 *   PostgreSQL cannot store; ids at most 128 characters without surrounding spaces, other text at most 256.
 * - Magnitudes, so that every product the engine forms stays far inside what numeric columns,
 *   float64 analytics and the API report: |quantity| < 10^12, price < 10^9, amounts < 10^15,
 *   10^-6 ≤ FX rate < 10^6, 10^-6 ≤ split ratio < 10^6; at most 10 decimal places everywhere.
 */
const decimal = (intDigits: number, signed: boolean, description: string) =>
  Type.String({
    pattern: `^${signed ? '-?' : ''}\\d{1,${intDigits}}(\\.\\d{1,10})?$`,
    maxLength: intDigits + 12,
    description: `${description}: exact decimal string, at most ${intDigits} integer digits and 10 decimal places`,
  })

/** Any exact decimal pas itself writes (engine state, not input): at most 20 integer digits. */
export const DecimalString = decimal(20, true, 'Exact decimal')
export const PositiveDecimal = decimal(20, false, 'Non-negative exact decimal')
export const Quantity = decimal(12, true, 'Quantity (units, or nominal for bonds)')
export const UnitPrice = decimal(9, false, 'Price per unit')
export const Amount = decimal(15, true, 'Amount of money')
export const Rate = decimal(6, false, 'Rate, at least 0.000001')

const text = '(?:[^\\u0000-\\u001f\\u007f\\ud800-\\udfff]|[\\ud800-\\udbff][\\udc00-\\udfff])'
/** Printable text of `minLength` to `maxLength` characters (no control characters, no unpaired surrogates). */
export const Text = (maxLength = 256, minLength = 0) =>
  Type.String({ minLength, maxLength, pattern: `^${text}*$`, description: `Text, at most ${maxLength} characters` })
/** An identifier's schema, described as `description` says (Id's by default). */
const IdSchema = (description = 'An identifier: 1–128 printable characters, no surrounding spaces') =>
  Type.String({ minLength: 1, maxLength: 128, pattern: `^(?!\\s)${text}+(?<!\\s)$`, description })
export const Id = IdSchema()

const DAY = '(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])'
export const DATE_RANGE = { min: '1970-01-01', max: '2099-12-31' } as const
export const MATURITY_RANGE = { min: '1900-01-01', max: '2199-12-31' } as const
export const IsoDateString = Type.String({
  pattern: `^(19[7-9]\\d|20\\d\\d)-${DAY}$`,
  description: `Calendar date YYYY-MM-DD, ${DATE_RANGE.min} to ${DATE_RANGE.max}`,
})
export const MaturityDate = Type.String({
  pattern: `^(19\\d\\d|2[01]\\d\\d)-${DAY}$`,
  description: `Calendar date YYYY-MM-DD, ${MATURITY_RANGE.min} to ${MATURITY_RANGE.max}`,
})
export const Currency = Type.String({
  pattern: '^[A-Z]{3}$',
  description: "ISO 4217 code, one of those Intl.supportedValuesOf('currency') lists",
})

export const CostMethods = ['FIFO', 'AVCO'] as const
export type CostMethod = (typeof CostMethods)[number]

export const Portfolio = Type.Object(
  {
    portfolioId: Id,
    baseCurrency: Currency,
    openDate: IsoDateString,
    costMethod: Type.Optional(oneOf(CostMethods, 'FIFO (default) or AVCO (average cost)')),
    allowShort: Type.Optional(Type.Boolean({ description: 'Sells beyond the holding open a short; default false' })),
    status: Type.Optional(Text()),
    clientId: Type.Optional(Id),
    riskProfile: Type.Optional(Text()),
    investmentHorizon: Type.Optional(Text()),
    portfolioType: Type.Optional(Text()),
    bookingCentre: Type.Optional(Text()),
    closeDate: Type.Optional(IsoDateString),
    objective: Type.Optional(Text()),
    isLeverageAllowed: Type.Optional(Type.Boolean({ description: 'Whether the mandate allows leverage' })),
    advisorId: Type.Optional(Id),
    calendar: Type.Optional(
      IdSchema(
        'The days it is valued on and its series has points for: WEEKDAYS (default; a flow dated on a weekend counts on the Monday), ALL_DAYS, or the id of a holiday calendar (weekdays but its holidays, POST /v1/ingest/holidays)',
      ),
    ),
  },
  { $id: 'Portfolio', additionalProperties: false },
)
export type Portfolio = Static<typeof Portfolio>

export const Instrument = Type.Object(
  {
    securityId: Id,
    name: Text(256, 1),
    currency: Currency,
    isin: Type.Optional(Type.String({ pattern: '^[A-Z]{2}[A-Z0-9]{9}[0-9]$' })),
    productType: Type.Optional(Text()),
    assetClass: Type.Optional(Text()),
    sector: Type.Optional(Text()),
    countryOfRisk: Type.Optional(Text()),
    issuerId: Type.Optional(Id),
    ultimateParentIssuerId: Type.Optional(Id),
    rating: Type.Optional(Text(32)),
    maturityDate: Type.Optional(MaturityDate),
  },
  { $id: 'Instrument', additionalProperties: false },
)
export type Instrument = Static<typeof Instrument>

export const TransactionTypes = [
  'BUY',
  'SELL',
  'DIVIDEND',
  'INTEREST',
  'FEE',
  'TAX',
  'DEPOSIT',
  'WITHDRAWAL',
  'TRANSFER_IN',
  'TRANSFER_OUT',
  'SPLIT',
  'CANCEL',
  'OTHER',
] as const
export type TransactionType = (typeof TransactionTypes)[number]

export const Transaction = Type.Object(
  {
    transactionId: Id,
    portfolioId: Id,
    type: oneOf(TransactionTypes, 'What happened; see the transaction table in docs/domain.md'),
    tradeDate: IsoDateString,
    tradeTime: Type.Optional(
      Type.String({
        pattern: '^([01]\\d|2[0-3]):[0-5]\\d(:[0-5]\\d(\\.\\d{1,6})?)?$',
        description: 'Time of the trade on its date, HH:MM[:SS[.ffffff]]: orders same-day trades (docs/domain.md)',
      }),
    ),
    settlementDate: Type.Optional(IsoDateString),
    securityId: Type.Optional(Id),
    quantity: Type.Optional(Quantity),
    price: Type.Optional(UnitPrice),
    grossAmount: Type.Optional(Amount),
    currency: Currency,
    settlementCurrency: Type.Optional({
      ...Currency,
      description:
        'BUY and SELL only: the cash that pays or receives, when not the trade currency (the amount converted at the trade date’s rate); docs/domain.md',
    }),
    fee: Type.Optional(Amount),
    accruedInterest: Type.Optional(Amount),
    ratio: Type.Optional(Rate),
    cancels: Type.Optional(Id),
  },
  { $id: 'Transaction', additionalProperties: false },
)
export type Transaction = Static<typeof Transaction>

export const Price = Type.Object(
  { securityId: Id, date: IsoDateString, price: UnitPrice, currency: Currency },
  { $id: 'Price', additionalProperties: false },
)
export type Price = Static<typeof Price>

export const FxRate = Type.Object(
  {
    from: Currency,
    to: Currency,
    date: IsoDateString,
    rate: decimal(6, false, 'Units of `to` per one `from`, at least 0.000001'),
  },
  { $id: 'FxRate', additionalProperties: false },
)
export type FxRate = Static<typeof FxRate>

export const Lot = Type.Object({
  openDate: IsoDateString,
  quantity: DecimalString,
  costLocal: DecimalString,
  costBase: DecimalString,
})
export type Lot = Static<typeof Lot>

/** A position's state after one transaction: one row of position history. */
export const PositionRow = Type.Object(
  {
    portfolioId: Id,
    positionId: Type.String({ description: 'securityId, or CASH:<currency> for cash' }),
    date: IsoDateString,
    transactionId: Id,
    currency: Currency,
    quantity: DecimalString,
    costLocal: DecimalString,
    costBase: DecimalString,
    realizedLocal: DecimalString,
    realizedBase: DecimalString,
    realizedPriceBase: DecimalString,
    realizedFxBase: DecimalString,
    incomeBase: DecimalString,
    lots: Type.Array(Lot, { description: 'Open lots, oldest first; one pooled lot under AVCO' }),
  },
  { $id: 'PositionRow', additionalProperties: false },
)
export type PositionRow = Static<typeof PositionRow>

export const CashflowClasses = ['EXTERNAL', 'INCOME', 'EXPENSE', 'INVESTMENT', 'TRANSFER', 'OTHER'] as const
export type CashflowClass = (typeof CashflowClasses)[number]
/** The classes of money crossing a portfolio's boundary: its series' flows, and MWR's. */
export const ExternalClasses: readonly CashflowClass[] = ['EXTERNAL', 'TRANSFER']
export const isExternal = (c: { class: string }): boolean => ExternalClasses.includes(c.class as CashflowClass)
export const FlowTimings = ['SOD', 'EOD'] as const
export type FlowTiming = (typeof FlowTimings)[number]

export const Cashflow = Type.Object(
  {
    portfolioId: Id,
    transactionId: Id,
    positionId: Type.String(),
    date: IsoDateString,
    type: oneOf(TransactionTypes, 'The transaction type'),
    class: oneOf(CashflowClasses, 'EXTERNAL, INCOME, EXPENSE, INVESTMENT, TRANSFER or OTHER'),
    timing: oneOf(FlowTimings, 'SOD: start of day, EOD: end of day'),
    scope: oneOf(['position', 'portfolio'] as const, 'Whether it is a flow of one position or of the portfolio'),
    currency: Currency,
    amountLocal: Type.String({ description: 'Signed: into the portfolio positive, out negative' }),
    amountBase: Type.String(),
    feeLocal: Type.String(),
    feeBase: Type.String(),
    fxRate: Type.Optional(
      Type.String({
        description:
          'Base currency per unit of `currency`, as the engine converted at; absent in reads that do not need it',
      }),
    ),
  },
  { $id: 'Cashflow', additionalProperties: false },
)
export type Cashflow = Static<typeof Cashflow>

export const ValuationStatuses = ['VALUED', 'MISSING_PRICE', 'MISSING_FX'] as const
export type ValuationStatus = (typeof ValuationStatuses)[number]

export const Valuation = Type.Object(
  {
    portfolioId: Id,
    positionId: Type.String(),
    date: IsoDateString,
    status: oneOf(ValuationStatuses, 'VALUED, or why the position-day could not be valued'),
    quantity: DecimalString,
    price: Type.Optional(Type.String({ description: 'In the instrument currency' })),
    priceDate: Type.Optional(IsoDateString),
    fxRate: Type.Optional(Type.String({ description: 'Instrument currency to base currency' })),
    marketValueLocal: Type.Optional(Type.String()),
    marketValueBase: Type.Optional(Type.String()),
    costLocal: DecimalString,
    costBase: DecimalString,
    unrealizedLocal: Type.Optional(Type.String()),
    unrealizedBase: Type.Optional(Type.String()),
  },
  { $id: 'Valuation', additionalProperties: false },
)
export type Valuation = Static<typeof Valuation>

const seriesFields = {
  date: IsoDateString,
  bmvBase: Type.String({ description: 'Beginning market value: the previous business day end value' }),
  emvBase: Type.String({ description: 'End market value' }),
  sodFlowBase: Type.String({ description: 'Start-of-day flows, signed' }),
  eodFlowBase: Type.String({ description: 'End-of-day flows, signed' }),
  feesBase: Type.String({ description: 'Fees paid (positive number)' }),
  incomeBase: Type.String({ description: 'Income received' }),
}

export const PositionSeriesPoint = Type.Object(
  { portfolioId: Id, positionId: Type.String(), ...seriesFields, quantity: DecimalString, costBase: DecimalString },
  { $id: 'PositionSeriesPoint', additionalProperties: false },
)
export type PositionSeriesPoint = Static<typeof PositionSeriesPoint>

export const PortfolioSeriesPoint = Type.Object(
  { portfolioId: Id, ...seriesFields, complete: Type.Boolean({ description: 'False if a position was unvalued' }) },
  { $id: 'PortfolioSeriesPoint', additionalProperties: false },
)
export type PortfolioSeriesPoint = Static<typeof PortfolioSeriesPoint>

export const RejectionCodes = [
  'NEGATIVE_QUANTITY',
  'MISSING_FIELD',
  'UNKNOWN_INSTRUMENT',
  'CURRENCY_MISMATCH',
  'INSUFFICIENT_QUANTITY',
  'MISSING_FX',
  'UNKNOWN_CANCEL_TARGET',
  'CANCEL_OF_CANCEL',
  'BEFORE_OPEN_DATE',
] as const
export type RejectionCode = (typeof RejectionCodes)[number]
export type Rejection = { transactionId: string; code: RejectionCode; reason: string }

/** One point of a benchmark series: an index level, or the day's return (exactly one of the two). */
export const BenchmarkPoint = Type.Object(
  {
    benchmarkId: Id,
    date: IsoDateString,
    level: Type.Optional(decimal(12, false, 'Index level, positive')),
    return: Type.Optional(decimal(3, true, 'The return of that day, 0.01 = 1 %, above -1')),
  },
  { $id: 'BenchmarkPoint', additionalProperties: false },
)
export type BenchmarkPoint = Static<typeof BenchmarkPoint>

/** The classifications a benchmark's segments and a return attribution are by (the instrument's fields). */
export const Classifications = ['assetClass', 'sector', 'country', 'currency', 'issuer', 'rating'] as const
export type Classification = (typeof Classifications)[number]

/**
 * One segment of a benchmark on one business day, by one classification: its weight in the
 * benchmark at the start of that day and its return over the day. Return attribution
 * (GET /v1/portfolios/{id}/attribution) compares a portfolio's segments with these, day by day; a
 * day's weights of one benchmark and classification sum to 1.
 */
export const BenchmarkSegment = Type.Object(
  {
    benchmarkId: Id,
    date: IsoDateString,
    classification: oneOf(Classifications, 'Which instrument field the segments are by'),
    segment: Type.String({
      minLength: 1,
      maxLength: 128,
      description:
        'The segment, as pas labels positions: the field’s value (e.g. `Equity`, `Tech`, `DE`, `EUR`, the ultimate parent issuer), `Cash` for cash, `Unclassified` (`Unrated` for rating) when unknown',
    }),
    weight: decimal(1, false, 'Weight in the benchmark at the start of the day, 0 to 1'),
    return: decimal(3, true, 'The segment’s return that day, 0.01 = 1 %, above -1'),
  },
  { $id: 'BenchmarkSegment', additionalProperties: false },
)
export type BenchmarkSegment = Static<typeof BenchmarkSegment>

/** The system's current date: valuations and series run up to it. */
export const BusinessDate = Type.Object({ date: IsoDateString }, { $id: 'BusinessDate', additionalProperties: false })
export type BusinessDate = Static<typeof BusinessDate>

/**
 * A day a holiday calendar does not value (dates.ts): portfolios naming the calendar skip it as
 * they skip weekends. Sent again with `cancelled: true`, it is a valuation day again.
 */
export const Holiday = Type.Object(
  {
    calendarId: IdSchema('The calendar, as portfolios name it in `calendar` (not WEEKDAYS or ALL_DAYS)'),
    date: IsoDateString,
    name: Type.Optional(Text()),
    cancelled: Type.Optional(Type.Boolean({ description: 'true removes the holiday' })),
  },
  { $id: 'Holiday', additionalProperties: false },
)
export type Holiday = Static<typeof Holiday>

/** What ingest appends to the raw topics: the record as received, tagged with its kind and request. */
export const IngestKinds = [
  'portfolio',
  'instrument',
  'transaction',
  'price',
  'fx',
  'businessDate',
  'benchmark',
  'benchmarkSegment',
  'holiday',
] as const
export type IngestKind = (typeof IngestKinds)[number]
export const RawEnvelope = Type.Object(
  {
    kind: oneOf(IngestKinds, 'Which record schema `record` follows'),
    ingestId: Type.String({ description: 'Correlation id of the ingest request' }),
    keyId: Type.Optional(Type.String({ description: 'The API key that sent it; `open` when auth was off' })),
    record: Type.Unknown(),
  },
  { $id: 'RawEnvelope', additionalProperties: false },
)
export type RawEnvelope = Static<typeof RawEnvelope>

/**
 * When the oldest input behind a notice was ingested (its raw record's append time, ms since the
 * epoch). Each stage passes on the earliest of the notices it coalesces; the series stage measures
 * freshness (ingest to series) from it. Absent on notices written before it existed.
 */
const Since = Type.Optional(Type.Number({ description: 'ms since the epoch' }))

/** Change notices: "recompute this key from this date on". Replaying one is harmless. */
/**
 * `positions`: the positions the changed transactions are about, before and after the change
 * (security, cash of the currency and of the settlement currency), when that is all that changed:
 * the positions stage then folds those and what they reach (domain/positions.ts `scopeOf`).
 * Without them, every position of the portfolio from `fromDate` on.
 */
export const TransactionsChanged = Type.Object(
  { portfolioId: Id, fromDate: IsoDateString, since: Since, positions: Type.Optional(Type.Array(Id)) },
  { $id: 'TransactionsChanged' },
)
export type TransactionsChanged = Static<typeof TransactionsChanged>
/**
 * `dates`: the days whose prices were written, ascending (the first is `fromDate`). With them the
 * fan-out revalues only the days each price is in force (until the security's next price); a
 * notice without them (written before they existed) revalues from `fromDate` on.
 */
export const PricesChanged = Type.Object(
  { securityId: Id, fromDate: IsoDateString, dates: Type.Optional(Type.Array(IsoDateString)), since: Since },
  { $id: 'PricesChanged' },
)
export type PricesChanged = Static<typeof PricesChanged>
/**
 * `dates`: as for prices, the days whose rates of the pair were written, ascending; the fan-out
 * revalues each until the pair's next rate. Without them, from `fromDate` on.
 */
export const FxChanged = Type.Object(
  {
    from: Currency,
    to: Currency,
    fromDate: IsoDateString,
    dates: Type.Optional(Type.Array(IsoDateString)),
    since: Since,
  },
  { $id: 'FxChanged' },
)
export type FxChanged = Static<typeof FxChanged>

/**
 * Days to revalue: from `from` to the day before `until`, or to the business date when `until` is
 * absent (an open span).
 */
export const Span = Type.Object({ from: IsoDateString, until: Type.Optional(IsoDateString) })
export type Span = Static<typeof Span>

/**
 * "Value portfolio P from date D to the business date": from positions.changed, fan-out, or the
 * business date. With `spans` (ascending, disjoint, the first starting at `fromDate`), only their
 * days: a late price changes the days it is in force, not the portfolio's whole history since.
 */
export const ValuationJob = Type.Object(
  {
    portfolioId: Id,
    fromDate: IsoDateString,
    spans: Type.Optional(Type.Array(Span)),
    since: Since,
    /**
     * Within the valuation stage only: the spans to revalue as a whole, when not all of them. A
     * positions notice revalues none (`[]`): only the positions it changed (domain/revaluation.ts).
     */
    revalue: Type.Optional(Type.Array(Span)),
    /**
     * From the fan-out of a price or FX rate: it moves values, never a cashflow or the days a
     * position is held, so the series, whose values are the day sums read beside its flows, has
     * nothing to recompute (the series stage records that it reflects the change).
     */
    marketData: Type.Optional(Type.Literal(true)),
    /**
     * From the positions stage: the dates whose cashflows the change wrote, replaced or removed.
     * Where the series still starts where it did, only those days' flows moved: the series stage
     * recomputes those days alone (the values are the day sums, read beside them). Without it,
     * every day of the job's spans.
     */
    flows: Type.Optional(Type.Array(IsoDateString)),
  },
  { $id: 'ValuationJob' },
)
export type ValuationJob = Static<typeof ValuationJob>
