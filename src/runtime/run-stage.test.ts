import { describe, expect, test } from 'bun:test'
import { MemoryLog } from '../adapters/memory-log.ts'
import { AppError } from '../errors.ts'
import type { Batch } from '../ports/event-log.ts'
import { createLogger } from './logger.ts'
import { StageRunner } from './run-stage.ts'
import type { Stage } from './stage.ts'

const quiet = createLogger('error', {}, () => {})
const policy = { maxRecords: 100, maxWaitMs: 20, maxBackoffMs: 20 }

async function logWith(values: string[]) {
  const log = new MemoryLog()
  await log.ensureTopics([{ name: 'in', partitions: 1 }])
  await log.append(
    'in',
    values.map((value) => ({ key: 'k', value })),
  )
  return log
}

/** What a fresh member of `group` would read next: empty when everything was committed. */
async function uncommitted(log: MemoryLog, group: string) {
  const c = log.consumer({ group, topics: ['in'], maxRecords: 100, maxWaitMs: 10 })
  const batch = await c.poll()
  await c.close()
  return batch.records.map((r) => r.value)
}

const until = async (check: () => boolean) => {
  while (!check()) await Bun.sleep(2)
}

describe('StageRunner', () => {
  test("a stage's own maxRecords sizes its batches instead of the process's", async () => {
    const log = await logWith(['a', 'b', 'c', 'd', 'e'])
    const sizes: number[] = []
    const stage: Stage = {
      name: 's',
      group: 'g-size',
      inputs: ['in'],
      maxRecords: 2,
      process: async (batch: Batch) => {
        sizes.push(batch.records.length)
      },
    }
    const runner = new StageRunner(stage, log, policy, quiet) // the policy says 100
    await runner.start()
    await until(() => sizes.reduce((a, b) => a + b, 0) === 5)
    await runner.stop()
    expect(sizes).toEqual([2, 2, 1])
  })

  test('stop waits for the batch in flight, commits it, and only then returns', async () => {
    const log = await logWith(['a', 'b'])
    let release = () => {}
    const seen: string[] = []
    const stage: Stage = {
      name: 's',
      group: 'g',
      inputs: ['in'],
      process: async (batch: Batch) => {
        seen.push(...batch.records.map((r) => r.value))
        await new Promise<void>((resolve) => {
          release = resolve
        })
      },
    }
    const runner = new StageRunner(stage, log, policy, quiet)
    await runner.start()
    await until(() => seen.length === 2)

    let stopped = false
    const stopping = runner.stop().then(() => {
      stopped = true
    })
    await Bun.sleep(30)
    expect(stopped).toBe(false)
    expect(runner.health().state).toBe('draining')
    release()
    await stopping
    expect(runner.health().state).toBe('stopped')
    expect(runner.health().detail?.records).toBe(2)
    expect(await uncommitted(log, 'g')).toEqual([])
  })

  test('a retryable failure retries the same batch and commits it once', async () => {
    const log = await logWith(['x'])
    const attempts: string[][] = []
    const stage: Stage = {
      name: 's',
      group: 'g',
      inputs: ['in'],
      process: async (batch) => {
        attempts.push(batch.records.map((r) => r.value))
        if (attempts.length < 3) throw new AppError('STORE_UNAVAILABLE', 'database restarting', true)
      },
    }
    const runner = new StageRunner(stage, log, policy, quiet)
    await runner.start()
    await until(() => runner.health().detail?.batches === 1)
    await runner.stop()
    expect(attempts).toEqual([['x'], ['x'], ['x']])
    expect(await uncommitted(log, 'g')).toEqual([])
  })

  test('a non-retryable failure stops the runner as failed and leaves the batch uncommitted', async () => {
    const log = await logWith(['poison'])
    const stage: Stage = {
      name: 's',
      group: 'g',
      inputs: ['in'],
      process: async () => {
        throw new Error('bug')
      },
    }
    const runner = new StageRunner(stage, log, policy, quiet)
    await runner.start()
    await expect(runner.done).rejects.toThrow('bug')
    expect(runner.health()).toMatchObject({ state: 'failed', detail: { error: 'bug' } })
    await runner.stop()
    expect(await uncommitted(log, 'g')).toEqual(['poison'])
  })

  test('an outage (a transient error) in poll, process or commit: retrying, then running again, nothing lost', async () => {
    const log = await logWith(['a', 'b'])
    const outage = Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' })
    let down = true
    const states: string[] = []
    const consumerOf = log.consumer.bind(log)
    // The log itself fails while `down`: poll and commit throw as a pg-log does when PostgreSQL is gone.
    log.consumer = (options) => {
      const c = consumerOf(options)
      return {
        poll: () => (down ? Promise.reject(outage) : c.poll()),
        commit: (offsets) => (down ? Promise.reject(outage) : c.commit(offsets)),
        assignment: () => c.assignment(),
        close: () => c.close(),
      }
    }
    const seen: string[] = []
    const stage: Stage = {
      name: 's',
      group: 'g',
      inputs: ['in'],
      process: async (b) => void seen.push(...b.records.map((r) => r.value)),
    }
    const isTransient = (e: unknown) => (e as { code?: string }).code === 'ECONNREFUSED'
    const runner = new StageRunner(stage, log, { ...policy, isTransient }, quiet)
    await runner.start()
    await until(() => runner.health().state === 'retrying')
    states.push(runner.health().state)
    expect(runner.health().detail?.error).toBe('connection refused')
    down = false
    await until(() => runner.health().detail?.batches === 1)
    states.push(runner.health().state)
    await runner.stop()
    expect(states).toEqual(['retrying', 'running'])
    expect(seen).toEqual(['a', 'b'])
    expect(await uncommitted(log, 'g')).toEqual([])
  })

  test('without isTransient, the same error fails the stage', async () => {
    const log = await logWith(['a'])
    const stage: Stage = {
      name: 's',
      group: 'g',
      inputs: ['in'],
      process: () => Promise.reject(Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' })),
    }
    const runner = new StageRunner(stage, log, policy, quiet)
    await runner.start()
    await expect(runner.done).rejects.toThrow('connection refused')
    await runner.stop()
  })
})
