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
      // A few single changes of each kind after the load: each reaches the series, and its
      // notices are found on their way (the hops, read from the pg log).
      trickle: 3,
      rate: 20,
    })
    process.stderr.write(`${formatResult(result)}\n`)
    expect(result.reconciliation).toEqual({ ok: true, problems: [] })
    expect(result.positionDays).toBeGreaterThan(0)
    expect(result.trickle?.map((t) => t.kind)).toEqual(['correction', 'trade', 'price', 'fx'])
    for (const t of result.trickle ?? []) {
      expect([t.kind, t.seriesWrites > 0]).toEqual([t.kind, true])
      const last = t.hops?.find((h) => h.topic === 'valuations.changed')
      expect([t.kind, (last?.notices ?? 0) > 0, (last?.p50Ms ?? -1) >= 0]).toEqual([t.kind, true, true])
    }
  }, 300_000)

  test('a pas process that dies ends the run with an error naming it, not a wait until the deadline', async () => {
    let pid = 0
    const run = runBenchmark({
      size: 'small',
      transport: 'pg',
      processes: 'all',
      clients: 0,
      seed: 3,
      databaseUrl: await testPgUrl(),
      progress: (line) => {
        const started = /^pas started: all \(pid (\d+)\)/.exec(line)
        if (started) pid = Number(started[1])
        // Killed while the harness waits for the pipeline, which polls the database, not pas
        // (never pid 0: that would signal this test's own process group).
        if (line.includes('waiting for the pipeline') && pid > 0) process.kill(pid, 'SIGKILL')
      },
    })
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(pid).toBeGreaterThan(0)
    expect(String(error)).toContain(`pas --role all (pid ${pid}) exited (SIGKILL)`)
  }, 120_000)

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
