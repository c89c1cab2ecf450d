import pino from 'pino'
import pretty from 'pino-pretty'

export const LogLevels = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LogLevels)[number]
type Fields = Record<string, unknown>

export type Logger = {
  [L in LogLevel]: (message: string, fields?: Fields) => void
} & { child(fields: Fields): Logger }

/**
 * Structured logs through pino, on stderr so that stdout stays free for command output: one JSON
 * object per line (`time` ISO, `level` by name, `msg`, then the fields), or readable lines when a
 * person watches (stderr is a terminal). `write` takes the JSON lines instead (a file, a test).
 */
export function createLogger(level: LogLevel, base: Fields = {}, write?: (line: string) => unknown): Logger {
  const options: pino.LoggerOptions = {
    level,
    base,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { error: errorFields },
  }
  const destination = write
    ? { write }
    : process.stderr.isTTY
      ? pretty({ destination: 2, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
      : { write: (line: string) => process.stderr.write(line) }
  return wrap(pino(options, destination))
}

/** Our call shape (message, then fields) on pino's (fields, then message). */
function wrap(log: pino.Logger): Logger {
  const at = (l: LogLevel) => (message: string, fields?: Fields) => (fields ? log[l](fields, message) : log[l](message))
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => wrap(log.child(fields)),
  }
}

/** An error as its name and message (stacks stay out of the log lines), anything else as it is. */
const errorFields = (value: unknown) => (value instanceof Error ? { name: value.name, message: value.message } : value)
