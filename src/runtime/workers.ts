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
