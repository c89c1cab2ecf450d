import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { ApiKey, KeyStore, Scope } from '../ports/key-store.ts'
import type { Sql } from './pg-client.ts'

const sha256 = (secret: string) => createHash('sha256').update(secret).digest()

/** `pas_<keyId>_<secret>`: the id finds the row, the secret is checked against its hash. */
export function parseToken(token: string): { keyId: string; secret: string } | undefined {
  const match = /^pas_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/.exec(token)
  return match ? { keyId: match[1] as string, secret: match[2] as string } : undefined
}

type Row = { key_id: string; secret_hash: string; name: string; scopes: string[]; client_ids: string[] | null }
type Listed = Row & { created_at: string; revoked_at: string | null }

/**
 * API keys on PostgreSQL (sql/0008). Secrets are 32 random bytes, so one SHA-256 is enough to store
 * them (a slow password hash guards guessable secrets, which these are not), and checking a key
 * costs microseconds.
 */
export class PgKeyStore implements KeyStore {
  constructor(private readonly sql: Sql) {}

  async verify(token: string): Promise<ApiKey | undefined> {
    const parsed = parseToken(token)
    if (!parsed) return undefined
    const [row] = await this.sql<Row[]>`
      select key_id, secret_hash, name, scopes, client_ids from api_keys
      where key_id = ${parsed.keyId} and revoked_at is null`
    if (!row) return undefined
    const stored = Buffer.from(row.secret_hash, 'hex')
    const given = sha256(parsed.secret)
    if (stored.length !== given.length || !timingSafeEqual(stored, given)) return undefined
    return { keyId: row.key_id, name: row.name, scopes: row.scopes as Scope[], clientIds: row.client_ids }
  }

  async anyActive(): Promise<boolean> {
    const [row] = await this.sql`select exists (select 1 from api_keys where revoked_at is null) as any`
    return row?.any === true
  }

  /** Creates a key and returns its token: shown once, never stored. */
  async create(name: string, scopes: readonly Scope[], clientIds: readonly string[] | null): Promise<string> {
    const keyId = randomBytes(9)
      .toString('base64url')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '0')
      .slice(0, 12)
    const secret = randomBytes(32).toString('base64url')
    await this.sql`insert into api_keys (key_id, secret_hash, name, scopes, client_ids)
      values (${keyId}, ${sha256(secret).toString('hex')}, ${name}, ${scopes as string[]}::text[],
              ${clientIds as string[] | null}::text[])`
    return `pas_${keyId}_${secret}`
  }

  async list(): Promise<Listed[]> {
    return this.sql<Listed[]>`select key_id, secret_hash, name, scopes, client_ids, created_at::text, revoked_at::text
      from api_keys order by created_at, key_id`
  }

  /** True when an active key of that id was revoked. */
  async revoke(keyId: string): Promise<boolean> {
    const rows = await this.sql`update api_keys set revoked_at = now() where key_id = ${keyId} and revoked_at is null
      returning key_id`
    return rows.length === 1
  }
}
