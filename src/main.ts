import pkg from '../package.json' with { type: 'json' }
import { migrate } from './adapters/pg-migrate.ts'
import { compose, openDatabase } from './compose.ts'
import { type Config, describeSources, loadConfig } from './config.ts'
import { ConfigError } from './errors.ts'
import { createApp } from './http/app.ts'
import { partsFor, planFor, Roles } from './roles.ts'
import { createLogger, type Logger } from './runtime/logger.ts'
import { RoleService } from './runtime/role-service.ts'
import { topicSpecs } from './topology.ts'

/** How long an idle consumer waits in poll; also the upper bound on how long a drain waits for it. */
const POLL_WAIT_MS = 500

/** The binary: `pas [run|migrate|help|version] [--flags]`. Returns the process exit code. */
export async function main(argv: readonly string[], env: Record<string, string | undefined>): Promise<number> {
  let config: Config
  try {
    config = loadConfig(env, argv)
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

async function run(config: Config, logger: Logger): Promise<number> {
  const plan = planFor(config.role)
  const deps = await compose(config, logger)
  if (plan.setupOnStart) {
    const applied = await migrate(deps.db.sql)
    if (applied.length > 0) logger.info('migrations applied', { applied })
    await deps.eventLog.ensureTopics(topicSpecs(config.partitions))
  }
  const policy = { maxRecords: config.batchMaxRecords, maxWaitMs: POLL_WAIT_MS }
  const parts = plan.members.map((role) => ({ role, ...partsFor(role, deps) }))
  const services = parts.map((p) => new RoleService(p.role, p.stages, deps.eventLog, policy, logger))
  for (const service of services) await service.start()

  const app = createApp({
    role: config.role,
    transport: deps.eventLog.kind,
    version: pkg.version,
    startedAtMs: Date.now(),
    health: () => services.map((s) => s.health()),
    checkDependencies: async () => {
      await deps.db.sql`select 1`
    },
  })
  for (const route of parts.flatMap((p) => p.routes)) app.use(route)
  app.listen({ hostname: config.httpHost, port: config.httpPort, maxRequestBodySize: config.maxBodyBytes })
  const url = `http://${config.httpHost}:${app.server?.port}`
  logger.info('pas started', { url, transport: deps.eventLog.kind, roles: plan.members })

  return new Promise<number>((resolve) => {
    let exitCode = 0
    let stopping = false
    const shutdown = async (reason: string) => {
      if (stopping) return
      stopping = true
      logger.info('shutting down: draining in-flight batches', { reason })
      const deadline = setTimeout(() => {
        logger.error('drain did not finish in time; exiting', { shutdownTimeoutMs: config.shutdownTimeoutMs })
        resolve(1)
      }, config.shutdownTimeoutMs)
      try {
        await app.stop()
        await Promise.all(services.map((s) => s.stop()))
        for (const p of parts) await p.close?.()
        await deps.close()
        logger.info('stopped cleanly')
      } catch (error) {
        logger.error('error during shutdown', { error })
        exitCode = 1
      }
      clearTimeout(deadline)
      resolve(exitCode)
    }
    process.once('SIGTERM', () => shutdown('SIGTERM'))
    process.once('SIGINT', () => shutdown('SIGINT'))
    for (const service of services) {
      service.done.catch((error: unknown) => {
        logger.error('service failed', { service: service.name, error })
        exitCode = 1
        void shutdown(`${service.name} failed`)
      })
    }
  })
}

function usage(): string {
  const rows = describeSources().map(
    (s) => `  ${s.flag.padEnd(22)} ${s.env.padEnd(24)} ${s.about}${s.default === undefined ? '' : ` [${s.default}]`}`,
  )
  return [
    `pas ${pkg.version}: portfolio analytics as a stream processor`,
    '',
    'Usage: pas [run|migrate|help|version] [--flag value ...]',
    '  run       start the role(s) chosen by --role (default command)',
    '  migrate   apply the SQL migrations to the database and exit',
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
