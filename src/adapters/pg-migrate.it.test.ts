import { afterAll, describe, expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { freshDatabase } from '../testing/infra.ts'
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
