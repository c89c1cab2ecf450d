import { describe, expect, test } from 'bun:test'
import { firstScheduled, histogramQuantile } from './trickle.ts'

describe('histogramQuantile (as Prometheus interpolates within a bucket)', () => {
  // 10 observations ≤ 0.1 s, 20 in (0.1, 0.2], 10 in (0.2, 0.5]: 40 in all.
  const cumulative: [number, number][] = [
    [0.1, 10],
    [0.2, 30],
    [0.5, 40],
    [Number.POSITIVE_INFINITY, 40],
  ]

  test('a quantile falls in the first bucket holding its rank, linearly within it', () => {
    // p50: rank 20, 10 below the (0.1, 0.2] bucket of 20 → 0.1 + 0.1 × 10 / 20 = 0.15.
    expect(histogramQuantile(cumulative, 0.5)).toBeCloseTo(0.15, 12)
    // p99: rank 39.6, 30 below the (0.2, 0.5] bucket of 10 → 0.2 + 0.3 × 9.6 / 10 = 0.488.
    expect(histogramQuantile(cumulative, 0.99)).toBeCloseTo(0.488, 12)
    // p25: rank 10 is the whole first bucket → its upper bound (from 0).
    expect(histogramQuantile(cumulative, 0.25)).toBeCloseTo(0.1, 12)
  })

  test('nothing observed is 0; a rank in the open last bucket is the last finite bound', () => {
    expect(
      histogramQuantile(
        [
          [0.1, 0],
          [Number.POSITIVE_INFINITY, 0],
        ],
        0.99,
      ),
    ).toBe(0)
    expect(
      histogramQuantile(
        [
          [0.1, 1],
          [Number.POSITIVE_INFINITY, 4],
        ],
        0.9,
      ),
    ).toBe(0.1)
  })
})

describe('query clients on a fixed schedule', () => {
  test('spread: four clients at 10/s start 25 ms apart, so a call arrives every 25 ms; aligned: all at once', () => {
    const starts = (phase: 'spread' | 'aligned') => [0, 1, 2, 3].map((c) => firstScheduled(1000, c, 4, 100, phase))
    expect(starts('spread')).toEqual([1000, 1025, 1050, 1075])
    expect(starts('aligned')).toEqual([1000, 1000, 1000, 1000])
  })
})
