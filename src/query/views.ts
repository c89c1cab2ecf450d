import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { Presets } from '../analytics/periods.ts'
import { FeeScopes, FlowTimings } from '../analytics/returns.ts'
import { QuantileRules } from '../analytics/risk.ts'
import { literalUnion } from '../domain/literal-union.ts'
import {
  CashflowClasses,
  Classifications,
  Instrument,
  Portfolio,
  PositionRow,
  Transaction as TransactionRecord,
  TransactionTypes,
  ValuationStatuses,
} from '../domain/records.ts'

/**
 * One TypeBox schema per query response: Elysia validates each answer against it and the OpenAPI
 * document is generated from it. Money is an exact decimal string (base currency unless the field
 * says local); returns, weights and risk figures are numbers (float64), as fractions: 0.01 = 1 %.
 */

const Money = (description: string) => Type.String({ description: `${description}; exact decimal string` })
const Fraction = (description: string) => Type.Number({ description: `${description}; a fraction, 0.01 = 1 %` })
const Day = (description = 'Calendar date YYYY-MM-DD') =>
  Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description })
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])
/** Drops the `$id` of a record schema so that it is inlined in a response, not referenced. */
const fieldsOf = <T extends { properties: Record<string, TSchema> }>(schema: T): T['properties'] => schema.properties

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    total: Type.Integer({ description: 'Matching rows in all pages' }),
    limit: Type.Integer(),
    offset: Type.Integer(),
  })

/** What a query refused and why; the HTTP edge wraps it in the one error shape (src/http/errors.ts). */
export const Problem = Type.Object({
  error: Type.String({ description: 'What is wrong, in a sentence' }),
  field: Type.Optional(Type.String({ description: 'The parameter at fault, when there is one' })),
  missingDays: Type.Optional(
    Type.Array(
      Type.Object({
        date: Day(),
        reason: Type.String({ description: 'NO_SERIES (not computed yet) or the valuation status of a position' }),
        positionIds: Type.Array(Type.String()),
      }),
      { description: 'The business days without complete data in the period, at most 100' },
    ),
  ),
  missingDaysTotal: Type.Optional(Type.Integer()),
})
export type Problem = Static<typeof Problem>

export const PortfolioView = Type.Object({
  ...fieldsOf(Portfolio),
  costMethod: literalUnion(['FIFO', 'AVCO'] as const),
  calendar: Type.String({
    description: 'WEEKDAYS, ALL_DAYS or a holiday calendar id (the default WEEKDAYS filled in)',
  }),
  updatedAt: Type.String({ description: 'When pas last stored a change to it (ISO timestamp)' }),
})
export type PortfolioView = Static<typeof PortfolioView>

export const InstrumentView = Type.Object({ ...fieldsOf(Instrument), updatedAt: Type.String() })
export type InstrumentView = Static<typeof InstrumentView>

export const CashflowView = Type.Object({
  transactionId: Type.String(),
  positionId: Type.String(),
  date: Day(),
  type: literalUnion(TransactionTypes),
  class: literalUnion(CashflowClasses),
  timing: literalUnion(['SOD', 'EOD'] as const),
  scope: literalUnion(['position', 'portfolio'] as const),
  currency: Type.String(),
  amountLocal: Money('Signed: into the portfolio positive, local currency'),
  amountBase: Money('Signed: into the portfolio positive'),
  feeLocal: Money('Fee, local currency'),
  feeBase: Money('Fee'),
})

const Exact = (description: string) => Type.String({ description: `${description}; exact decimal string` })

export const TransactionEconomics = Type.Object(
  {
    grossAmount: Nullable(Exact('As given, else quantity × price; local currency')),
    fxRate: Nullable(
      Exact(
        'Base currency per unit of the transaction’s currency, as the engine converted at (1 in the base currency); null without a cashflow, or for one derived before pas recorded it',
      ),
    ),
    position: Nullable(
      Type.Object(
        {
          positionId: Type.String(),
          quantityChange: Exact('Quantity after less before'),
          netCostLocal: Exact('Cost after less before, local: + gross + fee for a buy, − the cost of the lots sold'),
          netCostBase: Exact('As netCostLocal, base currency (lots at their own trade-date FX)'),
          realizedLocal: Exact('Realized P&L of this transaction, local'),
          realizedBase: Exact('Realized P&L of this transaction, base'),
          realizedPriceBase: Exact('Its price part: realized local × the day’s FX'),
          realizedFxBase: Exact('Its FX part: realized base − the price part'),
          incomeBase: Exact('Income it added to the position, net of withholding'),
        },
        { description: 'What it did to its security’s position; null for cash-only transactions' },
      ),
    ),
    cashflow: Nullable(CashflowView),
  },
  { description: 'What the engine derived from it; null when rejected, cancelled or not yet processed' },
)

export const TransactionView = Type.Object({
  ...fieldsOf(TransactionRecord),
  version: Type.Integer({ description: '1, plus one per correction received' }),
  ingestId: Nullable(
    Type.String({ description: 'Correlation id of the ingest request that wrote this content (X-Correlation-ID)' }),
  ),
  rejection: Nullable(
    Type.Object({ code: Type.String(), reason: Type.String() }, { description: 'Why the engine could not apply it' }),
  ),
  economics: Nullable(TransactionEconomics),
})
export type TransactionView = Static<typeof TransactionView>

export const PositionView = Type.Object({
  positionId: Type.String({ description: 'securityId, or CASH:<currency>' }),
  currency: Type.String({ description: 'Currency of the position (local)' }),
  asOf: Day('The date of the last transaction that changed it, on or before the requested date'),
  quantity: Type.String(),
  costLocal: Money('Cost of the open quantity, local currency'),
  costBase: Money('Cost of the open quantity'),
  realizedBase: Money('Realized P&L to date'),
  realizedPriceBase: Money('Part of the realized P&L from price moves'),
  realizedFxBase: Money('Part of the realized P&L from FX moves'),
  incomeBase: Money('Income received to date, net of withholding'),
  valuationDate: Nullable(Day('The business day of the valuation used: the latest on or before the date')),
  status: Nullable(literalUnion(ValuationStatuses)),
  marketValueLocal: Nullable(Money('Market value, local currency')),
  marketValueBase: Nullable(Money('Market value')),
  unrealizedBase: Nullable(Money('Market value − cost')),
  weight: Nullable(Fraction('Market value over the portfolio total that day; null when any position is unvalued')),
})
export type PositionView = Static<typeof PositionView>

export const PositionHistoryView = Type.Object({
  ...fieldsOf(PositionRow),
  seq: Type.Integer({ description: "Order of the position's rows of one day (0, 1, …), as the engine applied them" }),
})

export const PriceView = Type.Object({
  securityId: Type.String(),
  date: Day(),
  price: Type.String(),
  currency: Type.String(),
})
export const FxRateView = Type.Object({
  from: Type.String(),
  to: Type.String(),
  date: Day(),
  rate: Type.String({ description: 'Units of `to` per one `from`' }),
})
export const HolidayView = Type.Object({
  calendarId: Type.String(),
  date: Day(),
  name: Nullable(Type.String()),
})
export const BenchmarkView = Type.Object({
  benchmarkId: Type.String(),
  date: Day(),
  level: Nullable(Type.String()),
  return: Nullable(Type.String()),
})

export const BenchmarkSummaryView = Type.Object({
  benchmarkId: Type.String(),
  from: Day('Its first level'),
  to: Day('Its last level'),
  days: Type.Integer({ description: 'How many days have a level' }),
})

export const ValuationView = Type.Object({
  positionId: Type.String(),
  date: Day(),
  status: literalUnion(ValuationStatuses),
  quantity: Type.String(),
  price: Nullable(Type.String({ description: 'In the instrument currency' })),
  priceDate: Nullable(Day('The date of the price used (latest on or before the day)')),
  fxRate: Nullable(Type.String({ description: 'Instrument currency → base currency' })),
  marketValueLocal: Nullable(Money('Local currency')),
  marketValueBase: Nullable(Money('Market value')),
  costLocal: Money('Local currency'),
  costBase: Money('Cost'),
  unrealizedLocal: Nullable(Money('Local currency')),
  unrealizedBase: Nullable(Money('Unrealized P&L')),
  stale: Type.Boolean({
    description: 'The price used is more than staleAfterDays (default 5) calendar days older than the day',
  }),
})

const seriesMoney = {
  date: Day(),
  bmvBase: Money('Beginning market value (the previous business day’s end)'),
  emvBase: Money('End market value'),
  sodFlowBase: Money('Start-of-day flows, signed'),
  eodFlowBase: Money('End-of-day flows, signed'),
  feesBase: Money('Fees paid'),
  incomeBase: Money('Income received'),
}
export const PortfolioSeriesView = Type.Object({
  ...seriesMoney,
  complete: Type.Boolean({ description: 'False when a position held that day could not be valued' }),
})
export const PositionSeriesView = Type.Object({
  positionId: Type.String(),
  ...seriesMoney,
  quantity: Type.String(),
  costBase: Money('Cost'),
})

/* ---- analytics ---- */

const PeriodView = Type.Object({ from: Day('First day, inclusive'), to: Day('Last day, inclusive') })

/** A named period of `periods=` (performance, risk): no dates when the portfolio is too young for it. */
const namedPeriod = {
  name: Type.String({ description: 'A preset (MTD … SI) or a calendar year, Y2024' }),
  from: Nullable(Day()),
  to: Nullable(Day()),
}

export const TwrView = Type.Object({
  cumulative: Fraction('Linked return over the period'),
  annualized: Nullable(Fraction('(1 + cumulative)^(365 / days) − 1; null for a year or less')),
  days: Type.Integer({ description: 'Calendar days in the period' }),
})

export const Conventions = Type.Object(
  {
    returns: Type.String(),
    flowTiming: literalUnion(FlowTimings),
    fees: literalUnion(FeeScopes),
    annualization: Type.String(),
    negativeValues: Type.String(),
  },
  { description: 'The conventions the figures follow (docs/analytics.md)' },
)

export const PerformanceView = Type.Object({
  portfolioId: Type.String(),
  currency: Type.String({ description: 'Base currency' }),
  period: PeriodView,
  preset: Nullable(literalUnion(Presets)),
  twr: TwrView,
  wipeOuts: Type.Array(Day(), { description: 'Days that lost more than the capital at risk, capped at −100 %' }),
  frequency: literalUnion(['daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'none'] as const),
  series: Type.Array(
    Type.Object({
      period: Type.String({ description: 'Date (daily), week’s Friday (weekly), YYYY-MM, YYYY-Q1…Q4 or YYYY' }),
      r: Fraction('Linked return of the period'),
      cumulative: Fraction('Linked return from the start to the end of this period'),
    }),
  ),
  periods: Type.Optional(
    Type.Array(
      Type.Object({
        ...namedPeriod,
        twr: Nullable(TwrView),
        unavailable: Nullable(
          Type.String({ description: 'Why there is no figure (too little history, missing days)' }),
        ),
        attributes: Type.Optional(
          Type.Object({
            beginValue: Money('Value at the start of the first day (the day before’s close)'),
            endValue: Money('Value at the end of the last day'),
            startOfDayFlows: Money('External flows at the start of the day, summed, signed'),
            endOfDayFlows: Money('External flows at the end of the day, summed, signed'),
            fees: Money('Fees, summed'),
          }),
        ),
      }),
      { description: 'The further periods asked for (`periods=`), in the order asked' },
    ),
  ),
  modifiedDietz: Type.Object(
    {
      period: Nullable(Fraction('(EMV − BMV − ΣF) / (BMV + Σ wF) over the whole period')),
      linkedMonthly: Nullable(Fraction('Each calendar month’s Modified Dietz return, linked: Π(1 + R) − 1')),
      unavailable: Nullable(Type.String({ description: 'Why there is no figure (no average capital)' })),
    },
    {
      description:
        'Modified Dietz next to the TWR: external flows at their own dates, weighted by the share of the period invested (docs/analytics.md)',
    },
  ),
  conventions: Conventions,
})

export const MwrView = Type.Object({
  portfolioId: Type.String(),
  period: PeriodView,
  preset: Nullable(literalUnion(Presets)),
  solved: Type.Boolean({ description: 'False when no rate makes the flows worth zero; see `reason`' }),
  rate: Nullable(Fraction('Annual rate (actual/365)')),
  periodReturn: Nullable(Fraction('The return over the period: the rate itself over a year or more')),
  annualized: Nullable(Type.Boolean({ description: 'Whether `periodReturn` is the annual rate (periods ≥ 365 days)' })),
  reason: Nullable(Type.String()),
  flows: Type.Array(
    Type.Object({ date: Day(), amount: Type.Number({ description: 'Investor view: paid in negative' }) }),
  ),
  conventions: Type.Object({ dayCount: Type.String(), signs: Type.String(), solver: Type.String() }),
})

export const XirrView = Type.Object({
  solved: Type.Boolean({ description: 'False when no rate makes the flows worth zero; see `reason`' }),
  rate: Nullable(Fraction('Annual rate (actual/365)')),
  periodReturn: Nullable(Fraction('Over the first to the last flow: the rate itself over a year or more')),
  annualized: Nullable(Type.Boolean({ description: 'Whether `periodReturn` is the annual rate (≥ 365 days)' })),
  days: Nullable(Type.Integer({ description: 'From the first flow to the last' })),
  reason: Nullable(Type.String()),
  conventions: Type.Object({ dayCount: Type.String(), signs: Type.String(), solver: Type.String() }),
})

export const ContributionView = Type.Object({
  portfolioId: Type.String(),
  period: PeriodView,
  preset: Nullable(literalUnion(Presets)),
  total: Fraction('The portfolio TWR (flows as recorded, net)'),
  positions: Type.Array(
    Type.Object({
      positionId: Type.String(),
      contribution: Fraction('Share of the total TWR this position earned'),
      twr: Fraction('The position’s own TWR over its days in the period, income included'),
    }),
  ),
  other: Fraction('Fees, taxes and other expenses paid from cash: the total less the positions'),
  method: Type.String(),
})

const EffectsView = {
  allocation: Fraction('Allocation effect: from weighting the segment differently from the benchmark'),
  selection: Fraction('Selection effect: from the segment’s own return against the benchmark’s'),
  interaction: Fraction('Interaction effect: the two together'),
}
export const AttributionView = Type.Object({
  portfolioId: Type.String(),
  benchmarkId: Type.String(),
  classification: literalUnion(Classifications),
  method: literalUnion(['BF', 'BHB'] as const, {
    description: 'BF: Brinson–Fachler (allocation against the benchmark’s total return); BHB: Brinson–Hood–Beebower',
  }),
  linking: Type.Literal('Carino'),
  period: PeriodView,
  preset: Nullable(literalUnion(Presets)),
  days: Type.Integer({ description: 'Business days attributed, each a period of its own, linked' }),
  portfolioReturn: Fraction('The positions’ return: Π(1 + Σ wᵢrᵢ) − 1 over the days'),
  benchmarkReturn: Fraction('Π(1 + Σ Wᵢbᵢ) − 1 over the days'),
  active: Fraction('portfolioReturn − benchmarkReturn: what the effects add up to'),
  total: Type.Object(EffectsView),
  segments: Type.Array(
    Type.Object({
      segment: Type.String(),
      ...EffectsView,
      total: Fraction('The segment’s three effects together'),
    }),
    { description: 'Largest total effect first' },
  ),
  twr: Fraction('The portfolio TWR over the period (flows as recorded, net of fees)'),
  residual: Fraction('twr − portfolioReturn: fees and expenses paid from cash, which no segment earns'),
  conventions: Type.Record(Type.String(), Type.String()),
})

const VarMethodView = Type.Object({
  var: Fraction('Loss not exceeded at the confidence level, positive'),
  expectedShortfall: Nullable(Fraction('Mean loss beyond the VaR, positive; null for Cornish-Fisher')),
})

export const RiskView = Type.Object({
  portfolioId: Type.String(),
  period: PeriodView,
  preset: Nullable(literalUnion(Presets)),
  frequency: literalUnion(['daily', 'weekly', 'monthly'] as const),
  observations: Type.Integer({ description: 'Returns the statistics use' }),
  annualizationFactor: Type.Number({
    description:
      'k: periods per year (daily 252, or 365 on an ALL_DAYS calendar; weekly 52; monthly 12) unless overridden',
  }),
  riskFreeRate: Type.Number({ description: 'Annual; per period (1 + rf)^(1/k) − 1' }),
  minimumAcceptableReturn: Type.Number({ description: 'Annual; per period (1 + MAR)^(1/k) − 1' }),
  volatility: Nullable(Fraction('Sample standard deviation × √k')),
  sharpe: Nullable(Type.Number({ description: 'mean(r − rf) / sample std(r − rf) × √k' })),
  sortino: Nullable(Type.Number({ description: 'mean(r − MAR) / downside deviation × √k' })),
  maxDrawdown: Type.Object({
    maxDrawdown: Fraction('Largest fall from a peak, negative or 0'),
    peak: Nullable(Type.String()),
    trough: Nullable(Type.String()),
    recovery: Nullable(Type.String({ description: 'First period back at the peak; null if not yet' })),
  }),
  valueAtRisk: Type.Object({
    confidence: Type.Number(),
    horizon: Type.Integer({ description: 'Periods; figures scaled by √horizon' }),
    quantile: literalUnion(QuantileRules, {
      description: 'How the historical quantile is taken: nearest rank, or linear interpolation (numpy’s default)',
    }),
    historical: VarMethodView,
    gaussian: VarMethodView,
    cornishFisher: VarMethodView,
  }),
  benchmark: Nullable(
    Type.Object({
      benchmarkId: Type.String({ description: 'The benchmark, or the security whose prices served as one' }),
      source: literalUnion(['benchmark', 'security'] as const, {
        description: 'An ingested benchmark series, or a security’s prices (in its own currency)',
      }),
      beta: Type.Number({ description: 'Sample cov(r, b) / sample var(b)' }),
      trackingError: Fraction('Sample std(r − b) × √k'),
      informationRatio: Nullable(Type.Number({ description: 'mean(r − b) × k / tracking error' })),
      benchmarkReturn: Fraction('Linked benchmark return over the period'),
      jensen: Nullable(
        Type.Object(
          {
            alpha: Fraction('Per period: mean(r − rf) − beta × mean(b − rf)'),
            alphaAnnualized: Fraction('alpha × k'),
            beta: Type.Number({ description: 'OLS slope of (r − rf) on (b − rf)' }),
          },
          { description: 'Ordinary least squares of the excess returns on the benchmark’s; null when b is constant' },
        ),
      ),
      upCapture: Nullable(Type.Number({ description: 'mean(r | b > 0) / mean(b | b > 0)' })),
      downCapture: Nullable(Type.Number({ description: 'mean(r | b < 0) / mean(b | b < 0)' })),
    }),
  ),
  ratios: Type.Object(
    {
      cagr: Nullable(Fraction('(1 + cumulative TWR)^(365 / calendar days) − 1')),
      calmar: Nullable(Type.Number({ description: 'CAGR / |max drawdown|; null without a drawdown' })),
      downsideDeviation: Fraction('√(Σ min(0, r − MAR)² / n) × √k'),
      semiDeviation: Fraction('√(Σ min(0, r − mean)² / n) × √k'),
      omega: Nullable(Type.Number({ description: 'Σ max(0, r − MAR) / Σ max(0, MAR − r); null with no loss' })),
      skewness: Nullable(Type.Number({ description: 'Population third standardized moment' })),
      excessKurtosis: Nullable(Type.Number({ description: 'Population fourth standardized moment − 3' })),
      longestDrawdown: Type.Object({
        periods: Type.Integer({ description: 'Longest run of periods below a previous peak' }),
        from: Nullable(Type.String()),
        to: Nullable(Type.String({ description: 'The period it recovered in; null when not recovered' })),
        recovered: Type.Boolean(),
      }),
      recoveryPeriods: Nullable(
        Type.Integer({ description: 'From the max drawdown’s trough to its recovery; null when not recovered' }),
      ),
    },
    { description: 'The ratio set, on the same returns (docs/analytics.md)' },
  ),
  periods: Type.Optional(
    Type.Array(
      Type.Object({
        ...namedPeriod,
        volatility: Nullable(Fraction('Sample std × √k')),
        sharpe: Nullable(Type.Number()),
        sortino: Nullable(Type.Number()),
        maxDrawdown: Nullable(Fraction('Largest fall from a peak, negative or 0')),
        unavailable: Nullable(Type.String({ description: 'Why there is no figure' })),
      }),
      { description: 'The further periods asked for (`periods=`), in the order asked, same conventions' },
    ),
  ),
  conventions: Type.Object({
    returns: Type.String(),
    standardDeviation: Type.String(),
    varSign: Type.String(),
    drawdown: Type.String(),
    annualization: Type.String(),
    dayBasis: Type.String(),
    moments: Type.String(),
    riskFreeRate: Type.String(),
    regression: Type.String(),
  }),
})

const Weighted = Type.Object({
  key: Type.String(),
  value: Money('Market value'),
  weight: Fraction('Of the portfolio total'),
})

const Allocation = Type.Object({
  assetClass: Type.Array(Weighted),
  sector: Type.Array(Weighted),
  country: Type.Array(Weighted),
  currency: Type.Array(Weighted),
  rating: Type.Array(Weighted, { description: 'By instrument rating; Unrated without one' }),
  maturity: Type.Array(Weighted, {
    description: 'By time to maturity: < 1y, 1-3y, 3-5y, 5-10y, > 10y, matured, none (no maturity date)',
  }),
  issuer: Type.Array(Weighted),
})

export const ConcentrationView = Type.Object({
  portfolioId: Type.String(),
  asOf: Day('The business day of the valuations used'),
  total: Money('Portfolio market value'),
  hhi: Type.Number({ description: 'Σ weight² over positions: 1 = a single position' }),
  largest: Fraction('Largest position weight'),
  top5: Fraction('Sum of the 5 largest weights'),
  top10: Fraction('Sum of the 10 largest weights'),
  topN: Type.Object(
    { n: Type.Integer(), share: Fraction('Sum of the N largest weights') },
    { description: 'The first N asked for' },
  ),
  tops: Type.Array(Type.Object({ n: Type.Integer(), share: Fraction('Sum of the N largest weights') }), {
    description: 'Every N asked for (`top=3,5,10`), in the order asked',
  }),
  positions: Type.Array(Weighted),
  issuers: Type.Array(
    Type.Object({
      issuer: Type.String({ description: 'Ultimate parent issuer, else issuer; Cash for cash; Unclassified' }),
      value: Money('Market value summed over the issuer’s securities, exact to the cent'),
      weight: Fraction('Summed over the issuer’s securities'),
      unclassified: Type.Boolean({ description: 'True for positions with no issuer data' }),
    }),
  ),
  allocation: Type.Omit(Allocation, ['issuer'], { description: 'Issuers are in `issuers`' }),
  conventions: Type.String(),
})

const PresetFigure = Type.Object({
  preset: literalUnion(Presets),
  from: Nullable(Day()),
  net: Nullable(TwrView),
  gross: Nullable(TwrView),
  unavailable: Nullable(Type.String({ description: 'Why there is no figure (too little history, missing days)' })),
})
const RiskSummary = Type.Object({
  preset: literalUnion(Presets),
  volatility: Nullable(Fraction('Daily returns, × √252 (√365 on an ALL_DAYS calendar)')),
  sharpe: Nullable(Type.Number({ description: 'Risk-free rate 0 unless given' })),
  unavailable: Nullable(Type.String()),
})

/** Each section is present unless `sections=` left it out. */
export const ReviewView = Type.Object({
  portfolioId: Type.String(),
  asOf: Day('The snapshot date: the business date unless asked'),
  overview: Type.Optional(
    Type.Object({
      portfolio: PortfolioView,
      totalWealth: Money('Market value of every position'),
      cash: Money('Market value of the cash positions'),
      ytdPnl: Money('Change in value this year less external flows'),
      complete: Type.Boolean({ description: 'False when a position could not be valued on asOf' }),
    }),
  ),
  allocation: Type.Optional(Allocation),
  performance: Type.Optional(Type.Array(PresetFigure, { description: 'TWR, flows as recorded' })),
  risk: Type.Optional(Type.Array(RiskSummary)),
  activity: Type.Optional(
    Type.Object({
      ytdIncome: Money('Income received this year'),
      ytdDeposits: Money('External flows in this year'),
      ytdWithdrawals: Money('External flows out this year, negative'),
      ytdFees: Money('Fees paid this year'),
    }),
  ),
  holdings: Type.Optional(
    Type.Array(
      Type.Object({ assetClass: Type.String(), value: Money('Market value'), positions: Type.Array(PositionView) }),
    ),
  ),
  transactions: Type.Optional(
    Type.Object({
      ytdCount: Type.Integer(),
      recent: Type.Array(TransactionView, { description: 'This year’s, newest first, at most 20' }),
      byAssetClass: Type.Array(Type.Object({ assetClass: Type.String(), count: Type.Integer() }), {
        description: 'This year’s counted by their security’s asset class (Cash: no security), most first',
      }),
    }),
  ),
  dataSince: Nullable(
    Day('The first day of the portfolio’s series; null: no data yet (no transaction), every figure zero or empty'),
  ),
})

export const PositionAnalyticsView = Type.Object({
  portfolioId: Type.String(),
  from: Day('First business day of the period'),
  to: Day('Last business day of the period, the date of the holdings'),
  currency: Type.String({ description: 'Base currency' }),
  positions: Type.Array(
    Type.Object({
      positionId: Type.String({ description: 'securityId, or CASH:<currency>' }),
      name: Nullable(Type.String()),
      assetClass: Type.String({ description: 'Cash for cash; Unclassified without one' }),
      currency: Type.String({ description: 'The position’s own (local) currency' }),
      heldSince: Nullable(Day('Start of the current holding period on `to`; null once closed')),
      quantity: Type.String({ description: 'On `to`; exact' }),
      costLocal: Money('Cost of the open quantity on `to`, local'),
      costBase: Money('Cost of the open quantity on `to`'),
      marketValueLocal: Nullable(Money('On `to`, local')),
      marketValueBase: Nullable(Money('On `to`')),
      unrealizedLocal: Nullable(Money('Market value − cost, local')),
      unrealizedBase: Nullable(Money('Market value − cost')),
      incomeLocal: Nullable(
        Money('Income received in the period, net of withholding, local; null when some was paid in another currency'),
      ),
      incomeBase: Money('Income received in the period, net of withholding'),
      feesLocal: Nullable(
        Money(
          'Fees paid in the period on its trades and expenses, local; null when some were paid in another currency',
        ),
      ),
      feesBase: Money('Fees paid in the period on its trades and expenses'),
      weight: Nullable(Fraction('Market value over the portfolio total on `to`; null when any position is unvalued')),
      twrBase: Nullable(Fraction('TWR in base currency over the days held in the period')),
      twrLocal: Nullable(Fraction('TWR in its own currency over the same days (docs/analytics.md)')),
      twrFx: Nullable(Fraction('twrBase − twrLocal: what the currency added')),
    }),
  ),
  conventions: Type.String(),
})

export const SummaryView = Type.Object({
  portfolioId: Type.String(),
  from: Day('The first business day of the period'),
  to: Day('The last business day of the period'),
  currency: Type.String({ description: 'Base currency: every amount below is in it' }),
  wealth: Type.Object({
    start: Money('Market value at the close of the business day before `from` (0 before inception)'),
    end: Money('Market value at the close of `to`'),
    cashEnd: Money('Of which cash, at the close of `to`'),
  }),
  netNewMoney: Type.Object({
    total: Money('Deposits + withdrawals + transfers in + transfers out (signed: into the portfolio positive)'),
    deposits: Money('DEPOSIT'),
    withdrawals: Money('WITHDRAWAL, negative'),
    transfersIn: Money('TRANSFER_IN of cash or securities, at their value'),
    transfersOut: Money('TRANSFER_OUT of cash or securities, at their value, negative'),
  }),
  pnl: Type.Object({
    total: Money('wealth.end − wealth.start − netNewMoney.total, to the cent'),
    realized: Money('Realized P&L of sales in the period (price and FX)'),
    unrealizedChange: Money(
      'Unrealized P&L (market value − cost) at the end less at the start; FX on foreign cash included',
    ),
    income: Money('Dividends and interest received, net of withholding'),
    fees: Money('FEE transactions, negative; fees on trades are in cost and proceeds, so in realized and unrealized'),
    taxes: Money('TAX transactions, negative'),
    other: Money(
      'total − the lines above: OTHER transactions, accrued interest paid or received, securities transferred at a value other than their cost, and the lines’ rounding to the cent',
    ),
  }),
  income: Type.Object({
    dividends: Money('DIVIDEND, net of withholding'),
    interest: Money('INTEREST, net of withholding'),
    withholding: Money('Withheld from income, positive'),
  }),
  costs: Type.Object({
    fees: Money('FEE transactions, positive'),
    taxes: Money('TAX transactions, positive'),
    tradingFees: Money('Fees of BUY and SELL, positive (in cost and proceeds)'),
  }),
  activity: Type.Array(
    Type.Object({
      type: literalUnion(TransactionTypes),
      count: Type.Integer(),
      amount: Money('Σ cashflow amounts, signed from the portfolio’s side'),
      fees: Money('Σ fees, positive: of a trade its fee, of income the withholding, of a FEE or TAX its amount'),
    }),
    { description: 'Per transaction type that moved money in the period (SPLIT and CANCEL move none)' },
  ),
  allocation: Allocation,
  conventions: Type.String(),
})

export const SupportView = Type.Object({
  portfolioId: Type.String(),
  businessDate: Nullable(Day()),
  stages: Type.Array(
    Type.Object({
      stage: literalUnion(['positions', 'valuation', 'timeseries'] as const),
      state: literalUnion(['current', 'pending', 'lagging', 'never-run'] as const),
      completedAt: Nullable(Type.String()),
      inputsAsOf: Nullable(Type.String({ description: 'Everything committed before this time is reflected' })),
      throughDate: Nullable(Day('Last day covered; behind the business date = lagging')),
      newestInputAt: Nullable(Type.String({ description: 'When the newest input this stage depends on arrived' })),
    }),
  ),
  rejectedTransactions: Type.Array(
    Type.Object({ transactionId: Type.String(), date: Day(), code: Type.String(), reason: Type.String() }),
  ),
  unvaluedDays: Type.Integer({ description: 'Position-days stored without a market value' }),
  deadLetters: Type.Array(
    Type.Object({
      id: Type.String(),
      stage: Type.String(),
      topic: Type.String(),
      code: Type.String(),
      reason: Type.String(),
      createdAt: Type.String(),
      replayedAt: Nullable(Type.String()),
    }),
    { description: 'Records keyed by this portfolio that a stage could not take, newest first, at most 100' },
  ),
})

const WrittenBy = Type.String({ description: 'The API key id that wrote it; `open` when auth was off' })

export const LineageView = Type.Object({
  portfolioId: Type.String(),
  positionId: Type.String(),
  latestTransaction: Nullable(
    Type.Object({
      transactionId: Type.String(),
      tradeDate: Day(),
      receivedAt: Type.String(),
      version: Type.Integer({ description: '1, plus one per correction received' }),
      writtenBy: Nullable(WrittenBy),
      ingestId: Nullable(Type.String({ description: 'Correlation id of the ingest request that wrote it' })),
    }),
  ),
  latestPrice: Nullable(Type.Object({ date: Day(), receivedAt: Type.String(), writtenBy: Nullable(WrittenBy) })),
  stages: Type.Array(
    Type.Object({
      stage: Type.String(),
      completedAt: Type.String(),
      fromDate: Day(),
      throughDate: Nullable(Day()),
      inputsAsOf: Type.String(),
      reflectsLatestTransaction: Nullable(Type.Boolean()),
      reflectsLatestPrice: Nullable(Type.Boolean()),
    }),
  ),
  latestValuation: Nullable(Type.Object({ date: Day(), status: Type.String() })),
  latestSeriesDate: Nullable(Day()),
})
