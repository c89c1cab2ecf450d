import type { EventLog } from '../ports/event-log.ts'
import type { Logger } from './logger.ts'
import type { StageObserver } from './metrics.ts'
import { type StagePolicy, StageRunner } from './run-stage.ts'
import type { Health, Service, ServiceState } from './service.ts'
import type { Stage } from './stage.ts'

/** One role in a process: runs its stages, stops them together (each drains its batch in flight). */
export class RoleService implements Service {
  readonly name: string
  readonly #runners: StageRunner[]
  #state: ServiceState = 'starting'

  constructor(
    role: string,
    stages: readonly Stage[],
    log: EventLog,
    policy: StagePolicy,
    logger: Logger,
    observer?: StageObserver,
  ) {
    this.name = `role:${role}`
    this.#runners = stages.map((s) => new StageRunner(s, log, policy, logger.child({ role, stage: s.name }), observer))
  }

  get done(): Promise<void> {
    return Promise.all(this.#runners.map((r) => r.done)).then(() => {})
  }

  async start(): Promise<void> {
    for (const runner of this.#runners) await runner.start()
    this.#state = 'running'
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return
    this.#state = 'draining'
    await Promise.all(this.#runners.map((r) => r.stop()))
    this.#state = 'stopped'
  }

  health(): Health {
    const stages = this.#runners.map((r) => r.health())
    const worst = (['failed', 'retrying'] as const).find((w) => stages.some((s) => s.state === w))
    const state = worst === 'retrying' && this.#state !== 'running' ? this.#state : (worst ?? this.#state)
    return { name: this.name, state, detail: { stages } }
  }
}
