import type { TObject } from '@sinclair/typebox'
import { TypeCompiler, ValueErrorType } from '@sinclair/typebox/compiler'
import { CALENDARS, isIsoDate } from './dates.ts'
import {
  BenchmarkPoint,
  BenchmarkSegment,
  BusinessDate,
  FxRate,
  Holiday,
  type IngestKind,
  Instrument,
  Portfolio,
  Price,
  Transaction,
} from './records.ts'

export type Problem = { field: string; message: string }
const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1)

/** The schema of each kind of input record: what ingest documents and validates against. */
export const recordSchemas: Record<IngestKind, TObject> = {
  portfolio: Portfolio,
  instrument: Instrument,
  transaction: Transaction,
  price: Price,
  fx: FxRate,
  businessDate: BusinessDate,
  benchmark: BenchmarkPoint,
  benchmarkSegment: BenchmarkSegment,
  holiday: Holiday,
}
const compiled = Object.fromEntries(
  Object.entries(recordSchemas).map(([k, s]) => [k, TypeCompiler.Compile(s)]),
) as Record<IngestKind, ReturnType<typeof TypeCompiler.Compile<TObject>>>
/** ISO 4217 codes as the runtime's ICU data lists them: maintained upstream, not by hand. */
const currencies = new Set(Intl.supportedValuesOf('currency'))
const currencyFields: Record<IngestKind, readonly string[]> = {
  portfolio: ['baseCurrency'],
  instrument: ['currency'],
  transaction: ['currency'],
  price: ['currency'],
  fx: ['from', 'to'],
  businessDate: [],
  benchmark: [],
  benchmarkSegment: [],
  holiday: [],
}
/** The smallest FX rate or split ratio: its inverse must stay below 10^6 too. */
const MIN_RATE = 0.000001
const dateFields: Record<IngestKind, readonly string[]> = {
  portfolio: ['openDate'],
  instrument: ['maturityDate'],
  transaction: ['tradeDate', 'settlementDate'],
  price: ['date'],
  fx: ['date'],
  businessDate: ['date'],
  benchmark: ['date'],
  benchmarkSegment: ['date'],
  holiday: ['date'],
}

/**
 * The problems of one input record, each naming its field ('' for the record itself), or an empty
 * list. The schema first, then what a pattern cannot say: dates that exist, an FX pair of two
 * different currencies with a positive rate, a CANCEL that names its target.
 */
export function validateRecord(kind: IngestKind, value: unknown): Problem[] {
  const check = compiled[kind]
  if (!check.Check(value)) {
    const seen = new Set<string>()
    const problems: Problem[] = []
    for (const e of check.Errors(value)) {
      const field = e.path.replace(/^\//, '').replaceAll('/', '.')
      if (seen.has(field)) continue // a union reports each member; the first message is enough
      seen.add(field)
      // A pattern says nothing to a person; the schema's description says what is expected.
      const described = e.type === ValueErrorType.StringPattern && e.schema.description
      problems.push({
        field,
        message: described ? `expected ${lowerFirst(e.schema.description as string)}` : e.message,
      })
    }
    return problems
  }
  const record = value as Record<string, unknown>
  const problems: Problem[] = []
  for (const field of dateFields[kind]) {
    const date = record[field]
    if (typeof date === 'string' && !isIsoDate(date))
      problems.push({ field, message: `${date} is not a calendar date` })
  }
  for (const field of currencyFields[kind]) {
    const code = record[field]
    if (typeof code === 'string' && !currencies.has(code))
      problems.push({ field, message: `${code} is not an ISO 4217 currency code` })
  }
  if (kind === 'fx') {
    if (record.from === record.to) problems.push({ field: 'to', message: 'must differ from `from`' })
    if (Number(record.rate) < MIN_RATE) problems.push({ field: 'rate', message: `must be at least ${MIN_RATE}` })
  }
  if (kind === 'transaction' && record.ratio !== undefined && Number(record.ratio) < MIN_RATE) {
    problems.push({ field: 'ratio', message: `must be at least ${MIN_RATE}` })
  }
  if (kind === 'benchmark') {
    if ((record.level === undefined) === (record.return === undefined)) {
      problems.push({ field: 'level', message: 'give exactly one of `level` and `return`' })
    } else if (record.level !== undefined && Number(record.level) <= 0) {
      problems.push({ field: 'level', message: 'must be positive' })
    } else if (record.return !== undefined && Number(record.return) <= -1) {
      problems.push({ field: 'return', message: 'must be above -1 (a loss of more than 100 %)' })
    }
  }
  if (kind === 'benchmarkSegment') {
    if (Number(record.weight) > 1)
      problems.push({ field: 'weight', message: 'must be at most 1 (the whole benchmark)' })
    if (Number(record.return) <= -1) {
      problems.push({ field: 'return', message: 'must be above -1 (a loss of more than 100 %)' })
    }
  }
  if (kind === 'holiday' && (CALENDARS as readonly unknown[]).includes(record.calendarId)) {
    problems.push({
      field: 'calendarId',
      message: `${record.calendarId} is built in; a holiday calendar needs an id of its own`,
    })
  }
  if (kind === 'transaction' && record.type === 'CANCEL' && record.cancels === undefined) {
    problems.push({ field: 'cancels', message: 'a CANCEL names the transaction it cancels' })
  }
  return problems
}

/** The partition key of each kind: portfolio-scoped records by portfolio, prices by security, FX by pair. */
export function keyOf(kind: IngestKind, record: Record<string, unknown>): string {
  switch (kind) {
    case 'portfolio':
    case 'transaction':
      return String(record.portfolioId)
    case 'instrument':
    case 'price':
      return String(record.securityId)
    case 'benchmark':
    case 'benchmarkSegment':
      return String(record.benchmarkId)
    case 'fx':
      return `${record.from}/${record.to}`
    case 'businessDate':
      return 'business-date'
    case 'holiday':
      return `holidays/${record.calendarId}`
  }
}
