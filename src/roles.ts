/** The roles one pas binary can run; `all` runs every other role in one process. */
export const Roles = ['ingest', 'persist', 'positions', 'valuation', 'timeseries', 'api', 'all'] as const
export type Role = (typeof Roles)[number]
