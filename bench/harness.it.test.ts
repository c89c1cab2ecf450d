import { describe, expect, test } from 'bun:test'
import { kafkaTestsEnabled, testKafkaBrokers, testPgUrl } from '../src/testing/infra.ts'
import { formatResult, runBenchmark } from './harness.ts'

/**
 * The `small` benchmark on both transports, as CI runs it: the harness's reconciliation (every
 * transaction stored once, no rejection or dead letter, every final quantity as generated, every
 * series complete) must pass. Figures are printed, never asserted: speed is not a test.
 */
describe('benchmark harness, size small', () => {
  test('embedded shape: one process, the Postgres-backed log', async () => {
    const result = await runBenchmark({
      size: 'small',
      transport: 'pg',
      processes: 'all',
      clients: 2,
      seed: 1,
      databaseUrl: await testPgUrl(),
      progress: () => {},
    })
    process.stderr.write(`${formatResult(result)}\n`)
    expect(result.reconciliation).toEqual({ ok: true, problems: [] })
    expect(result.positionDays).toBeGreaterThan(0)
  }, 300_000)

  test.if(kafkaTestsEnabled)(
    'at scale: Kafka, a process per role, two for valuation',
    async () => {
      const result = await runBenchmark({
        size: 'small',
        transport: 'kafka',
        processes: { valuation: 2 },
        clients: 2,
        seed: 2,
        databaseUrl: await testPgUrl(),
        kafkaBrokers: (await testKafkaBrokers()).join(','),
        progress: () => {},
      })
      process.stderr.write(`${formatResult(result)}\n`)
      expect(result.reconciliation).toEqual({ ok: true, problems: [] })
      expect(Object.keys(result.peakMemoryMb).sort()).toEqual([
        'api',
        'ingest',
        'persist',
        'positions',
        'timeseries',
        'valuation',
      ])
    },
    300_000,
  )
})
