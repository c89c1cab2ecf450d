import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { findBinDir } from './adapters/embedded-pg.ts'
import { rdkafkaAvailable } from './adapters/rdkafka/ffi.ts'
import { freshDatabase, inCI, kafkaTestsEnabled, testKafkaBrokers } from './testing/infra.ts'
import { dropKafkaTopics, freePort, kafkaTopics } from './testing/local-infra.ts'
import { sample, samples } from './testing/metrics-text.ts'
import { type PasProcess, spawnPas } from './testing/processes.ts'
import { post } from './testing/workload.ts'
import { Topics } from './topology.ts'

// The shipped artefact, not the sources: build the single executable once, then run it for real.
const repo = resolve(import.meta.dir, '..')
const work = mkdtempSync(join(tmpdir(), 'pas-smoke-'))
const binary = join(work, 'pas')

beforeAll(async () => {
  const build = Bun.spawn(['bun', join(repo, 'tools', 'build.ts'), binary], { cwd: repo, stderr: 'pipe' })
  if ((await build.exited) !== 0) throw new Error(`build failed: ${await new Response(build.stderr).text()}`)
}, 120_000)
afterAll(() => rmSync(work, { recursive: true, force: true }))

type Running = PasProcess

/** Starts the binary from a folder that is not the repo: it must find what it needs on its own. */
const start = (env: Record<string, string>, args: string[]): Promise<Running> =>
  // The binary ships alone; the operator points it at PostgreSQL binaries (here: this checkout's).
  spawnPas([binary, ...args], { PAS_PG_BIN_DIR: findBinDir(), ...env }, work)

async function stop(running: Running) {
  running.proc.kill('SIGTERM')
  return running.proc.exited
}

describe('the compiled pas binary', () => {
  test('--role all on the embedded default serves /health and /ready, then exits 0 on SIGTERM', async () => {
    const dataDir = join(work, 'data')
    const running = await start(
      { PAS_DATA_DIR: dataDir, PAS_EMBEDDED_PG_PORT: String(freePort()), PAS_MAX_BODY_BYTES: '4096' },
      ['--role', 'all', '--port', '0'],
    )
    const health = await fetch(`${running.url}/health`)
    expect(health.status).toBe(200)
    const body = (await health.json()) as { status: string; transport: string; services: { state: string }[] }
    expect(body.status).toBe('ok')
    expect(body.transport).toBe('pg')
    expect(body.services.length).toBe(6)
    expect(body.services.every((s) => s.state === 'running')).toBe(true)
    expect(await (await fetch(`${running.url}/ready`)).json()).toEqual({ ready: true })
    // The binary carries the OpenAPI generator and the offline docs page.
    const openapi = (await (await fetch(`${running.url}/openapi.json`)).json()) as { paths: Record<string, unknown> }
    expect(Object.keys(openapi.paths)).toContain('/v1/portfolios/{portfolioId}/review')
    expect(await (await fetch(`${running.url}/docs`)).text()).toContain('/openapi.json')
    // And the dashboard, built into it as one page: inline script and styles, nothing fetched from elsewhere.
    const dashboard = await fetch(`${running.url}/`)
    expect(dashboard.headers.get('content-encoding')).toBe('gzip') // Bun's fetch asks for gzip and decodes it
    const html = await dashboard.text()
    expect(html).toContain('<main id="main"')
    expect(html).toContain('<script type="module">')
    expect(html).not.toMatch(/<script[^>]* src=|<link[^>]* rel="stylesheet"[^>]* href=/)

    // Ingest goes through the log to the persist stage, which the health report shows working.
    const post = (body: string) =>
      fetch(`${running.url}/v1/ingest/portfolios`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
    const accepted = await post(JSON.stringify([{ portfolioId: 'P1', baseCurrency: 'EUR', openDate: '2025-01-01' }]))
    expect(accepted.status).toBe(202)
    expect((await post(JSON.stringify([{ portfolioId: 'P2' }]))).status).toBe(422)
    expect((await post(JSON.stringify([{ portfolioId: 'x'.repeat(5000) }]))).status).toBe(413)
    const persisted = async () => {
      const h = (await (await fetch(`${running.url}/health`)).json()) as {
        services: { name: string; detail: { stages: { detail: { records: number } }[] } }[]
      }
      return h.services.find((s) => s.name === 'role:persist')?.detail.stages[0]?.detail.records ?? 0
    }
    const deadline = Date.now() + 30_000
    while ((await persisted()) < 1 && Date.now() < deadline) await Bun.sleep(100)
    expect(await persisted()).toBe(1)

    // Prometheus metrics: what the stages did, the consumer lag (none left on what persist read),
    // the answers by route and status, the process itself. README.md, Metrics, names each one.
    const metrics = await fetch(`${running.url}/metrics`)
    expect(metrics.headers.get('content-type')).toContain('text/plain')
    const text = await metrics.text()
    expect(sample(text, 'pas_stage_records_total', { role: 'all', stage: 'persist' })).toBe(1)
    expect(sample(text, 'pas_stage_batches_total', { stage: 'persist' })).toBe(1)
    const lag = samples(text, 'pas_consumer_lag_records', { group: 'pas.persist', topic: 'raw.reference' })
    expect([lag.length > 0, lag.reduce((a, b) => a + b, 0)]).toEqual([true, 0])
    const ingest = { method: 'POST', route: '/v1/ingest/portfolios' }
    expect(sample(text, 'pas_http_requests_total', { ...ingest, status: '202' })).toBe(1)
    expect(sample(text, 'pas_http_requests_total', { ...ingest, status: '422' })).toBe(1)
    expect(sample(text, 'pas_process_resident_memory_bytes')).toBeGreaterThan(0)
    expect(sample(text, 'pas_pg_connections', { state: 'idle' })).toBeGreaterThan(0)
    const readme = await Bun.file(join(repo, 'README.md')).text()
    const names = new Set([...text.matchAll(/^# TYPE (pas_\w+) /gm)].map((m) => m[1] as string))
    expect([...names].filter((n) => !readme.includes(n.replace(/^pas_(process|nodejs)_.*/, 'pas_$1_')))).toEqual([])

    expect(await stop(running)).toBe(0)
    expect(running.logs()).toContain('"msg":"stopped cleanly"')
    // The embedded server it started is gone too: PostgreSQL removes its pid file on a clean stop.
    expect(existsSync(join(dataDir, 'pg', 'postmaster.pid'))).toBe(false)
  }, 120_000)

  test('--valuation-workers 2 --query-workers 2: the binary values and answers on worker threads it carries', async () => {
    const running = await start(
      { PAS_DATA_DIR: join(work, 'data-workers'), PAS_EMBEDDED_PG_PORT: String(freePort()) },
      ['--role', 'all', '--port', '0', '--valuation-workers', '2', '--query-workers', '2'],
    )
    const send = (kind: string, records: unknown[]) => post(running.url, kind, records)
    const ids = ['W1', 'W2', 'W3']
    await send(
      'portfolios',
      ids.map((portfolioId) => ({ portfolioId, baseCurrency: 'USD', openDate: '2025-01-01' })),
    )
    await send('instruments', [{ securityId: 'S1', name: 'Stock', currency: 'USD' }])
    await send('prices', [
      { securityId: 'S1', date: '2025-01-06', price: '10', currency: 'USD' },
      { securityId: 'S1', date: '2025-01-08', price: '12', currency: 'USD' },
    ])
    await send('business-dates', [{ date: '2025-01-10' }])
    const trade = { tradeDate: '2025-01-06', currency: 'USD' }
    await send(
      'transactions',
      ids.flatMap((p) => [
        { ...trade, transactionId: `${p}-d`, portfolioId: p, type: 'DEPOSIT', grossAmount: '1000' },
        {
          ...trade,
          transactionId: `${p}-b`,
          portfolioId: p,
          type: 'BUY',
          securityId: 'S1',
          quantity: '10',
          price: '10',
        },
      ]),
    )
    // Each: cash 1,000 − 100 = 900 and 10 × 12 = 120 from Jan 8: 1,020 on the business date.
    const wealth = async (id: string) => {
      const res = await fetch(`${running.url}/v1/portfolios/${id}/review`)
      return res.status === 200
        ? ((await res.json()) as { overview: { totalWealth: string } }).overview.totalWealth
        : res.status
    }
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline && (await Promise.all(ids.map(wealth))).some((w) => w !== '1020.00'))
      await Bun.sleep(200)
    expect(await Promise.all(ids.map(wealth))).toEqual(['1020.00', '1020.00', '1020.00'])
    expect(await stop(running)).toBe(0)
  }, 120_000)

  test.if(kafkaTestsEnabled)(
    'with KAFKA_BROKERS it uses Kafka and creates the topics',
    async () => {
      // A prefix no one has used: none of its topics exists before the binary starts.
      const brokers = await testKafkaBrokers()
      const prefix = `smoke-${Date.now().toString(36)}.`
      expect(await kafkaTopics(brokers, prefix)).toEqual([])
      try {
        const running = await start(
          {
            PAS_DATA_DIR: join(work, 'data-kafka'),
            PAS_EMBEDDED_PG_PORT: String(freePort()),
            KAFKA_BROKERS: brokers.join(','),
            PAS_KAFKA_PREFIX: prefix,
            PAS_KAFKA_CLIENT_ID: 'pas-smoke',
          },
          ['--port', '0', '--partitions', '3'],
        )
        const body = (await (await fetch(`${running.url}/health`)).json()) as { transport: string }
        expect(body.transport).toBe('kafka')
        expect(await stop(running)).toBe(0)
        expect(await kafkaTopics(brokers, prefix)).toEqual(
          Object.values(Topics)
            .map((t) => prefix + t)
            .sort(),
        )
      } finally {
        await dropKafkaTopics(brokers, prefix)
      }
    },
    120_000,
  )

  test.if(kafkaTestsEnabled && (inCI || rdkafkaAvailable()))(
    'with PAS_KAFKA_CLIENT=rdkafka the binary loads librdkafka: a record goes through the log to the tables',
    async () => {
      const brokers = await testKafkaBrokers()
      const prefix = `smoke-rd-${Date.now().toString(36)}.`
      try {
        const running = await start(
          {
            PAS_DATA_DIR: join(work, 'data-rdkafka'),
            PAS_EMBEDDED_PG_PORT: String(freePort()),
            KAFKA_BROKERS: brokers.join(','),
            PAS_KAFKA_PREFIX: prefix,
            PAS_KAFKA_CLIENT: 'rdkafka',
          },
          ['--port', '0', '--partitions', '2'],
        )
        const posted = await fetch(`${running.url}/v1/ingest/portfolios`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify([{ portfolioId: 'RD1', baseCurrency: 'EUR', openDate: '2025-01-01' }]),
        })
        expect(posted.status).toBe(202)
        const listed = async () =>
          ((await (await fetch(`${running.url}/v1/portfolios`)).json()) as { items: { portfolioId: string }[] }).items
        const by = Date.now() + 30_000
        while (Date.now() < by && (await listed()).length === 0) await Bun.sleep(200)
        expect((await listed()).map((p) => p.portfolioId)).toEqual(['RD1'])
        expect(await stop(running)).toBe(0)
      } finally {
        await dropKafkaTopics(brokers, prefix)
      }
    },
    120_000,
  )

  test('SIGTERM during start-up (PostgreSQL still initialising) lets start-up finish, drains and exits 0', async () => {
    const proc = Bun.spawn([binary, '--role', 'all', '--port', '0'], {
      cwd: work,
      env: {
        PATH: process.env.PATH ?? '',
        PAS_PG_BIN_DIR: findBinDir(),
        PAS_DATA_DIR: join(work, 'data-early-sigterm'),
        PAS_EMBEDDED_PG_PORT: String(freePort()),
      },
      stdout: 'ignore',
      stderr: 'pipe',
    })
    // A new data folder: once pas says it is initialising PostgreSQL (initdb takes seconds), signal.
    let logs = ''
    const decoder = new TextDecoder()
    const reader = proc.stderr.getReader()
    while (!logs.includes('initialising PostgreSQL cluster')) {
      const { done, value } = await reader.read()
      if (done) break
      logs += decoder.decode(value)
    }
    proc.kill('SIGTERM')
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      logs += decoder.decode(value)
    }
    const code = await proc.exited
    expect(logs).toContain('signal during start-up')
    expect(logs).toContain('stopped cleanly')
    expect(code).toBe(0)
  }, 60_000)

  test('off loopback without a key it refuses to start (exit 2); --auth open starts and says so loudly', async () => {
    const env = { PAS_DATA_DIR: join(work, 'data'), PAS_EMBEDDED_PG_PORT: String(freePort()) }
    const refused = Bun.spawn([binary, '--role', 'all', '--host', '0.0.0.0', '--port', '0'], {
      cwd: work,
      env: { PATH: process.env.PATH ?? '', PAS_PG_BIN_DIR: findBinDir(), ...env },
      stdout: 'ignore',
      stderr: 'pipe',
    })
    expect(await refused.exited).toBe(2)
    expect(await new Response(refused.stderr).text()).toContain('is not loopback and no API key exists')
    const open = await start(env, ['--role', 'all', '--host', '0.0.0.0', '--port', '0', '--auth', 'open'])
    expect(open.logs()).toContain('AUTH IS OFF')
    expect(await stop(open)).toBe(0)
  }, 60_000)

  test('invalid settings exit with code 2 and list every problem', async () => {
    const proc = Bun.spawn([binary, '--role', 'chef', '--port', 'http'], { cwd: work, stderr: 'pipe' })
    expect(await proc.exited).toBe(2)
    const err = await new Response(proc.stderr).text()
    expect(err).toContain('--role / PAS_ROLE')
    expect(err).toContain('--port / PAS_HTTP_PORT')
  }, 30_000)

  test('a drain past --shutdown-timeout-ms exits 1 and names what it still waited for', async () => {
    const db = await freshDatabase('main_drain')
    try {
      // A deadline of 0 ms passes before the first step of the drain (the HTTP server) is done.
      const running = await start({ DATABASE_URL: db.url }, [
        '--role',
        'all',
        '--port',
        '0',
        '--shutdown-timeout-ms',
        '0',
      ])
      expect(await stop(running)).toBe(1)
      const line = running
        .logs()
        .split('\n')
        .find((l) => l.includes('drain did not finish in time'))
      const { waitingFor } = JSON.parse(line ?? '{}') as { waitingFor?: string[] }
      expect(waitingFor?.length ?? 0).toBeGreaterThan(0)
    } finally {
      await db.drop()
    }
  }, 60_000)
})
