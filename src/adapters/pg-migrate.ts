import { createHash } from 'node:crypto'
import m0001 from '../../sql/0001_event_log.sql' with { type: 'text' }
import m0002 from '../../sql/0002_inputs.sql' with { type: 'text' }
import m0003 from '../../sql/0003_positions.sql' with { type: 'text' }
import m0004 from '../../sql/0004_valuations.sql' with { type: 'text' }
import m0005 from '../../sql/0005_series.sql' with { type: 'text' }
import m0006 from '../../sql/0006_lineage.sql' with { type: 'text' }
import m0007 from '../../sql/0007_benchmarks_and_reads.sql' with { type: 'text' }
import m0008 from '../../sql/0008_api_keys_and_writers.sql' with { type: 'text' }
import m0009 from '../../sql/0009_cancel_targets.sql' with { type: 'text' }
import m0010 from '../../sql/0010_position_series_on_read.sql' with { type: 'text' }
import m0011 from '../../sql/0011_valuations_without_unrealized.sql' with { type: 'text' }
import m0012 from '../../sql/0012_portfolio_values.sql' with { type: 'text' }
import m0013 from '../../sql/0013_position_days_on_read.sql' with { type: 'text' }
import m0014 from '../../sql/0014_holders_by_security.sql' with { type: 'text' }
import m0015 from '../../sql/0015_transaction_ingest_id.sql' with { type: 'text' }
import m0016 from '../../sql/0016_cashflow_fx_rate.sql' with { type: 'text' }
import m0017 from '../../sql/0017_settled_trades.sql' with { type: 'text' }
import m0018 from '../../sql/0018_benchmark_segments.sql' with { type: 'text' }
import m0019 from '../../sql/0019_prices_covering_key.sql' with { type: 'text' }
import m0020 from '../../sql/0020_lineage_per_portfolio_run.sql' with { type: 'text' }
import m0021 from '../../sql/0021_valuation_pending.sql' with { type: 'text' }
import m0022 from '../../sql/0022_holidays.sql' with { type: 'text' }
import m0023 from '../../sql/0023_fx_rates_changes.sql' with { type: 'text' }
import m0024 from '../../sql/0024_day_months.sql' with { type: 'text' }
import m0025 from '../../sql/0025_position_history_held.sql' with { type: 'text' }
import m0026 from '../../sql/0026_series_flows.sql' with { type: 'text' }
import type { Sql } from './pg-client.ts'

/** Every file in sql/, in order. Imported as text so the compiled binary carries them. */
export const migrations: readonly { name: string; sql: string }[] = [
  { name: '0001_event_log', sql: m0001 },
  { name: '0002_inputs', sql: m0002 },
  { name: '0003_positions', sql: m0003 },
  { name: '0004_valuations', sql: m0004 },
  { name: '0005_series', sql: m0005 },
  { name: '0006_lineage', sql: m0006 },
  { name: '0007_benchmarks_and_reads', sql: m0007 },
  { name: '0008_api_keys_and_writers', sql: m0008 },
  { name: '0009_cancel_targets', sql: m0009 },
  { name: '0010_position_series_on_read', sql: m0010 },
  { name: '0011_valuations_without_unrealized', sql: m0011 },
  { name: '0012_portfolio_values', sql: m0012 },
  { name: '0013_position_days_on_read', sql: m0013 },
  { name: '0014_holders_by_security', sql: m0014 },
  { name: '0015_transaction_ingest_id', sql: m0015 },
  { name: '0016_cashflow_fx_rate', sql: m0016 },
  { name: '0017_settled_trades', sql: m0017 },
  { name: '0018_benchmark_segments', sql: m0018 },
  { name: '0019_prices_covering_key', sql: m0019 },
  { name: '0020_lineage_per_portfolio_run', sql: m0020 },
  { name: '0021_valuation_pending', sql: m0021 },
  { name: '0022_holidays', sql: m0022 },
  { name: '0023_fx_rates_changes', sql: m0023 },
  { name: '0024_day_months', sql: m0024 },
  { name: '0025_position_history_held', sql: m0025 },
  { name: '0026_series_flows', sql: m0026 },
]

const checksum = (text: string) => createHash('sha256').update(text).digest('hex')
/** Any constant: serialises concurrent `migrate` runs of several processes on one database. */
const MIGRATION_LOCK = 0x70617301

/**
 * Applies the migrations not yet recorded in schema_migrations, in one transaction, forward only.
 * An applied migration whose text changed since is an error: migrations are never edited, only added.
 */
export async function migrate(sql: Sql): Promise<string[]> {
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`
    await tx`create table if not exists schema_migrations (
      name text primary key, checksum text not null, applied_at timestamptz not null default now())`
    const applied = new Map(
      (await tx<{ name: string; checksum: string }[]>`select name, checksum from schema_migrations`).map((r) => [
        r.name,
        r.checksum,
      ]),
    )
    const done: string[] = []
    for (const m of migrations) {
      const known = applied.get(m.name)
      if (known !== undefined) {
        if (known !== checksum(m.sql)) throw new Error(`migration ${m.name} was edited after it was applied`)
        continue
      }
      await tx.unsafe(m.sql)
      await tx`insert into schema_migrations (name, checksum) values (${m.name}, ${checksum(m.sql)})`
      done.push(m.name)
    }
    return done
  })
}
