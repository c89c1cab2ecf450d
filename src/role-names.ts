/**
 * The roles one pas binary can run; `all` runs every other role in one process. A leaf module, so
 * the configuration can name the roles without importing what they run (src/roles.ts).
 */
export const Roles = ['ingest', 'persist', 'positions', 'valuation', 'timeseries', 'api', 'all'] as const
export type Role = (typeof Roles)[number]
export type SingleRole = Exclude<Role, 'all'>
