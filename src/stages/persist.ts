import { TypeCompiler } from '@sinclair/typebox/compiler'
import { type IngestKind, RawEnvelope } from '../domain/records.ts'
import { validateRecord } from '../domain/validate.ts'
import type { Batch, EventLog, LogRecord } from '../ports/event-log.ts'
import type { DeadLetter, InputStore, Inputs, Notices } from '../ports/input-store.ts'
import type { Stage } from '../runtime/stage.ts'
import { type Topic, Topics } from '../topology.ts'

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
}
const STAGE = 'persist'

/** Splits a batch of raw records into valid inputs by kind and dead letters (with their reason). */
export function parseRawBatch(records: readonly LogRecord[]): { inputs: Inputs; rejected: DeadLetter[] } {
  const inputs: Inputs = {
    portfolios: [],
    instruments: [],
    transactions: [],
    prices: [],
    fx: [],
    businessDates: [],
    benchmarks: [],
  }
  const rejected: DeadLetter[] = []
  const reject = (r: LogRecord, code: string, reason: string) =>
    rejected.push({
      stage: STAGE,
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      key: r.key,
      payload: r.value,
      code,
      reason,
    })
  for (const r of records) {
    let parsed: unknown
    try {
      parsed = JSON.parse(r.value)
    } catch {
      reject(r, 'INVALID_JSON', 'payload is not JSON')
      continue
    }
    if (!envelope.Check(parsed)) {
      reject(r, 'INVALID_RECORD', 'payload is not a raw envelope {kind, ingestId, record}')
      continue
    }
    const problems = validateRecord(parsed.kind, parsed.record)
    if (problems.length > 0) {
      reject(r, 'INVALID_RECORD', problems.map((p) => `${p.field || parsed.kind}: ${p.message}`).join('; '))
      continue
    }
    const list: unknown[] = inputs[bucket[parsed.kind]]
    list.push(parsed.record)
  }
  return { inputs, rejected }
}

/** Where each kind of notice goes, and its partition key (portfolio, security or pair). */
const routes: { [K in keyof Notices]: { topic: Topic; key: (n: Notices[K][number]) => string } } = {
  transactions: { topic: Topics.transactionsChanged, key: (n) => n.portfolioId },
  prices: { topic: Topics.pricesChanged, key: (n) => n.securityId },
  fx: { topic: Topics.fxChanged, key: (n) => `${n.from}/${n.to}` },
  valuationJobs: { topic: Topics.valuationJobs, key: (n) => n.portfolioId },
}

/** Appends the notices: recompute positions from D per portfolio, revalue from D per security, pair or portfolio. */
async function announce(log: EventLog, notices: Notices): Promise<void> {
  for (const kind of Object.keys(routes) as (keyof Notices)[]) {
    const { topic, key } = routes[kind] as { topic: Topic; key: (n: unknown) => string }
    await log.append(
      topic,
      notices[kind].map((n) => ({ key: key(n), value: JSON.stringify(n) })),
    )
  }
}

/**
 * persist: raw.* → tables, merged on natural keys, then change notices. Order within a batch:
 * dead letters, merge, notices; the runner commits the offsets after. A crash anywhere replays
 * the batch: the dead-letter insert and the merge are idempotent and the notices are repeated.
 */
export function persistStage(deps: { store: InputStore; log: EventLog }): Stage {
  return {
    name: STAGE,
    group: 'pas.persist',
    inputs: [Topics.rawReference, Topics.rawTransactions, Topics.rawPrices, Topics.rawFx],
    async process(batch: Batch) {
      const { inputs, rejected } = parseRawBatch(batch.records)
      await deps.store.deadLetter(rejected)
      const notices = await deps.store.merge(inputs)
      await announce(deps.log, notices)
    },
  }
}
