import { afterAll, describe, expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { freshDatabase } from '../testing/infra.ts'
import type { Tx } from './pg-client.ts'
import { migrate, migrations } from './pg-migrate.ts'

const db = await freshDatabase('migrate') // already migrated once
afterAll(() => db.drop())

describe('migrate', () => {
  test('every file in sql/ is registered, in name order', () => {
    const files = readdirSync(join(import.meta.dir, '../../sql'))
      .filter((f) => f.endsWith('.sql'))
      .sort()
    expect(migrations.map((m) => `${m.name}.sql`)).toEqual(files)
  })

  test('running it again applies nothing and keeps the recorded history', async () => {
    expect(await migrate(db.sql)).toEqual([])
    const rows = await db.sql<{ name: string }[]>`select name from schema_migrations order by name`
    expect(rows.map((r) => r.name)).toEqual(migrations.map((m) => m.name))
  })

  test('an applied migration whose text changed is refused', async () => {
    const first = migrations[0]?.name as string
    await db.sql`update schema_migrations set checksum = 'edited' where name = ${first}`
    await expect(migrate(db.sql)).rejects.toThrow(`migration ${first} was edited after it was applied`)
  })
})

/**
 * Runs `check` in a schema of its own migrated up to `name` (not included), with `apply` applying
 * that migration, all in a transaction rolled back after: rows can be put in the tables as they
 * were before it.
 */
async function beforeMigration(
  name: string,
  check: (tx: Tx, apply: () => Promise<unknown>) => Promise<void>,
): Promise<void> {
  const at = migrations.findIndex((m) => m.name === name)
  const rollback = new Error('rolled back')
  const outcome = db.sql.begin(async (tx) => {
    await tx.unsafe(`create schema before_${at}`)
    await tx.unsafe(`set local search_path to before_${at}`)
    for (const m of migrations.slice(0, at)) await tx.unsafe(m.sql)
    await check(tx, () => tx.unsafe((migrations[at] as { sql: string }).sql))
    throw rollback
  })
  await expect(outcome).rejects.toBe(rollback)
}

describe('0024_day_months', () => {
  test('moves the day sums and the series into month rows; the views of the old names read the same days', async () => {
    await beforeMigration('0024_day_months', async (tx, apply) => {
      await tx`insert into portfolio_values (portfolio_id, date, emv_base, positions, complete) values
        ('P', '2025-01-30', 100.5, 2, true), ('P', '2025-01-31', 101, 2, false), ('P', '2025-02-03', 99.25, 1, true),
        ('Q', '2025-01-31', 7, 1, true)`
      await tx`insert into portfolio_series (portfolio_id, date, bmv_base, emv_base, sod_flow_base, eod_flow_base,
                 fees_base, income_base, complete) values
        ('P', '2025-01-31', 100.5, 101, 0, 0, 1.5, 0, false), ('P', '2025-02-03', 101, 99.25, -2, 0, 0, 0.75, true)`
      await apply()
      const months = await tx`select portfolio_id, month::text, dates::text, emv_base::text, positions::text,
                                     complete::text from portfolio_value_months order by portfolio_id, month`
      const values = await tx`select portfolio_id, date::text, emv_base::text, positions, complete, month::text
                              from portfolio_values order by portfolio_id, date`
      const series = await tx`select date::text, bmv_base::text, emv_base::text, sod_flow_base::text, fees_base::text,
                                     income_base::text, complete, month::text from portfolio_series order by date`
      expect(months.map((r) => Object.values(r))).toEqual([
        ['P', '2025-01-01', '{2025-01-30,2025-01-31}', '{100.5,101}', '{2,2}', '{t,f}'],
        ['P', '2025-02-01', '{2025-02-03}', '{99.25}', '{1}', '{t}'],
        ['Q', '2025-01-01', '{2025-01-31}', '{7}', '{1}', '{t}'],
      ])
      expect(values.map((r) => Object.values(r))).toEqual([
        ['P', '2025-01-30', '100.5', 2, true, '2025-01-01'],
        ['P', '2025-01-31', '101', 2, false, '2025-01-01'],
        ['P', '2025-02-03', '99.25', 1, true, '2025-02-01'],
        ['Q', '2025-01-31', '7', 1, true, '2025-01-01'],
      ])
      expect(series.map((r) => Object.values(r))).toEqual([
        ['2025-01-31', '100.5', '101', '0', '1.5', '0', false, '2025-01-01'],
        ['2025-02-03', '101', '99.25', '-2', '0', '0.75', true, '2025-02-01'],
      ])
    })
  })
})

describe('0026_series_flows', () => {
  test('keeps the series flows only; the view of the old name reads the same days, their values from the day sums', async () => {
    await beforeMigration('0026_series_flows', async (tx, apply) => {
      // A series as the series stage stored it until 0026: it starts on the first day with a value
      // (Jan 30), each bmv the day before's emv, and Feb 4 has no sum (nothing held): emv 0, complete.
      await tx`insert into portfolio_value_months (portfolio_id, month, dates, emv_base, positions, complete) values
        ('P', '2025-01-01', '{2025-01-30,2025-01-31}', '{100.5,101}', '{2,2}', '{t,f}'),
        ('P', '2025-02-01', '{2025-02-03}', '{99.25}', '{1}', '{t}')`
      await tx`insert into portfolio_series_months (portfolio_id, month, dates, bmv_base, emv_base, sod_flow_base,
                 eod_flow_base, fees_base, income_base, complete) values
        ('P', '2025-01-01', '{2025-01-30,2025-01-31}', '{0,100.5}', '{100.5,101}', '{100,0}', '{0,0}', '{0,1.5}',
         '{0,0}', '{t,f}'),
        ('P', '2025-02-01', '{2025-02-03,2025-02-04}', '{101,99.25}', '{99.25,0}', '{-2,0}', '{0,-99.25}', '{0,0}',
         '{0.75,0}', '{t,t}')`
      const read = () => tx`select date::text, bmv_base::text, emv_base::text, sod_flow_base::text,
                                   eod_flow_base::text, fees_base::text, income_base::text, complete, month::text
                            from portfolio_series order by date`
      const before = (await read()).map((r) => Object.values(r))
      await apply()
      const columns = await tx`select column_name from information_schema.columns
                               where table_schema = current_schema() and table_name = 'portfolio_series_months'
                               order by ordinal_position`
      expect(columns.map((c) => c.column_name)).toEqual([
        'portfolio_id',
        'month',
        'dates',
        'sod_flow_base',
        'eod_flow_base',
        'fees_base',
        'income_base',
      ])
      expect((await read()).map((r) => Object.values(r))).toEqual(before)
      expect(before).toEqual([
        ['2025-01-30', '0', '100.5', '100', '0', '0', '0', true, '2025-01-01'],
        ['2025-01-31', '100.5', '101', '0', '0', '1.5', '0', false, '2025-01-01'],
        ['2025-02-03', '101', '99.25', '-2', '0', '0', '0.75', true, '2025-02-01'],
        ['2025-02-04', '99.25', '0', '0', '-99.25', '0', '0', true, '2025-02-01'],
      ])
    })
  })
})
