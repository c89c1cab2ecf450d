import type { AuthMode } from '../config.ts'
import type { ApiKey, KeyStore, Scope } from '../ports/key-store.ts'
import { errorResponse } from './errors.ts'

/** Who made a request: a verified key, or nobody in particular when auth is off. */
export type Principal = ApiKey | typeof OPEN
export const OPEN = { keyId: 'open', name: 'open', scopes: ['admin'], clientIds: null } as const satisfies ApiKey

export type GuardOptions = {
  mode: AuthMode
  keys: KeyStore
  /** The address the server is bound to; loopback decides `auto` and which Host names pass. */
  bindHost: string
  allowedHosts: readonly string[]
  allowedOrigins: readonly string[]
  /** Requests per second per key; a bucket holds twice that. */
  rateLimit: number
  now?: () => number
}

/** How long a verified key, and whether any key exists, are remembered: a revocation takes effect within it. */
export const KEY_CACHE_MS = 10_000

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]'])
export const isLoopback = (host: string) => LOOPBACK_NAMES.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host)

/** The host[:port] of an Origin header ('' for `null` or garbage): pas's own pages, behind TLS or not, pass. */
function hostOf(origin: string): string {
  try {
    return new URL(origin).host
  } catch {
    return ''
  }
}

/** What anyone may read: health, readiness, the API docs and the dashboard's page (its data is the API's). */
const PUBLIC_PATHS = new Set(['/', '/health', '/ready', '/openapi.json', '/docs'])

/**
 * The scope each path needs, whatever the method (a wrong method is then 405, not 403); undefined
 * for the public paths.
 */
export function scopeFor(path: string): Scope | undefined {
  if (PUBLIC_PATHS.has(path)) return undefined
  // Operator actions (reprocessing) are admin only.
  if (path.startsWith('/v1/admin/')) return 'admin'
  const ingest = /^\/v1\/ingest\/([a-z-]+)$/.exec(path)
  if (ingest) {
    // Reference data and the one business date change everyone's figures: admin only.
    return ['portfolios', 'instruments', 'business-dates', 'holidays'].includes(ingest[1] as string)
      ? 'admin'
      : 'ingest'
  }
  return 'read'
}

/** Whether `key` may act with `scope`; admin may do everything. */
export const allows = (key: ApiKey, scope: Scope) => key.scopes.includes(scope) || key.scopes.includes('admin')

const principals = new WeakMap<Request, Principal>()
/** The principal the guard let through for this request (OPEN when auth is off). */
export const principalOf = (request: Request): Principal => principals.get(request) ?? OPEN

/**
 * The gate in front of every route, in this order:
 * 1. Host: on loopback only loopback names (a DNS-rebinding page sends its own host name), plus
 *    `allowedHosts`; elsewhere `allowedHosts` if any are set.
 * 2. Origin: absent, or pas's own (scheme://Host), or in `allowedOrigins`; a page elsewhere gets 403.
 * 3. Key: required in `keys` mode, and in `auto` mode once any key exists or off loopback. A bearer
 *    token in `Authorization`; none or a wrong one is 401, a scope it lacks is 403.
 * 4. Rate: a token bucket per key; empty is 429 with Retry-After.
 */
export function createGuard(options: GuardOptions) {
  const now = options.now ?? Date.now
  const loopbackBind = isLoopback(options.bindHost)
  const allowedHosts = new Set(options.allowedHosts.map((h) => h.toLowerCase()))
  const allowedOrigins = new Set(options.allowedOrigins.map((o) => o.toLowerCase().replace(/\/$/, '')))
  const verified = new Map<string, { key: ApiKey | undefined; until: number }>()
  let anyKey: { value: boolean; until: number } | undefined
  const buckets = new Map<string, { tokens: number; at: number }>()
  const burst = options.rateLimit * 2

  const keysRequired = async (): Promise<boolean> => {
    if (options.mode !== 'auto') return options.mode === 'keys'
    if (!loopbackBind) return true
    if (!anyKey || anyKey.until < now()) anyKey = { value: await options.keys.anyActive(), until: now() + KEY_CACHE_MS }
    return anyKey.value
  }
  const verify = async (token: string): Promise<ApiKey | undefined> => {
    const cached = verified.get(token)
    if (cached && cached.until >= now()) return cached.key
    const key = await options.keys.verify(token)
    if (verified.size > 10_000) verified.clear() // bounded: wrong tokens must not grow it without end
    verified.set(token, { key, until: now() + KEY_CACHE_MS })
    return key
  }
  const take = (keyId: string): number | undefined => {
    const t = now()
    const bucket = buckets.get(keyId) ?? { tokens: burst, at: t }
    bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * options.rateLimit)
    bucket.at = t
    buckets.set(keyId, bucket)
    if (bucket.tokens < 1) return Math.ceil((1 - bucket.tokens) / options.rateLimit)
    bucket.tokens -= 1
    return undefined
  }

  return async (request: Request): Promise<Response | undefined> => {
    const url = new URL(request.url)
    const hostHeader = (request.headers.get('host') ?? url.host).toLowerCase()
    const hostName = hostHeader.replace(/:\d+$/, '')
    const hostOk = allowedHosts.has(hostHeader) || allowedHosts.has(hostName)
    if (!hostOk && (loopbackBind ? !isLoopback(hostName) : allowedHosts.size > 0)) {
      return errorResponse(request, 403, `Host ${hostHeader} is not served here; add it to PAS_ALLOWED_HOSTS`)
    }
    const origin = request.headers.get('origin')?.toLowerCase()
    if (origin !== undefined && !allowedOrigins.has(origin) && hostOf(origin) !== hostHeader) {
      return errorResponse(request, 403, `Origin ${origin} may not call this API; add it to PAS_ALLOWED_ORIGINS`)
    }

    const scope = scopeFor(url.pathname)
    if (scope === undefined || !(await keysRequired())) return undefined
    const header = request.headers.get('authorization') ?? ''
    const token = /^Bearer (\S+)$/i.exec(header)?.[1]
    const key = token === undefined ? undefined : await verify(token)
    if (!key) {
      const message =
        token === undefined ? 'an API key is required: Authorization: Bearer <key>' : 'unknown or revoked API key'
      return errorResponse(request, 401, message, { 'www-authenticate': 'Bearer realm="pas"' })
    }
    if (!allows(key, scope)) {
      return errorResponse(request, 403, `key ${key.keyId} lacks the ${scope} scope this route needs`)
    }
    const waitS = take(key.keyId)
    if (waitS !== undefined) {
      return errorResponse(request, 429, `key ${key.keyId} is over ${options.rateLimit} requests per second`, {
        'retry-after': String(waitS),
      })
    }
    principals.set(request, key)
    return undefined
  }
}
