import { appendFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import pkg from '../package.json' with { type: 'json' }
import { PROCESS_TAG } from './adapters/pg-client.ts'
import { PgKeyStore } from './adapters/pg-keys.ts'
import { migrate } from './adapters/pg-migrate.ts'
import { compose, type Deps, isTransient, openDatabase } from './compose.ts'
import { type Config, describeSources, loadConfig } from './config.ts'
import { demo } from './demo/demo.ts'
import { ConfigError, worthRetrying } from './errors.ts'
import { createApp } from './http/app.ts'
import { createGuard, isLoopback } from './http/auth.ts'
import type { KeyStore } from './ports/key-store.ts'
import { Roles } from './role-names.ts'
import { partsFor, planFor } from './roles.ts'
import { createLogger, type Logger } from './runtime/logger.ts'
import { MemoryGuard } from './runtime/memory-guard.ts'
import { Metrics } from './runtime/metrics.ts'
import { RoleService } from './runtime/role-service.ts'
import { manageKeys } from './tools/keys.ts'
import { createTopics, ingestFiles, listDeadLetters, replayDeadLetters, reprocess } from './tools/ops.ts'
import { topicSpecs } from './topology.ts'

/** How long an idle consumer waits in poll; also the upper bound on how long a drain waits for it. */
const POLL_WAIT_MS = 500

/** The binary: `pas [command] [--flags]` (see usage()). Returns the process exit code. */
export async function main(argv: readonly string[], env: Record<string, string | undefined>): Promise<number> {
  let config: Config
  const { configArgv, tool } = splitToolArgs(argv)
  try {
    config = loadConfig(env, configArgv)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`pas: ${error.message}\nRun \`pas --help\` for the settings.\n`)
    return 2
  }
  const logger = createLogger(config.logLevel, { role: config.role, pid: process.pid })
  switch (config.command) {
    case 'help':
      process.stdout.write(usage())
      return 0
    case 'version':
      process.stdout.write(`pas ${pkg.version} (bun ${Bun.version})\n`)
      return 0
    case 'migrate':
      return migrateOnly(config, logger)
    case 'run':
      return run(config, logger)
    case 'demo': {
      // The terminal shows the demo's progress and results; its logs go to a file beside the data.
      mkdirSync(config.dataDir, { recursive: true })
      const logFile = join(config.dataDir, 'demo.log')
      const fileLogger = createLogger(config.logLevel, { role: 'all', pid: process.pid }, (line) =>
        appendFileSync(logFile, line),
      )
      return demo(config, fileLogger, start, { headless: tool.flags.headless === true, logFile })
    }
    case 'topics':
    case 'ingest':
    case 'dead-letters':
    case 'reprocess':
    case 'keys':
      return runTool(config, logger, tool)
    default:
      return config.command satisfies never
  }
}

async function migrateOnly(config: Config, logger: Logger): Promise<number> {
  const db = await openDatabase(config, logger)
  try {
    logger.info('migrations applied', { applied: await migrate(db.sql) })
  } finally {
    await db.close()
  }
  return 0
}

/** A running pas process: its URL, its dependencies, and a way to stop it as a signal would. */
export type Running = {
  url: string
  deps: Deps
  /** Resolves with the exit code once the process has drained and released everything. */
  finished: Promise<number>
  shutdown(reason: string): Promise<void>
}

async function run(config: Config, logger: Logger): Promise<number> {
  try {
    return await (await start(config, logger)).finished
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`pas: ${error.message}\n`)
    return 2
  }
}

/** Until `stopped` says so, runs `step` with capped, doubling back-off while it fails transiently (an outage). */
async function untilAvailable(
  what: string,
  step: () => Promise<void>,
  logger: Logger,
  stopped: () => boolean,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await step()
    } catch (error) {
      if (!worthRetrying(error, isTransient) || stopped()) throw error
      const delayMs = Math.min(5_000, 100 * 2 ** attempt)
      logger.warn(`${what}: dependency unreachable, retrying`, { attempt, delayMs, error })
      await Bun.sleep(delayMs)
    }
  }
}

/**
 * Off loopback, pas serves only with keys: `auto` refuses to start until a key exists, and `open`
 * (the explicit way round) is logged as an error at every start.
 */
async function refuseOpenExposure(config: Config, deps: Deps, keys: KeyStore, logger: Logger): Promise<void> {
  const exposed = !isLoopback(config.httpHost)
  if (config.auth === 'open') {
    const log = exposed ? logger.error.bind(logger) : logger.warn.bind(logger)
    log('AUTH IS OFF (--auth open): anyone who reaches this address can read and write everything', {
      host: config.httpHost,
    })
    return
  }
  if (exposed && config.auth === 'auto' && !(await keys.anyActive())) {
    await deps.close()
    throw new ConfigError([
      `--host ${config.httpHost} is not loopback and no API key exists: create one with \`pas keys create\`, or pass --auth open to serve without keys`,
    ])
  }
}

/**
 * The metrics of this process: its stages' counters, the lag of the groups it consumes in
 * (`groups`, filled once its roles' stages exist), the dead letters stored, and its own PostgreSQL
 * connections (src/runtime/metrics.ts).
 */
function processMetrics(
  config: Config,
  deps: Deps,
  groups: readonly { group: string; topics: readonly string[] }[],
): Metrics {
  const { sql } = deps.db
  return new Metrics(config.role, {
    lag: async () =>
      (
        await Promise.all(
          groups.map(async ({ group, topics }) =>
            (await deps.eventLog.lag(group, topics)).map((l) => ({ group, ...l })),
          ),
        )
      ).flat(),
    deadLetters: () =>
      sql<{ stage: string; count: number }[]>`
      select stage, count(*)::int as count from dead_letters group by stage`.execute(),
    connections: () =>
      sql<{ state: string; count: number }[]>`
      select coalesce(state, 'unknown') as state, count(*)::int as count from pg_stat_activity
      where application_name like ${`%${PROCESS_TAG}`} group by 1`.execute(),
  })
}

/**
 * Starts the role(s) of `config` and their HTTP server; SIGTERM and SIGINT drain and stop them.
 * The signal handlers come first: a signal during start-up lets start-up finish, then drains and
 * exits 0 like any other stop.
 */
export async function start(config: Config, logger: Logger): Promise<Running> {
  let signalled: string | undefined
  let onSignal = (signal: string) => {
    signalled ??= signal
    logger.info('signal during start-up: stopping once started', { signal })
  }
  process.once('SIGTERM', () => onSignal('SIGTERM'))
  process.once('SIGINT', () => onSignal('SIGINT'))

  const plan = planFor(config.role)
  const deps = await compose(config, logger)
  if (plan.setupOnStart) {
    await untilAvailable(
      'migrations and topics',
      async () => {
        const applied = await migrate(deps.db.sql)
        if (applied.length > 0) logger.info('migrations applied', { applied })
        await deps.eventLog.ensureTopics(topicSpecs(config.partitions))
      },
      logger,
      () => signalled !== undefined,
    )
  }
  const keys = new PgKeyStore(deps.db.sql)
  await refuseOpenExposure(config, deps, keys, logger)
  const policy = { maxRecords: config.batchMaxRecords, maxWaitMs: POLL_WAIT_MS, isTransient }
  const groups: { group: string; topics: readonly string[] }[] = []
  const metrics = processMetrics(config, deps, groups)
  const memory = new MemoryGuard({
    targetBytes: config.memoryTargetMb * 1024 * 1024,
    onCollect: (seconds) => metrics.collected(seconds),
  }).start()
  const parts = plan.members.map((role) => ({ role, ...partsFor(role, deps, metrics) }))
  groups.push(...parts.flatMap((p) => p.stages.map((s) => ({ group: s.group, topics: s.inputs }))))
  const services = parts.map((p) => new RoleService(p.role, p.stages, deps.eventLog, policy, logger, metrics))
  for (const service of services) await service.start()

  const app = createApp({
    maxBodyBytes: config.maxBodyBytes,
    logError: (message, fields) => logger.error(message, fields),
    guard: createGuard({
      mode: config.auth,
      keys,
      bindHost: config.httpHost,
      allowedHosts: config.allowedHosts,
      allowedOrigins: config.allowedOrigins,
      rateLimit: config.rateLimit,
    }),
    metrics,
    role: config.role,
    transport: deps.eventLog.kind,
    version: pkg.version,
    startedAtMs: Date.now(),
    health: () => services.map((s) => s.health()),
    checkDependencies: async () => {
      await deps.db.sql`select 1`
      await deps.eventLog.ping?.()
    },
  })
  for (const route of parts.flatMap((p) => p.routes)) app.use(route)
  // Bun's own limit is a backstop for bodies that do not declare their length; the app answers the
  // declared ones with a 413 that has a body.
  app.listen({ hostname: config.httpHost, port: config.httpPort, maxRequestBodySize: config.maxBodyBytes + 1024 })
  const url = `http://${config.httpHost}:${app.server?.port}`
  logger.info('pas started', { url, transport: deps.eventLog.kind, roles: plan.members })

  let resolveFinished: (code: number) => void = () => {}
  const finished = new Promise<number>((resolve) => {
    resolveFinished = resolve
  })
  let exitCode = 0
  let stopping: Promise<void> | undefined
  const shutdown = (reason: string) => {
    stopping ??= (async () => {
      logger.info('shutting down: draining in-flight batches', { reason })
      // What the drain still waits for, named when it runs past its deadline.
      const waiting = new Set<string>()
      const step = async (name: string, work: () => Promise<unknown>) => {
        waiting.add(name)
        await work()
        waiting.delete(name)
      }
      const deadline = setTimeout(() => {
        logger.error('drain did not finish in time; exiting', {
          shutdownTimeoutMs: config.shutdownTimeoutMs,
          waitingFor: [...waiting],
        })
        resolveFinished(1)
      }, config.shutdownTimeoutMs)
      try {
        await step('http server', () => app.stop())
        await Promise.all(services.map((s) => step(s.name, () => s.stop())))
        for (const p of parts) await step(`${p.role} resources`, async () => p.close?.())
        await step('connections', () => deps.close())
        memory.stop()
        logger.info('stopped cleanly')
      } catch (error) {
        logger.error('error during shutdown', { error })
        exitCode = 1
      }
      clearTimeout(deadline)
      resolveFinished(exitCode)
    })()
    return stopping
  }
  onSignal = (signal) => void shutdown(signal)
  if (signalled !== undefined) void shutdown(signalled)
  for (const service of services) {
    service.done.catch((error: unknown) => {
      logger.error('service failed', { service: service.name, error })
      exitCode = 1
      void shutdown(`${service.name} failed`)
    })
  }
  return { url, deps, finished, shutdown }
}

/** Flags that belong to a tool command rather than to the configuration. */
const TOOL_FLAGS: Record<string, 'boolean' | 'string'> = {
  '--headless': 'boolean',
  '--kind': 'string',
  '--url': 'string',
  '--id': 'string',
  '--stage': 'string',
  '--all': 'boolean',
  '--from': 'string',
  '--security': 'string',
  '--name': 'string',
  '--scopes': 'string',
  '--clients': 'string',
  '--key': 'string',
}
const TOOLS = new Set(['demo', 'topics', 'ingest', 'dead-letters', 'reprocess', 'keys'])
type ToolArgs = { args: string[]; flags: Record<string, string | true> }

/** For tool commands, takes the tool's own flags and arguments out; the rest is configuration. */
export function splitToolArgs(argv: readonly string[]): { configArgv: string[]; tool: ToolArgs } {
  const tool: ToolArgs = { args: [], flags: {} }
  const command = argv.find((a) => !a.startsWith('--'))
  if (command === undefined || !TOOLS.has(command)) return { configArgv: [...argv], tool }
  const configArgv: string[] = []
  let seenCommand = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const eq = arg.indexOf('=')
    const flag = eq === -1 ? arg : arg.slice(0, eq)
    const kind = TOOL_FLAGS[flag]
    if (kind === 'boolean') tool.flags[flag.slice(2)] = true
    else if (kind === 'string') tool.flags[flag.slice(2)] = eq === -1 ? (argv[++i] ?? '') : arg.slice(eq + 1)
    else if (arg.startsWith('--')) {
      configArgv.push(arg)
      if (eq === -1 && argv[i + 1] !== undefined) configArgv.push(argv[++i] as string)
    } else if (!seenCommand) {
      seenCommand = true
      configArgv.push(arg)
    } else tool.args.push(arg)
  }
  return { configArgv, tool }
}

/** The operator tools: each opens what it needs from the configuration, does one thing, and exits. */
async function runTool(config: Config, logger: Logger, tool: ToolArgs): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`)
  const str = (name: string) => (typeof tool.flags[name] === 'string' ? (tool.flags[name] as string) : undefined)
  if (config.command === 'ingest') {
    const url = str('url') ?? `http://127.0.0.1:${config.httpPort}`
    const key = str('key') ?? process.env.PAS_API_KEY
    return ingestFiles(tool.args, { kind: str('kind'), url, chunk: Math.min(5000, config.ingestMaxRecords), key }, out)
  }
  if (config.command === 'keys') {
    const db = await openDatabase(config, logger)
    try {
      await migrate(db.sql)
      const list = (name: string) =>
        str(name)
          ?.split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
      return await manageKeys(
        new PgKeyStore(db.sql),
        tool.args[0],
        { name: str('name'), scopes: list('scopes'), clients: list('clients'), id: str('id') },
        out,
      )
    } finally {
      await db.close()
    }
  }
  const deps = await compose(config, logger)
  try {
    switch (config.command) {
      case 'topics':
        return await createTopics(deps.eventLog, config.partitions, out)
      case 'dead-letters': {
        const [action = 'list'] = tool.args
        if (action === 'list')
          return await listDeadLetters(deps.db.sql, { stage: str('stage'), all: tool.flags.all === true }, out)
        if (action === 'replay') {
          const ids = str('id')
            ?.split(',')
            .map((s) => s.trim())
          return await replayDeadLetters(deps.db.sql, deps.eventLog, { ids, stage: str('stage') }, out)
        }
        out(`pas dead-letters: unknown action ${action} (list or replay)`)
        return 2
      }
      case 'reprocess':
        return await reprocess(
          deps.db.sql,
          deps.eventLog,
          { portfolioId: tool.args[0], from: str('from'), security: str('security') },
          out,
        )
      default:
        return 2
    }
  } finally {
    await deps.close()
  }
}

function usage(): string {
  const rows = describeSources().map(
    (s) => `  ${s.flag.padEnd(22)} ${s.env.padEnd(24)} ${s.about}${s.default === undefined ? '' : ` [${s.default}]`}`,
  )
  return [
    `pas ${pkg.version}: portfolio analytics as a stream processor`,
    '',
    'Usage: pas [command] [--flag value ...]',
    '  run                       start the role(s) chosen by --role (default command)',
    '  migrate                   apply the SQL migrations to the database and exit',
    '  demo [--headless]         start everything, load the sample data, print a review, keep serving',
    '  topics                    create the topics with --partitions partitions (idempotent)',
    '  ingest FILE... [--kind K] [--url U]   post JSON or CSV files to a running ingest API',
    '  dead-letters list [--stage S] [--all]           list dead letters (not yet replayed)',
    '  dead-letters replay --id N[,N...] | --stage S|any   append them to their topic again',
    '  reprocess PORTFOLIO --from DATE [--security S]  recompute positions, valuations and series',
    '  keys create --name N --scopes read,ingest,admin [--clients C1,C2]   create an API key (printed once)',
    '  keys list | keys revoke --id KEY_ID                manage API keys',
    '',
    `Roles: ${Roles.join(', ')} (all = every role in one process)`,
    '',
    'Settings (flag, environment variable, meaning [default]); a flag beats the variable:',
    ...rows,
    '',
  ].join('\n')
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2), process.env).catch((error: unknown) => {
    // Start-up failed (database unreachable, port taken, ...): one clear line, not a stack trace.
    process.stderr.write(`pas: ${error instanceof Error ? error.message : String(error)}\n`)
    return 1
  })
  process.exit(code)
}
