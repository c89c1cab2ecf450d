/**
 * MEMORY GUARD. Bun's collector runs as the JavaScript heap grows, but the memory a busy stage
 * churns through (parsed notices, rows in and out, HTTP bodies) stays resident long after it is
 * garbage: a `--role all` process loading the large book sat at 0.8–2 GB resident with 150–400 MB
 * of live heap. A full collection (`Bun.gc(true)`, which also returns mimalloc's free pages to the
 * system) brings it back to about the live heap. The guard checks resident memory every
 * `intervalMs` (500) and collects when it is over the target, at most one collection per twenty
 * times the last one's length, so collecting takes at most 5 % of the thread even when the live
 * heap itself is over the target; but over the ceiling (a quarter above the target) it collects at
 * every check: on the large book a stage churned 500 MB in the seconds between two spaced
 * collections.
 *
 * Each JavaScript thread has its own heap and runs its own guard (valuation workers do too);
 * resident memory is the process's.
 */
export type MemoryGuardOptions = {
  targetBytes: number
  /** Over this, collect at every check regardless of spacing; default 1.25 × targetBytes. */
  ceilingBytes?: number
  intervalMs?: number
  /** Seconds a collection took, after each one (a metric). */
  onCollect?: (seconds: number) => void
  /** For tests: resident bytes, the collection, the clock in ms. */
  rss?: () => number
  collect?: () => void
  now?: () => number
}

const SPACING = 20

export class MemoryGuard {
  #timer: ReturnType<typeof setInterval> | undefined
  #nextAllowedAt = 0
  readonly #rss: () => number
  readonly #collect: () => void
  readonly #now: () => number

  constructor(private readonly options: MemoryGuardOptions) {
    this.#rss = options.rss ?? (() => process.memoryUsage.rss())
    this.#collect = options.collect ?? (() => Bun.gc(true))
    this.#now = options.now ?? (() => performance.now())
  }

  /** Collects if resident memory is over the target and the last collection is far enough back; true if it did. */
  check(): boolean {
    const rss = this.#rss()
    if (rss <= this.options.targetBytes) return false
    const now = this.#now()
    const ceiling = this.options.ceilingBytes ?? this.options.targetBytes * 1.25
    if (now < this.#nextAllowedAt && rss <= ceiling) return false
    this.#collect()
    const took = this.#now() - now
    this.#nextAllowedAt = now + took * SPACING
    this.options.onCollect?.(took / 1000)
    return true
  }

  start(): this {
    if (this.options.targetBytes > 0 && this.#timer === undefined) {
      this.#timer = setInterval(() => this.check(), this.options.intervalMs ?? 500)
      this.#timer.unref()
    }
    return this
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}
