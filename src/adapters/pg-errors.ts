import { AppError } from '../errors.ts'

/** SQLSTATE classes that say the data was refused, not that the server is unwell. */
const DATA_CLASSES = new Set(['22', '23', '54'])
/** SQLSTATEs of a server that is going away, starting, or overloaded: try again later. */
const TRANSIENT_STATES = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01', '55P03'])
/** postgres.js's own codes for a connection that failed or dropped, and Node's socket errors. */
const TRANSIENT_CLIENT_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
])

const codeOf = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined

/** Whether PostgreSQL refused the data itself (an invalid value, a constraint, a value too large). */
export function isPgDataError(error: unknown): boolean {
  const code = codeOf(error)
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) && DATA_CLASSES.has(code.slice(0, 2))
}

/** Whether the error says PostgreSQL is unreachable or restarting: retry with back-off, do not fail. */
export function isPgTransient(error: unknown): boolean {
  const code = codeOf(error)
  if (code === undefined) return false
  return TRANSIENT_CLIENT_CODES.has(code) || TRANSIENT_STATES.has(code) || code.startsWith('08')
}

/** Runs `work`; a refusal of the data becomes AppError INVALID_RECORD, which a stage can park. */
export async function refusalsAsInvalid<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (isPgDataError(error)) {
      throw new AppError('INVALID_RECORD', `PostgreSQL refused ${what}: ${(error as Error).message}`, false, {
        cause: error,
      })
    }
    throw error
  }
}
