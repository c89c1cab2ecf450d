import { rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type EmbeddedPg, startEmbeddedPg } from '../adapters/embedded-pg.ts'
import { createPgClient, type Sql } from '../adapters/pg-client.ts'
import { migrate } from '../adapters/pg-migrate.ts'

/** Real PostgreSQL and Kafka on loopback for tests and benchmarks, started with the project's own tools. */
const repo = resolve(import.meta.dir, '../..')

export type LocalPg = { url: string; server: EmbeddedPg | undefined }
export type LocalKafka = { brokers: string[]; stop(): Promise<void> }

/** `given` if set, else an embedded server in `.pas/<name>` (shared with other processes using that folder). */
export async function localPg(name: string, port: number, given?: string): Promise<LocalPg> {
  if (given) return { url: given, server: undefined }
  const server = await startEmbeddedPg({ dataDir: join(repo, '.pas', name), port, database: 'postgres' })
  return { url: server.url, server }
}

/** `given` if set, else a broker from tools/kafka.sh on `port`; stop() stops it only if this call started it. */
export async function localKafka(port: number, given?: string): Promise<LocalKafka> {
  if (given) return { brokers: given.split(','), stop: async () => {} }
  const kafkaSh = (command: string) =>
    Bun.spawn(['bash', join(repo, 'tools', 'kafka.sh'), command], {
      env: { ...process.env, KAFKA_PORT: String(port) },
      stdout: 'ignore',
      stderr: 'inherit',
    }).exited
  const wasRunning = (await kafkaSh('status')) === 0
  if (!wasRunning && (await kafkaSh('start')) !== 0) {
    throw new Error('could not start Kafka with tools/kafka.sh (see its output above)')
  }
  return {
    brokers: [`127.0.0.1:${port}`],
    stop: async () => {
      if (!wasRunning) await kafkaSh('stop')
    },
  }
}

/**
 * A broker of one test's own on `port`, started fresh and removed (data and files) by stop():
 * for suites that stop the broker, or whose records must not reach the shared test broker (its
 * raw topics are read from the start by every later suite).
 */
export async function ownKafka(
  port: number,
): Promise<LocalKafka & { pause(): Promise<void>; resume(): Promise<void> }> {
  const home = join(repo, '.cache', 'kafka')
  const files = [`data-${port}`, ...['log', 'out', 'pid'].map((x) => `kafka-${port}.${x}`), `server-${port}.properties`]
  const clean = () => {
    for (const f of files) rmSync(join(home, f), { recursive: true, force: true })
  }
  clean()
  let broker = await localKafka(port)
  return {
    brokers: broker.brokers,
    /** Stops the broker, keeping its data: an outage, which resume() ends. */
    pause: () => broker.stop(),
    resume: async () => {
      broker = await localKafka(port)
    },
    stop: async () => {
      await broker.stop()
      clean()
    },
  }
}

export type ScratchDatabase = { url: string; sql: Sql; drop(): Promise<void> }

/** Creates database `name` on the server of `serverUrl`, migrated; `drop()` closes and removes it. */
export async function scratchDatabase(serverUrl: string, name: string): Promise<ScratchDatabase> {
  const admin = createPgClient({ url: serverUrl, max: 1, applicationName: 'pas-scratch' })
  await admin`create database ${admin(name)}`
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const sql = createPgClient({ url: url.href, max: 10, applicationName: 'pas-scratch' })
  await migrate(sql)
  return {
    url: url.href,
    sql,
    drop: async () => {
      await sql.end({ timeout: 5 })
      await admin`drop database if exists ${admin(name)} with (force)`
      await admin.end({ timeout: 5 })
    },
  }
}

/** A loopback port free at the time of the call (the OS picks it). */
export function freePort(): number {
  const socket = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = socket.port
  socket.stop(true)
  return port
}
