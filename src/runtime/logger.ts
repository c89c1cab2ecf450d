export const LogLevels = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LogLevels)[number]
type Fields = Record<string, unknown>

export type Logger = {
  [L in LogLevel]: (message: string, fields?: Fields) => void
} & { child(fields: Fields): Logger }

/** Structured logs: one JSON object per line on stderr, so stdout stays free for command output. */
export function createLogger(
  level: LogLevel,
  base: Fields = {},
  write: (line: string) => unknown = (line) => process.stderr.write(line),
): Logger {
  const min = LogLevels.indexOf(level)
  const emit = (l: LogLevel) => (message: string, fields?: Fields) => {
    if (LogLevels.indexOf(l) < min) return
    write(
      `${JSON.stringify({ time: new Date().toISOString(), level: l, msg: message, ...base, ...fields }, jsonSafe)}\n`,
    )
  }
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (fields) => createLogger(level, { ...base, ...fields }, write),
  }
}

const jsonSafe = (_key: string, value: unknown) => {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Error) return { name: value.name, message: value.message }
  return value
}
