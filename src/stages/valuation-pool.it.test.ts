import { expect, test } from 'bun:test'
import { testPgUrl } from '../testing/infra.ts'
import { ValuationPool } from './valuation-pool.ts'

test("a worker thread's memory guard tells the pool the length of each collection it runs", async () => {
  const seen: number[] = []
  // A target of 1 MB: resident memory is always over it, so the guard collects at its first check
  // (500 ms after the worker starts), and then as its spacing allows.
  const pool = new ValuationPool(1, await testPgUrl(), { memoryTargetMb: 1, collected: (s) => seen.push(s) })
  try {
    const deadline = Date.now() + 20_000
    while (seen.length === 0 && Date.now() < deadline) await Bun.sleep(100)
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.every((seconds) => seconds > 0 && seconds < 20)).toBe(true)
  } finally {
    await pool.close()
  }
}, 30_000)
