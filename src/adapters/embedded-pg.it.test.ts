import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../testing/local-infra.ts'
import { startEmbeddedPg } from './embedded-pg.ts'
import { createPgClient } from './pg-client.ts'

const dataDir = mkdtempSync(join(tmpdir(), 'pas-embedded-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

describe('startEmbeddedPg', () => {
  test('data survives a stop and start; a second start on a running folder shares the server', async () => {
    const port = freePort()
    const first = await startEmbeddedPg({ dataDir, port })
    expect(first.owned).toBe(true)
    let sql = createPgClient({ url: first.url, max: 1, applicationName: 'pas-test' })
    await sql`create table kept (n int)`
    await sql`insert into kept values (42)`

    const shared = await startEmbeddedPg({ dataDir, port: freePort() })
    expect(shared.owned).toBe(false)
    expect(new URL(shared.url).port).toBe(String(port)) // the running server's port, not the one asked for
    await shared.stop() // not its server: a no-op
    expect((await sql`select n from kept`)[0]?.n).toBe(42)
    await sql.end()

    await first.stop()
    expect(existsSync(join(dataDir, 'pg', 'postmaster.pid'))).toBe(false)

    const again = await startEmbeddedPg({ dataDir, port })
    sql = createPgClient({ url: again.url, max: 1, applicationName: 'pas-test' })
    expect((await sql`select n from kept`)[0]?.n).toBe(42)
    await sql.end()
    await again.stop()
  }, 120_000)

  test('the server only accepts the generated password', async () => {
    const server = await startEmbeddedPg({ dataDir, port: freePort() })
    const url = new URL(server.url)
    url.password = 'wrong'
    const sql = createPgClient({ url: url.href, max: 1, applicationName: 'pas-test' })
    await expect(sql`select 1`).rejects.toThrow(/password authentication failed/)
    await sql.end()
    await server.stop()
  }, 120_000)
})
