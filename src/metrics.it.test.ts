import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freshDatabase, inCI } from './testing/infra.ts'
import { freePort } from './testing/local-infra.ts'
import { type PasProcess, spawnPas } from './testing/processes.ts'
import { book, dailyCloses, post } from './testing/workload.ts'

// A real Prometheus (Debian's `prometheus` package; .ci/run installs it) scrapes a running pas,
// and its query API is asked for what an operator would chart: consumer lag and freshness.
const prometheusBin = Bun.which('prometheus')
const enabled = prometheusBin !== null || inCI

describe.if(enabled)('Prometheus scraping pas', () => {
  const work = mkdtempSync(join(tmpdir(), 'pas-prometheus-'))
  let pas: PasProcess | undefined
  let prometheus: Bun.Subprocess | undefined
  const dbReady = freshDatabase('metrics')
  afterAll(async () => {
    pas?.proc.kill('SIGTERM')
    prometheus?.kill('SIGTERM')
    await Promise.all([pas?.proc.exited, prometheus?.exited])
    await (await dbReady).drop()
    rmSync(work, { recursive: true, force: true })
  })

  /** One instant vector from Prometheus's HTTP API: labels and value of each series. */
  const query = async (base: string, promql: string) => {
    const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`)
    const body = (await res.json()) as {
      status: string
      data: { result: { metric: Record<string, string>; value: [number, string] }[] }
    }
    expect(body.status).toBe('success')
    return body.data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }))
  }
  /** Polls `promql` until `ok` holds for its answer, and gives that answer. */
  const eventually = async (base: string, promql: string, ok: (r: Awaited<ReturnType<typeof query>>) => boolean) => {
    const deadline = Date.now() + 60_000
    for (;;) {
      const result = await query(base, promql)
      if (ok(result)) return result
      if (Date.now() > deadline) throw new Error(`${promql} never satisfied: ${JSON.stringify(result)}`)
      await Bun.sleep(500)
    }
  }

  test('lag, freshness and stage counters of a working pas reach Prometheus', async () => {
    if (!prometheusBin) throw new Error('prometheus is not installed: `apt-get install prometheus` (.ci/run does)')
    const db = await dbReady
    pas = await spawnPas(['bun', 'src/main.ts', '--role', 'all', '--port', '0', '--partitions', '2'], {
      DATABASE_URL: db.url,
    })
    const target = new URL(pas.url).host
    const port = freePort()
    writeFileSync(
      join(work, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: pas\n    static_configs:\n      - targets: ['${target}']\n`,
    )
    prometheus = Bun.spawn(
      [
        prometheusBin,
        `--config.file=${join(work, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(work, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdout: 'ignore', stderr: 'ignore' },
    )
    const base = `http://127.0.0.1:${port}`
    for (
      let i = 0;
      !(await fetch(`${base}/-/ready`).then(
        (r) => r.ok,
        () => false,
      ));
      i++
    ) {
      if (i > 300) throw new Error('Prometheus did not become ready')
      await Bun.sleep(100)
    }
    // The scrape target is up: Prometheus reads pas's exposition format.
    await eventually(base, 'up{job="pas"}', (r) => r[0]?.value === 1)

    // A small book through every stage: 5 portfolios × 40 transactions, priced every day.
    const workload = book(5, 40, 'M')
    await post(pas.url, 'portfolios', workload.portfolios)
    await post(pas.url, 'instruments', workload.instruments)
    await post(pas.url, 'prices', dailyCloses(workload))
    await post(pas.url, 'business-dates', [{ date: '2025-03-31' }])
    await post(pas.url, 'transactions', workload.transactions)

    // Every portfolio's series written: five observations of freshness at least, each under a minute.
    const fresh = await eventually(base, 'pas_freshness_seconds_count{job="pas"}', (r) => (r[0]?.value ?? 0) >= 5)
    expect(fresh[0]?.labels.role).toBe('all')
    const slow = await query(base, 'pas_freshness_seconds_bucket{job="pas", le="60"}')
    expect(slow[0]?.value).toBe(fresh[0]?.value)
    // Then nothing left behind: every group's lag drops to zero on every partition, and the series
    // stage has committed the notices it read.
    await eventually(
      base,
      'sum by (group) (pas_consumer_lag_records{job="pas"})',
      (r) => r.length === 5 && r.every((g) => g.value === 0),
    )
    const series = await query(base, 'pas_stage_records_total{job="pas", stage="timeseries"}')
    expect(series[0]?.value).toBeGreaterThanOrEqual(5)
    // Each stage that works in slices timed each slice's steps; valuation's on its worker thread.
    const steps = await eventually(
      base,
      'count by (stage, step) (pas_stage_slice_step_seconds_count{job="pas"} > 0)',
      (r) => r.length === 9,
    )
    expect(steps.map((r) => `${r.labels.stage}/${r.labels.step}`).sort()).toEqual(
      ['positions', 'timeseries', 'valuation'].flatMap((stage) =>
        ['compute', 'load', 'write'].map((s) => `${stage}/${s}`),
      ),
    )
  }, 180_000)
})
