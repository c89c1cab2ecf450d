/** `retrying`: running, but a dependency (the database, the log) is unreachable; it backs off and resumes by itself. */
export const ServiceStates = ['starting', 'running', 'retrying', 'draining', 'stopped', 'failed'] as const
export type ServiceState = (typeof ServiceStates)[number]
export type Health = { readonly name: string; readonly state: ServiceState; readonly detail?: Record<string, unknown> }

/** Something a role runs: started once, stopped once (draining in-flight work), asked for health any time. */
export interface Service {
  readonly name: string
  start(): Promise<void>
  /** Finishes in-flight work, then releases resources. Idempotent. */
  stop(): Promise<void>
  health(): Health
  /** Settles when the service stops on its own: rejects on a fatal error. */
  readonly done?: Promise<void>
}
