import { randomUUID } from 'node:crypto'
import { Elysia, t } from 'elysia'
import { Problem } from '../query/views.ts'

/**
 * ONE ERROR SHAPE for every 4xx and 5xx pas answers: a stable `code`, a `message` that names the
 * parameter or field at fault, that `field` on its own, and the request's `correlationId` (also in
 * the `x-correlation-id` header, and in the log line of a 500, whose body never carries internal text).
 */
export const ErrorCodes = {
  400: 'INVALID_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
} as const
export type ErrorStatus = keyof typeof ErrorCodes

export const ErrorBody = t.Object(
  {
    code: t.String({ description: `A stable code: ${Object.values(ErrorCodes).join(', ')}` }),
    message: t.String({ description: 'What is wrong, in a sentence that names the parameter or field' }),
    field: t.Optional(t.String({ description: 'The parameter or field at fault, when there is one' })),
    correlationId: t.String({ description: 'Quote it when reporting a problem; it is in the log too' }),
    // The 422 of the analytics: the days without complete data, as the query side reports them.
    missingDays: Problem.properties.missingDays,
    missingDaysTotal: Problem.properties.missingDaysTotal,
  },
  { $id: 'Error' },
)
export type ErrorBody = typeof ErrorBody.static

const correlationIds = new WeakMap<Request, string>()
const GIVEN_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** The request's correlation id: the caller's `x-correlation-id` if it is a sane one, else a new UUID. */
export function correlationIdOf(request: Request): string {
  let id = correlationIds.get(request)
  if (id === undefined) {
    const given = request.headers.get('x-correlation-id')
    id = given && GIVEN_ID.test(given) ? given : randomUUID()
    correlationIds.set(request, id)
  }
  return id
}

export function errorBody(
  request: Request,
  status: ErrorStatus,
  message: string,
  extra: Pick<ErrorBody, 'field' | 'missingDays' | 'missingDaysTotal'> = {},
): ErrorBody {
  const body: ErrorBody = { code: ErrorCodes[status], message, correlationId: correlationIdOf(request) }
  if (extra.field !== undefined && extra.field !== '') body.field = extra.field
  if (extra.missingDays !== undefined) body.missingDays = extra.missingDays
  if (extra.missingDaysTotal !== undefined) body.missingDaysTotal = extra.missingDaysTotal
  return body
}

/** The error as a Response, for hooks that answer before any route (auth, host, content type). */
export function errorResponse(
  request: Request,
  status: ErrorStatus,
  message: string,
  headers: Record<string, string> = {},
  field?: string,
): Response {
  return new Response(JSON.stringify(errorBody(request, status, message, { field })), {
    status,
    headers: { 'content-type': 'application/json', 'x-correlation-id': correlationIdOf(request), ...headers },
  })
}

/** What a schema check reports of each value at fault (Elysia's ValidationError `all`). */
type Invalid = { path?: string; message?: string; schema?: { title?: string } }

/**
 * A failed schema check as a message naming the field at fault: its path (`transactionIds.3`),
 * else its schema's title (a coerced query number is checked on its own, with an empty path),
 * else where it was (`body`, `query`).
 */
export function invalidField(error: { type: string; all: readonly unknown[] }): { field: string; message: string } {
  const first = error.all[0] as Invalid | undefined
  const path = first?.path?.replace(/^\//, '').replaceAll('/', '.') ?? ''
  const field = path || first?.schema?.title || error.type
  return { field, message: `${field}: ${first?.message ?? 'invalid'}` }
}

/**
 * A plugin for route groups: a request their schemas refuse is 400 in the one error shape, naming
 * the field (invalidField), instead of Elysia's own answer.
 */
export const namedValidation = new Elysia().onError({ as: 'scoped' }, ({ code, error, status, request }) => {
  if (code !== 'VALIDATION' || error.type === 'response') return
  const { field, message } = invalidField(error)
  return status(400, errorBody(request, 400, message, { field }))
})
