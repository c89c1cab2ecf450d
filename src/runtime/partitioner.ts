const encoder = new TextEncoder()

/**
 * Kafka's murmur2 (the Java client's `Utils.murmur2`), so pas places a key on the same partition
 * as any Java producer would: seed 0x9747b28c, m 0x5bd1e995, r 24, 4-byte little-endian blocks,
 * then the tail bytes, then the final mix h ^= h >>> 13; h *= m; h ^= h >>> 15. Returns a signed int32.
 */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995
  const length = data.length
  let h = 0x9747b28c ^ length
  const blocks = length & ~3
  for (let i = 0; i < blocks; i += 4) {
    let k =
      (data[i] as number) |
      ((data[i + 1] as number) << 8) |
      ((data[i + 2] as number) << 16) |
      ((data[i + 3] as number) << 24)
    k = Math.imul(k, m)
    k ^= k >>> 24
    k = Math.imul(k, m)
    h = Math.imul(h, m) ^ k
  }
  const tail = length & 3
  if (tail === 3) h ^= (data[blocks + 2] as number) << 16
  if (tail >= 2) h ^= (data[blocks + 1] as number) << 8
  if (tail >= 1) h = Math.imul(h ^ (data[blocks] as number), m)
  h ^= h >>> 13
  h = Math.imul(h, m)
  h ^= h >>> 15
  return h | 0
}

/** The partition of `key` among `partitions`, as Kafka's default partitioner computes it for keyed records. */
export function partitionFor(key: string, partitions: number): number {
  return (murmur2(encoder.encode(key)) & 0x7fffffff) % partitions
}
