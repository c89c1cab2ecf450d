import { type EmbeddedPg, startEmbeddedPg } from './adapters/embedded-pg.ts'
import { isKafkaTransient, KafkaLog } from './adapters/kafka-log.ts'
import { namespaced } from './adapters/namespaced-log.ts'
import { createPgClient, type Sql } from './adapters/pg-client.ts'
import { isPgTransient } from './adapters/pg-errors.ts'
import { PgLog } from './adapters/pg-log.ts'
import { RdKafkaLog } from './adapters/rdkafka-log.ts'
import type { Config } from './config.ts'
import type { EventLog } from './ports/event-log.ts'
import type { Logger } from './runtime/logger.ts'

export type Database = {
  readonly sql: Sql
  /** The connection URL, for components that need a connection of their own (the COPY writer). */
  readonly url: string
  readonly embedded: EmbeddedPg | undefined
  close(): Promise<void>
}

export type Deps = {
  readonly config: Config
  readonly logger: Logger
  readonly db: Database
  readonly eventLog: EventLog
  /** Releases everything compose opened, in reverse order. */
  close(): Promise<void>
}

/** PostgreSQL from DATABASE_URL, or an embedded server in the data folder when it is unset. */
export async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPg({
        dataDir: config.dataDir,
        port: config.embeddedPgPort,
        binDir: config.pgBinDir,
        log: (message) => logger.info(message, { component: 'embedded-pg' }),
      })
  const url = config.databaseUrl ?? (embedded as EmbeddedPg).url
  const sql = createPgClient({ url, max: config.pgPoolMax, applicationName: `pas-${config.role}` })
  return {
    sql,
    url,
    embedded,
    close: async () => {
      await sql.end({ timeout: 5 })
      if (embedded?.owned) await embedded.stop()
    },
  }
}

/** The Kafka adapter `--kafka-client` picks; librdkafka's own log lines join pas's. */
function kafkaLog(config: Config, logger: Logger): EventLog {
  const options = { brokers: config.kafkaBrokers, clientId: config.kafkaClientId }
  return config.kafkaClient === 'rdkafka'
    ? new RdKafkaLog({
        ...options,
        library: config.rdkafkaLibrary,
        log: (level, message, fields) => logger[level](message, fields),
      })
    : new KafkaLog(options)
}

/** The composition root: turns Config into adapters. Nothing below it reads env or picks an adapter. */
export async function compose(config: Config, logger: Logger): Promise<Deps> {
  const db = await openDatabase(config, logger)
  // The pg log's lease renewals on a connection of their own, not queued behind the stages' queries.
  const leases =
    config.kafkaBrokers.length > 0
      ? undefined
      : createPgClient({ url: db.url, max: 1, applicationName: `pas-${config.role}-leases` })
  const eventLog: EventLog = leases
    ? new PgLog(db.sql, {
        retentionMs: config.logRetentionHours * 3_600_000,
        onPruneError: (error) => logger.warn('pruning the log failed; trying again later', { error: String(error) }),
        leases,
      })
    : namespaced(kafkaLog(config, logger), config.kafkaPrefix)
  return {
    config,
    logger,
    db,
    eventLog,
    close: async () => {
      await eventLog.close()
      await leases?.end({ timeout: 5 })
      await db.close()
    },
  }
}

/** Whether an error says PostgreSQL or Kafka is unreachable: roles back off and resume instead of failing. */
export const isTransient = (error: unknown): boolean => isPgTransient(error) || isKafkaTransient(error)
