/**
 * EventLog throughput: append and consume rate (records/s) of each adapter, in one process.
 *
 *   bun bench/event-log.bench.ts [--records 200000] [--batch 5000] [--runs 3] [--adapters memory,pg,kafka,rdkafka]
 *
 * Records look like ingested transactions (~330 bytes of JSON, 1,000 portfolio keys, 8 partitions).
 * Append: one producer, `batch` records per append call, each call durable before the next.
 * Consume: one group member, poll `batch` records, commit, repeat until all are read; the clock
 * starts before the first poll, so joining the group is included.
 * PostgreSQL is an embedded server in .pas/bench; Kafka is this checkout's `bench` broker (tools/kafka.sh),
 * through @platformatic/kafka (`kafka`) and through librdkafka via bun:ffi (`rdkafka`). CPU is this
 * process's (JavaScript and client threads, not the broker's) per record.
 * Prints a table and writes bench/results/event-log-<time>.json; the median of the runs is reported.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { KafkaLog } from '../src/adapters/kafka-log.ts'
import { MemoryLog } from '../src/adapters/memory-log.ts'
import { PgLog } from '../src/adapters/pg-log.ts'
import { RdKafkaLog } from '../src/adapters/rdkafka-log.ts'
import type { AppendRecord, EventLog } from '../src/ports/event-log.ts'
import { localKafka, localPg, scratchDatabase } from '../src/testing/local-infra.ts'

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '5000' },
    runs: { type: 'string', default: '3' },
    adapters: { type: 'string', default: 'memory,pg,kafka,rdkafka' },
  },
})
const total = Number(args.records)
const batch = Number(args.batch)
const runs = Number(args.runs)
const adapters = String(args.adapters).split(',')
const PARTITIONS = 8

type Opened = { log: EventLog; close(): Promise<void> }
/** A Kafka client on this checkout's `bench` broker, which it stops when it started it. */
const onBroker = (client: (brokers: string[]) => EventLog) => async (): Promise<Opened> => {
  const kafka = await localKafka('bench')
  const log = client(kafka.brokers)
  return {
    log,
    close: async () => {
      await log.close()
      await kafka.stop()
    },
  }
}
const open: Record<string, () => Promise<Opened>> = {
  memory: async () => {
    const log = new MemoryLog()
    return { log, close: () => log.close() }
  },
  pg: async () => {
    const server = await localPg('bench')
    const db = await scratchDatabase(server.url, `pas_bench_${Date.now()}`)
    const log = new PgLog(db.sql)
    return {
      log,
      close: async () => {
        await log.close()
        await db.drop()
        await server.server?.stop()
      },
    }
  },
  kafka: onBroker((brokers) => new KafkaLog({ brokers, clientId: 'pas-bench' })),
  rdkafka: onBroker((brokers) => new RdKafkaLog({ brokers, clientId: 'pas-bench-rdkafka' })),
}

function records(n: number): AppendRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const portfolioId = `P${String(i % 1000).padStart(4, '0')}`
    const value = JSON.stringify({
      transactionId: `T${i}`,
      portfolioId,
      securityId: `SEC${i % 500}`,
      type: i % 7 === 0 ? 'SELL' : 'BUY',
      tradeDate: '2026-11-24',
      settlementDate: '2026-11-26',
      quantity: String(10 + (i % 90)),
      price: `${100 + (i % 50)}.25`,
      grossAmount: '12345.67',
      tradeCurrency: 'USD',
      fee: '4.95',
      ingestedAtMs: 1_764_000_000_000,
    })
    return { key: portfolioId, value }
  })
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const progress = (message: string) => process.stderr.write(`${message}\n`)

async function measure(log: EventLog, data: AppendRecord[], run: number) {
  const topic = `bench.${log.kind}.${Date.now()}.${run}`
  await log.ensureTopics([{ name: topic, partitions: PARTITIONS }])
  let cpu = process.cpuUsage()
  let t0 = performance.now()
  for (let i = 0; i < data.length; i += batch) await log.append(topic, data.slice(i, i + batch))
  const appendS = (performance.now() - t0) / 1000
  const appendCpu = process.cpuUsage(cpu)

  const consumer = log.consumer({ group: `${topic}.g`, topics: [topic], maxRecords: batch, maxWaitMs: 1000 })
  cpu = process.cpuUsage()
  t0 = performance.now()
  let read = 0
  while (read < data.length) {
    const polled = await consumer.poll()
    if (polled.records.length === 0) continue
    await consumer.commit(polled.nextOffsets)
    read += polled.records.length
  }
  const consumeS = (performance.now() - t0) / 1000
  const consumeCpu = process.cpuUsage(cpu)
  await consumer.close()
  if (read !== data.length) throw new Error(`read ${read} of ${data.length}`)
  // CPU of this process (JavaScript and any client threads; not the broker's), µs per record.
  const perRecord = (u: NodeJS.CpuUsage) => (u.user + u.system) / data.length
  return {
    appendPerS: data.length / appendS,
    consumePerS: data.length / consumeS,
    appendCpuUs: perRecord(appendCpu),
    consumeCpuUs: perRecord(consumeCpu),
  }
}

const data = records(total)
const bytes = data.reduce((n, r) => n + r.key.length + r.value.length, 0)
progress(`${total} records, ${(bytes / total).toFixed(0)} bytes each on average, ${batch} per batch, ${runs} runs`)
const results: Record<
  string,
  { appendPerS: number; consumePerS: number; appendCpuUs: number; consumeCpuUs: number; runs: object[] }
> = {}
for (const name of adapters) {
  const opener = open[name]
  if (!opener) throw new Error(`unknown adapter ${name}; choose from ${Object.keys(open).join(', ')}`)
  const { log, close } = await opener()
  try {
    const measured = []
    for (let run = 1; run <= runs; run++) {
      const m = await measure(log, data, run)
      progress(
        `${name} run ${run}: append ${m.appendPerS.toFixed(0)}/s (${m.appendCpuUs.toFixed(1)} µs CPU each), consume ${m.consumePerS.toFixed(0)}/s (${m.consumeCpuUs.toFixed(1)} µs)`,
      )
      measured.push(m)
    }
    results[name] = {
      appendPerS: median(measured.map((m) => m.appendPerS)),
      consumePerS: median(measured.map((m) => m.consumePerS)),
      appendCpuUs: median(measured.map((m) => m.appendCpuUs)),
      consumeCpuUs: median(measured.map((m) => m.consumeCpuUs)),
      runs: measured,
    }
  } finally {
    await close()
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(12)
console.log(
  `\nadapter   append rec/s  consume rec/s  append µs CPU/rec  consume µs CPU/rec   (median of ${runs}; ${total} records, batch ${batch})`,
)
for (const [name, r] of Object.entries(results))
  console.log(
    `${name.padEnd(8)} ${fmt(r.appendPerS)} ${fmt(r.consumePerS)} ${r.appendCpuUs.toFixed(1).padStart(18)} ${r.consumeCpuUs.toFixed(1).padStart(19)}`,
  )
mkdirSync(`${import.meta.dir}/results`, { recursive: true })
const file = `${import.meta.dir}/results/event-log-${new Date().toISOString().replace(/[:.]/g, '-')}.json`
writeFileSync(
  file,
  JSON.stringify(
    { bench: 'event-log', at: new Date().toISOString(), total, batch, runs, bun: Bun.version, results },
    null,
    2,
  ),
)
console.log(`\nwritten ${file}`)
