import postgres from 'postgres'

export type Sql = postgres.Sql<{ bigint: bigint }>

export type PgClientOptions = { url: string; max: number; applicationName: string }

/**
 * What ends every application_name this process gives PostgreSQL: its pid, so that
 * pg_stat_activity (and `/metrics`) tell the processes of one role apart.
 */
export const PROCESS_TAG = `/${process.pid}`

/**
 * The one way pas opens PostgreSQL: int8 as bigint (offsets, counts), numeric left as exact strings
 * (postgres.js's default), notices silenced, and an application_name that shows the role and the
 * process in pg_stat_activity (`pas-valuation/4242`).
 */
export function createPgClient(options: PgClientOptions): Sql {
  return postgres(options.url, {
    max: options.max,
    idle_timeout: 30,
    connect_timeout: 10,
    onnotice: () => {},
    connection: { application_name: options.applicationName + PROCESS_TAG },
    types: { bigint: postgres.BigInt },
  })
}

/** A transaction handle, as `sql.begin` passes it. */
export type Tx = postgres.TransactionSql<{ bigint: bigint }>
