import { describe, expect, test } from 'bun:test'
import { MemoryGuard } from './memory-guard.ts'

const MB = 1024 * 1024

describe('MemoryGuard', () => {
  test('collects only while resident memory is over the target', () => {
    let rss = 900 * MB
    let collections = 0
    const guard = new MemoryGuard({ targetBytes: 1000 * MB, rss: () => rss, collect: () => collections++ })
    expect(guard.check()).toBe(false)
    rss = 1001 * MB
    expect(guard.check()).toBe(true)
    expect(collections).toBe(1)
  })

  test('waits twenty times the last collection before the next one', () => {
    let clock = 0
    const seconds: number[] = []
    const guard = new MemoryGuard({
      targetBytes: 100,
      rss: () => 110, // over the target, under the ceiling (125)
      collect: () => {
        clock += 50 // a 50 ms collection
      },
      now: () => clock,
      onCollect: (s) => seconds.push(s),
    })
    expect(guard.check()).toBe(true) // at 0, ends at 50: the next from 0 + 20 × 50 = 1000
    clock = 999
    expect(guard.check()).toBe(false)
    clock = 1000
    expect(guard.check()).toBe(true)
    expect(seconds).toEqual([0.05, 0.05])
  })

  test('over the ceiling it collects at every check, spacing or not', () => {
    let clock = 0
    let rss = 1200
    let collections = 0
    const guard = new MemoryGuard({
      targetBytes: 1000, // ceiling 1,250
      rss: () => rss,
      collect: () => {
        collections++
        clock += 50
      },
      now: () => clock,
    })
    expect(guard.check()).toBe(true)
    clock = 100
    expect(guard.check()).toBe(false) // over the target, under the ceiling: spaced until 1,000
    rss = 1251
    expect(guard.check()).toBe(true)
    expect(guard.check()).toBe(true)
    expect(collections).toBe(3)
  })

  test('a real collection returns churned garbage to the system', () => {
    let keep: unknown[] = []
    for (let round = 0; round < 8; round++) {
      const batch: unknown[] = []
      for (let i = 0; i < 200_000; i++) batch.push(JSON.parse(`{"id":"p${i}-${round}","pad":"${'x'.repeat(60)}"}`))
      keep = batch
    }
    keep.length = 0
    const before = process.memoryUsage.rss()
    const guard = new MemoryGuard({ targetBytes: 1 })
    expect(guard.check()).toBe(true)
    // 8 × 200k parsed objects of ~100 bytes churned: well over 100 MB of garbage, now released.
    expect(before - process.memoryUsage.rss()).toBeGreaterThan(100 * MB)
  })

  test('once started, checks on its own every interval; a target of 0 turns it off', async () => {
    let collections = 0
    const over = { rss: () => 10 * MB, collect: () => collections++, intervalMs: 5 }
    const off = new MemoryGuard({ ...over, targetBytes: 0 }).start()
    const on = new MemoryGuard({ ...over, targetBytes: MB }).start()
    // Two checks of its own (each 5 ms apart; a loaded machine delays timers, so waited for).
    for (let waited = 0; collections < 2 && waited < 5_000; waited += 10) await Bun.sleep(10)
    on.stop()
    off.stop()
    const seen = collections
    expect(seen).toBeGreaterThanOrEqual(2)
    await Bun.sleep(20)
    expect(collections).toBe(seen)
  })
})
