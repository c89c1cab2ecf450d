/** Stable error codes. Infrastructure failures are thrown as AppError; per-record outcomes are values. */
export const ErrorCodes = [
  'CONFIG_INVALID',
  'INVALID_RECORD',
  'UNKNOWN_TOPIC',
  'LOG_UNAVAILABLE',
  'STORE_UNAVAILABLE',
  'PARTITION_LOST',
  'COPY_TIMEOUT',
  'SHUTTING_DOWN',
  'WRITE_CONFLICT',
  'WORKER_LOST',
] as const
export type ErrorCode = (typeof ErrorCodes)[number]

export class AppError extends Error {
  override name = 'AppError'
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/**
 * Whether to try again later: a retryable AppError, or an error `isTransient` (the adapters'
 * reading of their clients' errors) calls an outage of PostgreSQL or Kafka.
 */
export function worthRetrying(error: unknown, isTransient: (error: unknown) => boolean = () => false): boolean {
  return (error instanceof AppError && error.retryable) || isTransient(error)
}

/** Start-up configuration problems, every one of them, so the operator fixes them in one go. */
export class ConfigError extends AppError {
  override name = 'ConfigError'
  constructor(readonly problems: readonly string[]) {
    super('CONFIG_INVALID', `invalid configuration:\n  - ${problems.join('\n  - ')}`, false)
  }
}
