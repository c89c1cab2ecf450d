import type { PgKeyStore } from '../adapters/pg-keys.ts'
import { type Scope, Scopes } from '../ports/key-store.ts'

type Out = (line: string) => void
type KeyArgs = {
  name?: string | undefined
  scopes?: string[] | undefined
  clients?: string[] | undefined
  id?: string | undefined
}

/**
 * `pas keys create --name N --scopes read,ingest[,admin] [--clients C1,C2]` prints the new token
 * (the only time it is shown); `pas keys list` shows ids, names, scopes and clients, never secrets;
 * `pas keys revoke --id KEY_ID` revokes (serving processes notice within 10 s). Exit 2 on bad arguments.
 */
export async function manageKeys(keys: PgKeyStore, action: string | undefined, args: KeyArgs, out: Out) {
  switch (action) {
    case 'create': {
      const unknown = (args.scopes ?? []).filter((s) => !(Scopes as readonly string[]).includes(s))
      if (!args.name || !args.scopes?.length || unknown.length > 0) {
        out(`pas keys create: give --name and --scopes, a list of ${Scopes.join(', ')}`)
        if (unknown.length > 0) out(`unknown scope(s): ${unknown.join(', ')}`)
        return 2
      }
      const token = await keys.create(args.name, args.scopes as Scope[], args.clients?.length ? args.clients : null)
      out(token)
      out('Keep it now: pas stores only its hash. Send it as `Authorization: Bearer <key>`.')
      return 0
    }
    case 'list': {
      for (const k of await keys.list()) {
        const clients = k.client_ids ? ` clients=${k.client_ids.join(',')}` : ''
        const state = k.revoked_at ? `revoked ${k.revoked_at}` : 'active'
        out(`${k.key_id}  ${k.name}  scopes=${k.scopes.join(',')}${clients}  created ${k.created_at}  ${state}`)
      }
      return 0
    }
    case 'revoke': {
      if (!args.id) {
        out('pas keys revoke: give --id KEY_ID (the part after pas_ in the token, as `pas keys list` shows)')
        return 2
      }
      const revoked = await keys.revoke(args.id)
      out(revoked ? `key ${args.id} revoked` : `no active key ${args.id}`)
      return revoked ? 0 : 1
    }
    default:
      out('pas keys: create, list or revoke')
      return 2
  }
}
