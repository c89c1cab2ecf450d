import { afterAll, describe, expect, test } from 'bun:test'
import { AppError, worthRetrying } from '../errors.ts'
import { freshDatabase } from '../testing/infra.ts'
import { copyLine, copyRows, PgWriter } from './pg-copy.ts'
import { isPgTransient } from './pg-errors.ts'

const db = await freshDatabase('copy')
await db.sql`create table copied (id int primary key, note text, amount numeric not null)`
const writer = new PgWriter(db.url, 'pas-test')
afterAll(async () => {
  await writer.close()
  await db.drop()
})

describe('copyRows', () => {
  test('escapes tabs, newlines, backslashes and nulls', () => {
    expect(copyLine(['1', 'a\tb\nc\\d', null])).toBe('1\ta\\tb\\nc\\\\d\t\\N\n')
  })

  test('writes rows exactly, text and numbers included', async () => {
    await writer.transaction((tx) =>
      copyRows(
        tx,
        'copied',
        ['id', 'note', 'amount'],
        [
          ['1', 'tab\there', '1005.2500000001'],
          ['2', null, '-3'],
        ],
        5_000,
      ),
    )
    const rows = await db.sql`select id, note, amount::text as amount from copied order by id`
    expect(rows.map((r) => [r.id, r.note, r.amount])).toEqual([
      [1, 'tab\there', '1005.2500000001'],
      [2, null, '-3'],
    ])
  })

  test('a COPY the server refuses times out, rolls back, and the writer works again', async () => {
    const refused = await writer
      .transaction(async (tx) => {
        await tx`insert into copied values (10, 'in the same transaction', 1)`
        await copyRows(tx, 'copied', ['id', 'note', 'amount'], [['11', 'bad', 'not a number']], 500)
      })
      .catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(AppError)
    expect((refused as AppError).code).toBe('COPY_TIMEOUT')
    await writer.transaction((tx) => copyRows(tx, 'copied', ['id', 'note', 'amount'], [['12', 'after', '7']], 5_000))
    const ids = (await db.sql`select id from copied order by id`).map((r) => r.id)
    expect(ids).toEqual([1, 2, 12]) // 10 and 11 were rolled back with the torn-down connection
  })
  test('a COPY cut off by the server (its connection ended) fails as retryable, and the writer works again', async () => {
    const cut = new PgWriter(db.url, 'pas-test-cut')
    let terminated: Promise<unknown> | undefined
    function* rows() {
      for (let i = 0; i < 3_000_000; i++) {
        // Once the first megabyte or so is on its way, an administrator ends the connection.
        if (i === 50_000) {
          terminated =
            db.sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name like 'pas-test-cut/%'`.execute()
        }
        yield [String(1000 + i), 'cut', '1']
      }
    }
    const error = await cut
      .transaction((tx) => copyRows(tx, 'copied', ['id', 'note', 'amount'], rows(), 20_000))
      .catch((e: unknown) => e)
    await terminated
    // At once, not after the 20 s COPY timeout (the test would time out first), and retryable.
    expect((error as { code?: string }).code).not.toBe('COPY_TIMEOUT')
    expect(worthRetrying(error, isPgTransient)).toBe(true)
    await cut.transaction((tx) => copyRows(tx, 'copied', ['id', 'note', 'amount'], [['13', 'again', '1']], 5_000))
    expect((await db.sql`select count(*)::int as n from copied where id >= 1000`)[0]?.n).toBe(0)
    expect((await db.sql`select note from copied where id = 13`)[0]?.note).toBe('again')
    await cut.close()
  })
})
