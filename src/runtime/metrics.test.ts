import { describe, expect, test } from 'bun:test'
import { sample } from '../testing/metrics-text.ts'
import { HEAP_SPACE_METRICS, Metrics } from './metrics.ts'

describe('Metrics', () => {
  test('stage batches add up records, batches and busy seconds; errors count by kind', async () => {
    const metrics = new Metrics('valuation')
    metrics.batch('valuation', 120, 0.5)
    metrics.batch('valuation', 30, 0.25)
    metrics.error('valuation', 'retry')
    metrics.error('valuation', 'retry')
    metrics.error('valuation', 'fatal')
    const text = await metrics.text()
    const stage = { stage: 'valuation', role: 'valuation' }
    expect(sample(text, 'pas_stage_records_total', stage)).toBe(150)
    expect(sample(text, 'pas_stage_batches_total', stage)).toBe(2)
    expect(sample(text, 'pas_stage_busy_seconds_total', stage)).toBe(0.75)
    expect(sample(text, 'pas_stage_errors_total', { ...stage, kind: 'retry' })).toBe(2)
    expect(sample(text, 'pas_stage_errors_total', { ...stage, kind: 'fatal' })).toBe(1)
  })

  test('requests count by route pattern and status; their durations fill the histogram buckets', async () => {
    const metrics = new Metrics('api')
    const route = '/v1/portfolios/:portfolioId/review'
    metrics.request('GET', route, 200, 0.004)
    metrics.request('GET', route, 200, 0.03)
    metrics.request('GET', route, 404, 0.001)
    const text = await metrics.text()
    expect(sample(text, 'pas_http_requests_total', { route, status: '200' })).toBe(2)
    expect(sample(text, 'pas_http_requests_total', { route, status: '404' })).toBe(1)
    // Cumulative buckets: ≤ 5 ms holds 0.004 and 0.001; ≤ 50 ms all three.
    expect(sample(text, 'pas_http_request_duration_seconds_bucket', { route, le: '0.005' })).toBe(2)
    expect(sample(text, 'pas_http_request_duration_seconds_bucket', { route, le: '0.05' })).toBe(3)
    expect(sample(text, 'pas_http_request_duration_seconds_count', { route })).toBe(3)
  })

  test('freshness: each series written is one observation', async () => {
    const metrics = new Metrics('timeseries')
    metrics.fresh(0.08)
    metrics.fresh(3)
    const text = await metrics.text()
    expect(sample(text, 'pas_freshness_seconds_bucket', { le: '0.1' })).toBe(1)
    expect(sample(text, 'pas_freshness_seconds_bucket', { le: '5' })).toBe(2)
    expect(sample(text, 'pas_freshness_seconds_sum')).toBe(3.08)
  })

  test('lag, dead letters and connections are read at scrape time; a source that fails is left out', async () => {
    let lag = 7
    const metrics = new Metrics('all', {
      lag: async () => [{ group: 'pas.valuation', topic: 'valuation.jobs', partition: 3, lag }],
      deadLetters: async () => {
        throw new Error('database unreachable')
      },
      connections: async () => [{ state: 'idle', count: 4 }],
    })
    const series = { group: 'pas.valuation', topic: 'valuation.jobs', partition: '3' }
    expect(sample(await metrics.text(), 'pas_consumer_lag_records', series)).toBe(7)
    lag = 0
    const text = await metrics.text()
    expect(sample(text, 'pas_consumer_lag_records', series)).toBe(0)
    expect(sample(text, 'pas_pg_connections', { state: 'idle' })).toBe(4)
    expect(sample(text, 'pas_dead_letters')).toBeUndefined()
    // The process's own: memory and event-loop delay, with the pas_ prefix.
    expect(sample(text, 'pas_process_resident_memory_bytes')).toBeGreaterThan(0)
    expect(sample(text, 'pas_nodejs_heap_size_used_bytes')).toBeGreaterThan(0)
    expect(text).toContain('pas_nodejs_eventloop_lag_seconds')
    // Not the heap spaces: Bun walks the whole heap to answer them, stalling the process per scrape.
    for (const space of HEAP_SPACE_METRICS) expect(text).not.toContain(space)
  })

  test('the example Grafana dashboard (docs/grafana/pas.json) charts only metrics pas exports', async () => {
    const dashboard = await Bun.file(new URL('../../docs/grafana/pas.json', import.meta.url)).text()
    const charted = new Set([...dashboard.matchAll(/pas_\w+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')))
    const metrics = new Metrics('all', {
      lag: async () => [],
      deadLetters: async () => [],
      connections: async () => [],
    })
    const exported = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name))
    expect(charted.size).toBeGreaterThan(5)
    expect([...charted].filter((name) => !exported.has(name))).toEqual([])
  })
})
