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

type HealthBody = { services: { detail?: { stages?: { name: string; detail?: { records?: number } }[] } }[] }

/** Records each stage has processed so far, summed over `processes` (from their /health). */
export async function stageRecords(processes: readonly PasProcess[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const p of processes) {
    const health = (await (await fetch(`${p.url}/health`)).json()) as HealthBody
    for (const stage of health.services.flatMap((s) => s.detail?.stages ?? [])) {
      const name = stage.name.replace(/^stage:/, '')
      counts[name] = (counts[name] ?? 0) + (stage.detail?.records ?? 0)
    }
  }
  return counts
}

/**
 * Waits until each named stage has processed at least `more[stage]` records beyond `before`: how a
 * redelivery test knows the redelivered records went all the way through before it compares.
 */
export async function untilProcessed(
  processes: readonly PasProcess[],
  before: Record<string, number>,
  more: Record<string, number>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const now = await stageRecords(processes)
    const behind = Object.entries(more).filter(([stage, n]) => (now[stage] ?? 0) < (before[stage] ?? 0) + n)
    if (behind.length === 0) return
    if (Date.now() > deadline) throw new Error(`stages still behind: ${behind.map(([s]) => s).join(', ')}`)
    await Bun.sleep(50)
  }
}
