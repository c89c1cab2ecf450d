import { resolve } from 'node:path'

const repo = resolve(import.meta.dir, '../..')

export type PasProcess = {
  proc: Bun.Subprocess<'ignore', 'ignore', 'pipe'>
  /** The HTTP base URL it logged at start. */
  url: string
  /** Everything it wrote to stderr so far. */
  logs: () => string
}

/**
 * Starts pas (`command`, e.g. ['bun', 'src/main.ts', '--role', 'all'] or a built binary) and
 * resolves once it logged "pas started"; its stderr keeps being collected so the pipe never fills.
 */
export async function spawnPas(command: string[], env: Record<string, string>, cwd = repo): Promise<PasProcess> {
  const proc = Bun.spawn(command, {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
  })
  let text = ''
  const decoder = new TextDecoder()
  const reader = proc.stderr.getReader()
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      text += decoder.decode(value)
    }
  })()
  const deadline = Date.now() + 60_000
  for (;;) {
    const started = text.split('\n').find((l) => l.includes('"msg":"pas started"'))
    if (started) return { proc, url: JSON.parse(started).url, logs: () => text }
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL')
      throw new Error(`pas did not start (exit ${proc.exitCode}):\n${text}`)
    }
    await Bun.sleep(50)
  }
}
