import { describe, expect, test } from 'bun:test'
import { loadConfig } from './config.ts'
import { ConfigError } from './errors.ts'

const problemsOf = (env: Record<string, string>, argv: string[]) => {
  try {
    loadConfig(env, argv)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  return []
}

describe('loadConfig', () => {
  test('no settings means the embedded default: role all, Postgres log, port 8080', () => {
    const config = loadConfig({}, [])
    expect(config).toMatchObject({ command: 'run', role: 'all', kafkaBrokers: [], httpPort: 8080, dataDir: '.pas' })
    expect(config.databaseUrl).toBeUndefined()
  })

  test('flags beat environment variables, and numbers and lists are converted', () => {
    const config = loadConfig({ PAS_ROLE: 'api', PAS_HTTP_PORT: '9000', KAFKA_BROKERS: 'a:9092, b:9093' }, [
      'run',
      '--role',
      'valuation',
      '--port=0',
      '--batch-max-records',
      '250',
    ])
    expect(config).toMatchObject({
      role: 'valuation',
      httpPort: 0,
      batchMaxRecords: 250,
      kafkaBrokers: ['a:9092', 'b:9093'],
    })
  })

  test('every problem is reported at once, each naming its flag and variable', () => {
    const problems = problemsOf({ PAS_HTTP_PORT: 'eighty', PAS_ROLLE: 'api', KAFKA_BROKERS: 'nohost' }, [
      '--role',
      'cook',
      '--colour',
      'red',
    ])
    expect(problems).toContain('PAS_ROLLE: unknown setting')
    expect(problems).toContain('--colour: unknown flag')
    expect(problems.some((p) => p.startsWith('--port / PAS_HTTP_PORT:') && p.includes('"eighty"'))).toBe(true)
    expect(problems.some((p) => p.startsWith('--role / PAS_ROLE:') && p.includes('"cook"'))).toBe(true)
    expect(problems.some((p) => p.startsWith('--kafka-brokers / KAFKA_BROKERS:'))).toBe(true)
  })

  test('commands are positional; an unknown command is a problem', () => {
    expect(loadConfig({}, ['migrate']).command).toBe('migrate')
    expect(loadConfig({}, ['--help']).command).toBe('help')
    expect(problemsOf({}, ['launch']).some((p) => p.includes('"launch"'))).toBe(true)
  })

  test('a database URL must be a postgres URL', () => {
    expect(problemsOf({ DATABASE_URL: 'mysql://x' }, []).some((p) => p.startsWith('--database-url'))).toBe(true)
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }, []).databaseUrl).toBe('postgres://u@h/db')
  })
})
