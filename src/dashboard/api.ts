/**
 * The dashboard's only way to the server: same-origin fetches of the public API, with the API key
 * (when the server asks for one) kept in this tab's session storage. A 401 opens the key prompt
 * once, however many requests were refused, and the requests are sent again with the key given.
 */
const KEY = 'pas.apiKey'

/** An answer that was not 2xx: its status and the API's message (and field, when it names one). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message)
  }
}

type KeyPrompt = (reason: string) => Promise<string | undefined>
let prompt: KeyPrompt = async () => undefined
let asking: Promise<string | undefined> | undefined

/** Who asks the person for a key (main.ts: a dialog). */
export function onKeyNeeded(ask: KeyPrompt) {
  prompt = ask
}

export const forgetKey = () => sessionStorage.removeItem(KEY)
export const hasKey = () => sessionStorage.getItem(KEY) !== null

async function keyAfter401(reason: string): Promise<string | undefined> {
  asking ??= prompt(reason).finally(() => {
    asking = undefined
  })
  const key = await asking
  if (key) sessionStorage.setItem(KEY, key)
  return key
}

const messageOf = (body: unknown, status: number): string => {
  if (typeof body === 'object' && body !== null) {
    const b = body as { message?: unknown; error?: unknown; field?: unknown }
    const text = typeof b.message === 'string' ? b.message : typeof b.error === 'string' ? b.error : undefined
    if (text) return typeof b.field === 'string' ? `${b.field}: ${text}` : text
  }
  return `HTTP ${status}`
}

/** The response of `path`, after a key prompt if the server wants one; throws ApiError otherwise. */
export async function request(path: string, init: RequestInit = {}, accept: number[] = []): Promise<Response> {
  for (;;) {
    const headers = new Headers(init.headers)
    const key = sessionStorage.getItem(KEY)
    if (key) headers.set('authorization', `Bearer ${key}`)
    const response = await fetch(path, { ...init, headers })
    if (response.status === 401) {
      const body = await response.json().catch(() => undefined)
      if (key) sessionStorage.removeItem(KEY)
      if (await keyAfter401(messageOf(body, 401))) continue
      throw new ApiError(401, messageOf(body, 401), body)
    }
    if (response.ok || accept.includes(response.status)) return response
    const body = await response.json().catch(() => undefined)
    throw new ApiError(response.status, messageOf(body, response.status), body)
  }
}

/** GET a JSON answer. */
export async function get<T>(path: string): Promise<T> {
  return (await (await request(path)).json()) as T
}

/** Runs `tasks` with at most `limit` at a time, in order of the list (per-row fetches of a long list). */
export async function inTurn<T>(tasks: (() => Promise<T>)[], limit: number): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = new Array(tasks.length)
  let next = 0
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++
      try {
        results[i] = { status: 'fulfilled', value: await (tasks[i] as () => Promise<T>)() }
      } catch (reason) {
        results[i] = { status: 'rejected', reason }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker))
  return results
}
