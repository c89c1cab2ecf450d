/**
 * What the gate in front of every route costs (src/http/auth.ts): the same cheap route called with
 * auth open, and with a bearer key checked, in this process through app.handle (no socket, so the
 * difference is the check itself and not the network).
 *
 *   bun bench/auth.bench.ts [--requests 20000]
 *
 * The key is verified against PostgreSQL once and then found in the 10 s cache, as in a serving
 * process. Reports requests/s and µs per request for each, interleaved over 5 rounds, and the
 * added µs per request; JSON goes to bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { PgKeyStore } from '../src/adapters/pg-keys.ts'
import { createApp } from '../src/http/app.ts'
import { createGuard } from '../src/http/auth.ts'
import { localPg, scratchDatabase } from '../src/testing/local-infra.ts'

const { values: args } = parseArgs({ options: { requests: { type: 'string', default: '20000' } } })
const REQUESTS = Number(args.requests)

const server = await localPg('bench')
const db = await scratchDatabase(server.url, `auth_bench_${Date.now().toString(36)}`)
try {
  const keys = new PgKeyStore(db.sql)
  const token = await keys.create('bench', ['read'], null)
  const app = (mode: 'open' | 'keys') =>
    createApp({
      role: 'bench',
      transport: 'pg',
      version: 'bench',
      startedAtMs: Date.now(),
      health: () => [],
      checkDependencies: async () => {},
      guard: createGuard({
        mode,
        keys,
        bindHost: '127.0.0.1',
        allowedHosts: [],
        allowedOrigins: [],
        rateLimit: 1_000_000_000,
      }),
    }).get('/v1/ping', () => ({ ok: true }))
  const apps = { open: app('open'), keys: app('keys') }
  const headers = { open: {}, keys: { authorization: `Bearer ${token}` } }

  const run = async (mode: 'open' | 'keys') => {
    const started = performance.now()
    for (let i = 0; i < REQUESTS; i++) {
      const res = await apps[mode].handle(new Request('http://127.0.0.1/v1/ping', { headers: headers[mode] }))
      if (res.status !== 200) throw new Error(`${mode}: ${res.status}`)
      await res.arrayBuffer()
    }
    return (performance.now() - started) / REQUESTS
  }
  await run('open')
  await run('keys') // warm-up: JIT, and the key into the cache
  const samples: Record<'open' | 'keys', number[]> = { open: [], keys: [] }
  for (let round = 0; round < 5; round++) {
    samples.open.push(await run('open'))
    samples.keys.push(await run('keys'))
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
  const open = median(samples.open)
  const withKeys = median(samples.keys)
  const result = {
    requests: REQUESTS,
    openUsPerRequest: open * 1000,
    keysUsPerRequest: withKeys * 1000,
    addedUsPerRequest: (withKeys - open) * 1000,
    openRequestsPerS: 1000 / open,
    keysRequestsPerS: 1000 / withKeys,
  }
  console.log('| auth | µs per request (median of 5) | requests/s |')
  console.log('|---|---|---|')
  console.log(`| open | ${result.openUsPerRequest.toFixed(1)} | ${Math.round(result.openRequestsPerS)} |`)
  console.log(`| keys | ${result.keysUsPerRequest.toFixed(1)} | ${Math.round(result.keysRequestsPerS)} |`)
  console.log(`added by the key check: ${result.addedUsPerRequest.toFixed(1)} µs per request`)
  mkdirSync(`${import.meta.dir}/results`, { recursive: true })
  writeFileSync(
    `${import.meta.dir}/results/auth-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
    JSON.stringify(result, null, 2),
  )
} finally {
  await db.drop()
}
