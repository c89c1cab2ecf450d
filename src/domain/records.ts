import { type Static, Type } from '@sinclair/typebox'
import { literalUnion } from './literal-union.ts'

/**
 * One TypeBox schema per record: it validates HTTP bodies and topic payloads, documents the
 * OpenAPI schema, and types the code. Money, quantities, prices and rates are decimal strings.
 */

const oneOf = <const T extends readonly string[]>(values: T, description: string) =>
  literalUnion(values, { description })

export const DecimalString = Type.String({
  pattern: '^-?\\d{1,20}(\\.\\d{1,10})?$',
  description: 'Exact decimal as a string, at most 10 decimal places',
  examples: ['1250.75'],
})
export const PositiveDecimal = Type.String({
  pattern: '^\\d{1,20}(\\.\\d{1,10})?$',
  description: 'Non-negative exact decimal as a string, at most 10 decimal places',
})
export const IsoDateString = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'Calendar date YYYY-MM-DD' })
export const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' })
export const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^\\S(.*\\S)?$' })

export const CostMethods = ['FIFO', 'AVCO'] as const
export type CostMethod = (typeof CostMethods)[number]

export const Portfolio = Type.Object(
  {
    portfolioId: Id,
    baseCurrency: Currency,
    openDate: IsoDateString,
    costMethod: Type.Optional(oneOf(CostMethods, 'FIFO (default) or AVCO (average cost)')),
    allowShort: Type.Optional(Type.Boolean({ description: 'Sells beyond the holding open a short; default false' })),
    status: Type.Optional(Type.String()),
    clientId: Type.Optional(Type.String()),
    riskProfile: Type.Optional(Type.String()),
    investmentHorizon: Type.Optional(Type.String()),
    portfolioType: Type.Optional(Type.String()),
    bookingCentre: Type.Optional(Type.String()),
  },
  { $id: 'Portfolio', additionalProperties: false },
)
export type Portfolio = Static<typeof Portfolio>

export const Instrument = Type.Object(
  {
    securityId: Id,
    name: Type.String({ minLength: 1 }),
    currency: Currency,
    isin: Type.Optional(Type.String({ pattern: '^[A-Z]{2}[A-Z0-9]{9}[0-9]$' })),
    productType: Type.Optional(Type.String()),
    assetClass: Type.Optional(Type.String()),
    sector: Type.Optional(Type.String()),
    countryOfRisk: Type.Optional(Type.String()),
    issuerId: Type.Optional(Type.String()),
    ultimateParentIssuerId: Type.Optional(Type.String()),
    rating: Type.Optional(Type.String()),
    maturityDate: Type.Optional(IsoDateString),
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
] as const
export type TransactionType = (typeof TransactionTypes)[number]

export const Transaction = Type.Object(
  {
    transactionId: Id,
    portfolioId: Id,
    type: oneOf(TransactionTypes, 'What happened; see the transaction table in docs/domain.md'),
    tradeDate: IsoDateString,
    settlementDate: Type.Optional(IsoDateString),
    securityId: Type.Optional(Id),
    quantity: Type.Optional(DecimalString),
    price: Type.Optional(DecimalString),
    grossAmount: Type.Optional(DecimalString),
    currency: Currency,
    fee: Type.Optional(DecimalString),
    accruedInterest: Type.Optional(DecimalString),
    ratio: Type.Optional(DecimalString),
    cancels: Type.Optional(Id),
  },
  { $id: 'Transaction', additionalProperties: false },
)
export type Transaction = Static<typeof Transaction>

export const Price = Type.Object(
  { securityId: Id, date: IsoDateString, price: PositiveDecimal, currency: Currency },
  { $id: 'Price', additionalProperties: false },
)
export type Price = Static<typeof Price>

export const FxRate = Type.Object(
  {
    from: Currency,
    to: Currency,
    date: IsoDateString,
    rate: Type.String({ pattern: '^\\d{1,20}(\\.\\d{1,10})?$', description: 'Units of `to` per one `from`' }),
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

export const CashflowClasses = ['EXTERNAL', 'INCOME', 'EXPENSE', 'INVESTMENT', 'TRANSFER'] as const
export type CashflowClass = (typeof CashflowClasses)[number]
export const FlowTimings = ['SOD', 'EOD'] as const
export type FlowTiming = (typeof FlowTimings)[number]

export const Cashflow = Type.Object(
  {
    portfolioId: Id,
    transactionId: Id,
    positionId: Type.String(),
    date: IsoDateString,
    type: oneOf(TransactionTypes, 'The transaction type'),
    class: oneOf(CashflowClasses, 'EXTERNAL, INCOME, EXPENSE, INVESTMENT or TRANSFER'),
    timing: oneOf(FlowTimings, 'SOD: start of day, EOD: end of day'),
    scope: oneOf(['position', 'portfolio'] as const, 'Whether it is a flow of one position or of the portfolio'),
    currency: Currency,
    amountLocal: Type.String({ description: 'Signed: into the portfolio positive, out negative' }),
    amountBase: Type.String(),
    feeLocal: Type.String(),
    feeBase: Type.String(),
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
] as const
export type RejectionCode = (typeof RejectionCodes)[number]
export type Rejection = { transactionId: string; code: RejectionCode; reason: string }

/** One point of a benchmark series: an index level, or the day's return (exactly one of the two). */
export const BenchmarkPoint = Type.Object(
  {
    benchmarkId: Id,
    date: IsoDateString,
    level: Type.Optional(PositiveDecimal),
    return: Type.Optional(
      Type.String({ pattern: '^-?\\d{1,20}(\\.\\d{1,10})?$', description: 'The return of that day, 0.01 = 1 %' }),
    ),
  },
  { $id: 'BenchmarkPoint', additionalProperties: false },
)
export type BenchmarkPoint = Static<typeof BenchmarkPoint>

/** The system's current date: valuations and series run up to it. */
export const BusinessDate = Type.Object({ date: IsoDateString }, { $id: 'BusinessDate', additionalProperties: false })
export type BusinessDate = Static<typeof BusinessDate>

/** What ingest appends to the raw topics: the record as received, tagged with its kind and request. */
export const IngestKinds = [
  'portfolio',
  'instrument',
  'transaction',
  'price',
  'fx',
  'businessDate',
  'benchmark',
] as const
export type IngestKind = (typeof IngestKinds)[number]
export const RawEnvelope = Type.Object(
  {
    kind: oneOf(IngestKinds, 'Which record schema `record` follows'),
    ingestId: Type.String({ description: 'Correlation id of the ingest request' }),
    record: Type.Unknown(),
  },
  { $id: 'RawEnvelope', additionalProperties: false },
)
export type RawEnvelope = Static<typeof RawEnvelope>

/** Change notices: "recompute this key from this date on". Replaying one is harmless. */
export const TransactionsChanged = Type.Object(
  { portfolioId: Id, fromDate: IsoDateString },
  { $id: 'TransactionsChanged' },
)
export type TransactionsChanged = Static<typeof TransactionsChanged>
export const PricesChanged = Type.Object({ securityId: Id, fromDate: IsoDateString }, { $id: 'PricesChanged' })
export type PricesChanged = Static<typeof PricesChanged>
export const FxChanged = Type.Object({ from: Currency, to: Currency, fromDate: IsoDateString }, { $id: 'FxChanged' })
export type FxChanged = Static<typeof FxChanged>

/** "Value portfolio P from date D to the business date": from positions.changed, fan-out, or the business date. */
export const ValuationJob = Type.Object({ portfolioId: Id, fromDate: IsoDateString }, { $id: 'ValuationJob' })
export type ValuationJob = Static<typeof ValuationJob>
