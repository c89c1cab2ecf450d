/**
 * The URL of a worker's entry point, a file beside src/main.ts (tools/build.ts bundles each as an
 * entry of its own), from a module one folder below it (`from`: its import.meta.url). From source
 * that is one folder up; inside the compiled binary every module's URL is the bundle's, at the
 * root beside the entries, so it is the same folder.
 */
export const workerEntry = (file: string, from: string): URL =>
  new URL(from.includes('/$bunfs/') ? `./${file}` : `../${file}`, from)

/**
 * Asks each worker thread to close (`{ type: 'close' }`: it releases its connections and answers
 * `{ type: 'closed' }`), then terminates it; one that does not answer within 10 s is terminated anyway.
 */
export function closeWorkers(workers: readonly Worker[]): Promise<unknown> {
  return Promise.all(
    workers.map((worker) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 10_000)
        worker.addEventListener('message', (event: MessageEvent<{ type: string }>) => {
          if (event.data.type === 'closed') {
            clearTimeout(timer)
            resolve()
          }
        })
        worker.postMessage({ type: 'close' })
      }).then(() => worker.terminate()),
    ),
  )
}

/** How long a started worker has to load and answer its `init` before it is taken for lost. */
const READY_TIMEOUT_MS = 60_000
/** How long after a worker is lost its replacement starts. */
const RESTART_DELAY_MS = 1_000

/**
 * ONE WORKER THREAD OF A POOL, KEPT RUNNING. The handshake is the worker's to start: its module
 * posts `{ type: 'loaded' }` once its message handler is installed, and only then is `init` sent
 * (on Bun 1.4 a message that reaches a worker before its handler exists is dropped, and with it
 * the pool would wait for `ready` forever). A worker that fails (an uncaught error, its module
 * failing to load), exits, or is not ready in time is lost: `lost` is told why (its work in
 * flight is gone, its owner fails it), and a new one starts a second later. Seen once: a pas
 * process whose two worker threads were gone, and whose valuation waited on them without a word.
 */
export class SupervisedWorker<Init, Out extends { type: string }> {
  #worker: Worker | undefined
  #ready: Promise<void> = Promise.resolve()
  #closing = false

  constructor(
    private readonly url: URL,
    private readonly init: Init,
    private readonly on: { message: (message: Out) => void; lost: (reason: string) => void },
    private readonly timing = { readyTimeoutMs: READY_TIMEOUT_MS, restartDelayMs: RESTART_DELAY_MS },
  ) {
    this.#start()
  }

  /** Resolves once the current worker is ready; rejects if it is lost first (its successor is then on its way). */
  ready(): Promise<void> {
    return this.#ready
  }

  post(message: unknown): void {
    this.#worker?.postMessage(message)
  }

  /** Asks the worker to close (closeWorkers), and starts no other. */
  close(): Promise<unknown> {
    this.#closing = true
    return this.#worker ? closeWorkers([this.#worker]) : Promise.resolve()
  }

  #start(): void {
    const worker = new Worker(this.url)
    this.#worker = worker
    let gone = false
    let markReady: () => void = () => {}
    let failReady: (error: Error) => void = () => {}
    this.#ready = new Promise<void>((resolve, reject) => {
      markReady = resolve
      failReady = reject
    })
    this.#ready.catch(() => {}) // its waiters see it; nobody may be waiting
    const timer = setTimeout(
      () => lose(`not ready after ${this.timing.readyTimeoutMs / 1000} s`),
      this.timing.readyTimeoutMs,
    )
    timer.unref?.()
    const lose = (reason: string) => {
      if (gone || this.#closing) return
      gone = true
      this.#worker = undefined // nothing to post to or close until the next one starts
      clearTimeout(timer)
      failReady(new Error(`worker thread lost: ${reason}`))
      worker.terminate()
      this.on.lost(reason)
      setTimeout(() => {
        if (!this.#closing) this.#start()
      }, this.timing.restartDelayMs).unref?.()
    }
    worker.onmessage = (event: MessageEvent<Out>) => {
      const message = event.data
      if (message.type === 'loaded') worker.postMessage(this.init)
      else if (message.type === 'ready') {
        clearTimeout(timer)
        markReady()
      } else this.on.message(message)
    }
    worker.addEventListener('error', (event) => lose(`failed: ${event.message}`))
    worker.addEventListener('close', () => lose('exited'))
  }
}
