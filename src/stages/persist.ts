import { TypeCompiler } from '@sinclair/typebox/compiler'
import { type IngestKind, RawEnvelope } from '../domain/records.ts'
import { validateRecord } from '../domain/validate.ts'
import { AppError } from '../errors.ts'
import type { Batch, EventLog, LogRecord } from '../ports/event-log.ts'
import type { DeadLetter, InputStore, Inputs, Notices } from '../ports/input-store.ts'
import type { Stage } from '../runtime/stage.ts'
import { type Topic, Topics } from '../topology.ts'
import { sinceOf } from './notices.ts'

const envelope = TypeCompiler.Compile(RawEnvelope)
/** Where each kind of raw record goes (validateRecord has checked it against its schema). */
const bucket: Record<IngestKind, keyof Inputs> = {
  portfolio: 'portfolios',
  instrument: 'instruments',
  transaction: 'transactions',
  price: 'prices',
  fx: 'fx',
  businessDate: 'businessDates',
  benchmark: 'benchmarks',
  benchmarkSegment: 'benchmarkSegments',
  holiday: 'holidays',
}
const STAGE = 'persist'

/** A raw record that passed validation, with where it came from (to park it if PostgreSQL refuses it). */
type Accepted = { source: LogRecord; kind: IngestKind; record: object; keyId: string | undefined; ingestId: string }

const letterOf = (r: LogRecord, code: string, reason: string): DeadLetter => ({
  stage: STAGE,
  topic: r.topic,
  partition: r.partition,
  offset: r.offset,
  key: r.key,
  payload: r.value,
  code,
  reason,
})

/** Splits a batch of raw records into valid records, in batch order, and dead letters (with their reason). */
export function parseRawBatch(records: readonly LogRecord[]): { accepted: Accepted[]; rejected: DeadLetter[] } {
  const accepted: Accepted[] = []
  const rejected: DeadLetter[] = []
  for (const r of records) {
    let parsed: unknown
    try {
      parsed = JSON.parse(r.value)
    } catch {
      rejected.push(letterOf(r, 'INVALID_JSON', 'payload is not JSON'))
      continue
    }
    if (!envelope.Check(parsed)) {
      rejected.push(letterOf(r, 'INVALID_RECORD', 'payload is not a raw envelope {kind, ingestId, record}'))
      continue
    }
    const problems = validateRecord(parsed.kind, parsed.record)
    if (problems.length > 0) {
      const reason = problems.map((p) => `${p.field || parsed.kind}: ${p.message}`).join('; ')
      rejected.push(letterOf(r, 'INVALID_RECORD', reason))
      continue
    }
    accepted.push({
      source: r,
      kind: parsed.kind,
      record: parsed.record as object,
      keyId: parsed.keyId,
      ingestId: parsed.ingestId,
    })
  }
  return { accepted, rejected }
}

/** The valid inputs of (part of) a batch, by kind, in batch order. */
function inputsOf(accepted: readonly Accepted[]): Inputs {
  const inputs: Inputs = {
    portfolios: [],
    instruments: [],
    transactions: [],
    prices: [],
    fx: [],
    businessDates: [],
    benchmarks: [],
    benchmarkSegments: [],
    holidays: [],
  }
  for (const a of accepted) {
    const list: unknown[] = inputs[bucket[a.kind]]
    const source = {
      sourcePartition: a.source.partition,
      sourceOffset: a.source.offset.toString(),
      ingestId: a.ingestId,
    }
    list.push({ ...a.record, writtenBy: a.keyId ?? 'open', ...(a.kind === 'transaction' ? source : {}) })
  }
  return inputs
}

/**
 * Merges `accepted`; if PostgreSQL refuses a value that validation let through (INVALID_RECORD),
 * halves the records and merges each half in order, down to the single record it refuses, which
 * is parked. The halves keep batch order, so the last record of a key still wins; a bad record
 * costs about log2(batch) extra merges and never stops the stage.
 */
async function mergeOrPark(store: InputStore, accepted: readonly Accepted[], parked: DeadLetter[]): Promise<Notices[]> {
  if (accepted.length === 0) return []
  try {
    return [await store.merge(inputsOf(accepted))]
  } catch (error) {
    if (!(error instanceof AppError && error.code === 'INVALID_RECORD')) throw error
    const [only] = accepted
    if (accepted.length === 1 && only) {
      parked.push(letterOf(only.source, 'REFUSED_BY_STORE', error.message))
      return []
    }
    const half = Math.ceil(accepted.length / 2)
    const first = await mergeOrPark(store, accepted.slice(0, half), parked)
    return [...first, ...(await mergeOrPark(store, accepted.slice(half), parked))]
  }
}

/** Where each kind of notice goes, and its partition key (portfolio, security or pair). */
const routes: { [K in keyof Notices]: { topic: Topic; key: (n: Notices[K][number]) => string } } = {
  transactions: { topic: Topics.transactionsChanged, key: (n) => n.portfolioId },
  prices: { topic: Topics.pricesChanged, key: (n) => n.securityId },
  fx: { topic: Topics.fxChanged, key: (n) => `${n.from}/${n.to}` },
  valuationJobs: { topic: Topics.valuationJobs, key: (n) => n.portfolioId },
}

/**
 * Appends the notices: recompute positions from D per portfolio, revalue from D per security, pair
 * or portfolio. Each carries `since`, the batch's earliest ingest time (records.ts).
 */
async function announce(log: EventLog, merged: readonly Notices[], since: number | undefined): Promise<void> {
  const stamped = (n: object) => JSON.stringify(since === undefined ? n : { ...n, since })
  for (const kind of Object.keys(routes) as (keyof Notices)[]) {
    const { topic, key } = routes[kind] as { topic: Topic; key: (n: unknown) => string }
    await log.append(
      topic,
      merged.flatMap((notices) => notices[kind].map((n) => ({ key: key(n), value: stamped(n) }))),
    )
  }
}

/**
 * persist: raw.* → tables, merged on natural keys, then change notices. Order within a batch:
 * dead letters, merge (parking what PostgreSQL refuses), notices; the runner commits the offsets after. A crash anywhere replays
 * the batch: the dead-letter insert and the merge are idempotent and the notices are repeated.
 */
export function persistStage(deps: { store: InputStore; log: EventLog }): Stage {
  return {
    name: STAGE,
    group: 'pas.persist',
    inputs: [Topics.rawReference, Topics.rawTransactions, Topics.rawPrices, Topics.rawFx],
    async process(batch: Batch) {
      const { accepted, rejected } = parseRawBatch(batch.records)
      await deps.store.deadLetter(rejected)
      const parked: DeadLetter[] = []
      const notices = await mergeOrPark(deps.store, accepted, parked)
      await deps.store.deadLetter(parked)
      await announce(deps.log, notices, sinceOf(accepted.map((a) => a.source)))
    },
  }
}
