/** What a key may do: `ingest` market data and transactions, `read` the query API, `admin` the rest. */
export const Scopes = ['ingest', 'read', 'admin'] as const
export type Scope = (typeof Scopes)[number]

/** A verified API key. `clientIds` null: every client's portfolios. */
export type ApiKey = {
  readonly keyId: string
  readonly name: string
  readonly scopes: readonly Scope[]
  readonly clientIds: readonly string[] | null
}

export interface KeyStore {
  /** The active key the bearer token names, if its secret matches; else undefined. */
  verify(token: string): Promise<ApiKey | undefined>
  /** Whether any key is active (in `auto` mode, keys are required from the first one on). */
  anyActive(): Promise<boolean>
}
