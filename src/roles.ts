import type { Stage } from './runtime/stage.ts'

/** The roles one pas binary can run; `all` runs every other role in one process. */
export const Roles = ['ingest', 'persist', 'positions', 'valuation', 'timeseries', 'api', 'all'] as const
export type Role = (typeof Roles)[number]
type SingleRole = Exclude<Role, 'all'>

/** What a role contributes to a process. Stages are filled in by the pipeline; until then roles idle. */
export type RolePlan = {
  /** Apply migrations and create topics at start-up (the embedded default does; at scale, `pas migrate`). */
  readonly setupOnStart: boolean
  /** The roles whose stages and routes this process runs. */
  readonly members: readonly SingleRole[]
}

export type StageFactory = (role: SingleRole) => readonly Stage[]

const single: readonly SingleRole[] = Roles.filter((r): r is SingleRole => r !== 'all')

/** The only place that decides what a role runs. */
export function planFor(role: Role): RolePlan {
  return role === 'all' ? { setupOnStart: true, members: single } : { setupOnStart: false, members: [role] }
}
