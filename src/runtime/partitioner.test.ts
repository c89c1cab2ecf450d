import { describe, expect, test } from 'bun:test'
import { murmur2, partitionFor } from './partitioner.ts'

const bytes = (s: string) => new TextEncoder().encode(s)

describe('murmur2', () => {
  // Expected values are the published vectors of Apache Kafka's UtilsTest.testMurmur2, which pins
  // the Java client's hash; matching them means keys land where Java producers put them.
  test.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('hashes %p like the Java client', (input, expected) => {
    expect(murmur2(bytes(input))).toBe(expected)
  })
})

describe('partitionFor', () => {
  test('one key always maps to one partition within range', () => {
    for (const key of ['P1', 'P2', 'portfolio-42', 'EURUSD', '']) {
      const p = partitionFor(key, 12)
      expect(p).toBeGreaterThanOrEqual(0)
      expect(p).toBeLessThan(12)
      expect(partitionFor(key, 12)).toBe(p)
    }
  })

  test('spreads many keys over every partition', () => {
    const counts = new Array(8).fill(0)
    for (let i = 0; i < 8000; i++) counts[partitionFor(`portfolio-${i}`, 8)]++
    for (const c of counts) expect(c).toBeGreaterThan(800)
  })
})
