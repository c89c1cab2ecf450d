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
