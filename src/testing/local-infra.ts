import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Admin } from '@platformatic/kafka'
import { type EmbeddedPg, startEmbeddedPg } from '../adapters/embedded-pg.ts'
import { createPgClient, type Sql } from '../adapters/pg-client.ts'
import { migrate } from '../adapters/pg-migrate.ts'

/** Real PostgreSQL and Kafka on loopback for tests and benchmarks, started with the project's own tools. */
const repo = resolve(import.meta.dir, '../..')

export type LocalPg = { url: string; server: EmbeddedPg | undefined }
export type LocalKafka = { brokers: string[]; stop(): Promise<void> }

/**
 * `given` if set, else an embedded server in `.pas/<name>`: the one already running on that folder
 * (another process, or a kept earlier run), else a new one on a port the OS picks.
 */
export async function localPg(name: string, given?: string): Promise<LocalPg> {
  if (given) return { url: given, server: undefined }
  const server = await startEmbeddedPg({ dataDir: join(repo, '.pas', name), port: freePort(), database: 'postgres' })
  return { url: server.url, server }
}

const kafkaHome = join(repo, '.cache', 'kafka')

/**
 * One tools/kafka.sh broker of this checkout on two ports the OS picked (listener, controller),
 * recorded in `.cache/kafka/<name>.ports` so a later call, in this or another process, finds the
 * broker while it runs. Its data and files go when it is stopped.
 */
function kafkaBroker(name: string) {
  const record = join(kafkaHome, `${name}.ports`)
  const recorded = existsSync(record) ? readFileSync(record, 'utf8').trim().split(' ').map(Number) : []
  const [port, controller] = recorded.length === 2 ? (recorded as [number, number]) : freePorts(2)
  const sh = (command: string) =>
    Bun.spawn(['bash', join(repo, 'tools', 'kafka.sh'), command], {
      env: { ...process.env, KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(controller) },
      stdout: 'ignore',
      stderr: 'inherit',
    }).exited
  const files = [`data-${port}`, ...['log', 'out', 'pid'].map((x) => `kafka-${port}.${x}`), `server-${port}.properties`]
  return {
    brokers: [`127.0.0.1:${port}`],
    running: async () => (await sh('status')) === 0,
    start: async () => {
      mkdirSync(kafkaHome, { recursive: true })
      writeFileSync(record, `${port} ${controller}`)
      if ((await sh('start')) !== 0) throw new Error('could not start Kafka with tools/kafka.sh (see its output above)')
    },
    stop: () => sh('stop'),
    remove: () => {
      for (const f of [...files, `${name}.ports`]) rmSync(join(kafkaHome, f), { recursive: true, force: true })
    },
  }
}

/**
 * `given` if set, else this checkout's broker `name`: the running one, or a new one. stop() stops
 * and removes it only if this call started it.
 */
export async function localKafka(name: string, given?: string): Promise<LocalKafka> {
  if (given) return { brokers: given.split(','), stop: async () => {} }
  let broker = kafkaBroker(name)
  const wasRunning = await broker.running()
  if (!wasRunning) {
    broker.remove() // what a broker of that name left after a crash
    broker = kafkaBroker(name)
    await broker.start()
  }
  return {
    brokers: broker.brokers,
    stop: async () => {
      if (wasRunning) return
      await broker.stop()
      broker.remove()
    },
  }
}

/**
 * A broker of one test's own, started fresh and removed (data and files) by stop(): for suites
 * that stop the broker. pause() stops it keeping its data (an outage); resume() restarts it.
 */
export async function ownKafka(): Promise<LocalKafka & { pause(): Promise<void>; resume(): Promise<void> }> {
  const broker = kafkaBroker(`own-${process.pid}-${Date.now().toString(36)}`)
  await broker.start()
  return {
    brokers: broker.brokers,
    pause: async () => {
      await broker.stop()
    },
    resume: () => broker.start(),
    stop: async () => {
      await broker.stop()
      broker.remove()
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
export const freePort = (): number => freePorts(1)[0] as number

/** `count` distinct loopback ports free at the time of the call (the OS picks them). */
export function freePorts(count: number): number[] {
  const sockets = Array.from({ length: count }, () =>
    Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } }),
  )
  const ports = sockets.map((s) => s.port)
  for (const s of sockets) s.stop(true)
  return ports
}

/** The topics named `prefix`…, sorted: a test run's namespace (see namespaced()). */
export async function kafkaTopics(brokers: readonly string[], prefix: string): Promise<string[]> {
  const admin = new Admin({ clientId: 'pas-test-topics', bootstrapBrokers: [...brokers] })
  try {
    return (await admin.listTopics()).filter((t) => t.startsWith(prefix)).sort()
  } finally {
    await admin.close()
  }
}

/** Deletes the topics named `prefix`…, so a long-lived broker does not keep every run's topics. */
export async function dropKafkaTopics(brokers: readonly string[], prefix: string): Promise<void> {
  const topics = await kafkaTopics(brokers, prefix)
  if (topics.length === 0) return
  const admin = new Admin({ clientId: 'pas-test-cleanup', bootstrapBrokers: [...brokers] })
  try {
    await admin.deleteTopics({ topics })
  } finally {
    await admin.close()
  }
}
