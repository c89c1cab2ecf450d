import { describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SupervisedWorker } from './workers.ts'

/** What the fixture writes when its first start fails (fixtures/supervised-worker.ts). */
const failedOnce = join(tmpdir(), `pas-supervised-worker-${process.pid}`)

describe('SupervisedWorker', () => {
  test('a worker that fails to load, or exits, is replaced; init waits for the worker to ask for it', async () => {
    rmSync(failedOnce, { force: true })
    const lost: string[] = []
    const got: string[] = []
    const worker = new SupervisedWorker<{ type: 'init' }, { type: string }>(
      new URL('./fixtures/supervised-worker.ts', import.meta.url),
      { type: 'init' },
      { message: (m) => got.push(m.type), lost: (reason) => lost.push(reason) },
      { readyTimeoutMs: 10_000, restartDelayMs: 50 },
    )
    try {
      // The first fails while loading: its ready() rejects, and the one started after it loads.
      await expect(worker.ready()).rejects.toThrow('worker thread lost: failed')
      expect(lost).toEqual([expect.stringContaining('failed while loading')])
      // Its successor installs its handler 200 ms after starting: an init sent at once would be lost.
      await Bun.sleep(100)
      await worker.ready()
      worker.post({ type: 'ping' })
      await Bun.sleep(100)
      expect(got).toEqual(['pong'])
      // One that exits is lost too, and replaced.
      worker.post({ type: 'exit' })
      await Bun.sleep(100)
      expect(lost).toEqual([expect.stringContaining('failed while loading'), 'exited'])
      await Bun.sleep(100)
      await worker.ready()
      worker.post({ type: 'ping' })
      await Bun.sleep(100)
      expect(got).toEqual(['pong', 'pong'])
    } finally {
      await worker.close()
      rmSync(failedOnce, { force: true })
    }
  })
})
