/**
 * Builds the single `pas` executable: `bun tools/build.ts [outfile]` (default dist/pas).
 *
 * Why a script and not `bun build --compile` alone: @platformatic/kafka's wasm helpers read
 * `native.wasm` beside their own file at import time, and inside a compiled binary that path is
 * in Bun's virtual file system. The package ships `@platformatic/wasm-utils/bundled`, the same code
 * with the wasm inlined, and this plugin points the import there. No --minify: Elysia's
 * ahead-of-time compilation reads handler source (elysiajs/elysia #740, #1711).
 */
import type { BunPlugin } from 'bun'
import { buildDashboard } from '../src/http/dashboard.ts'

const outfile = process.argv[2] ?? 'dist/pas'

const inlineWasm: BunPlugin = {
  name: 'inline-platformatic-wasm',
  setup(build) {
    build.onResolve({ filter: /^@platformatic\/wasm-utils$/ }, () => ({
      path: Bun.resolveSync('@platformatic/wasm-utils/bundled', import.meta.dir),
    }))
  },
}

// The dashboard is built first and embedded as a string: a binary has no sources to build it from.
const dashboard = await buildDashboard()
const embedDashboard: BunPlugin = {
  name: 'embed-dashboard',
  setup(build) {
    build.onLoad({ filter: /dashboard-prebuilt\.ts$/ }, () => ({
      contents: `export const PREBUILT_DASHBOARD = ${JSON.stringify(dashboard)}`,
      loader: 'ts',
    }))
  },
}

const result = await Bun.build({
  // The valuation and query pools' workers are entry points of their own (Bun bundles each one separately).
  entrypoints: [
    `${import.meta.dir}/../src/main.ts`,
    `${import.meta.dir}/../src/valuation-worker.ts`,
    `${import.meta.dir}/../src/query-worker.ts`,
  ],
  compile: { outfile },
  target: 'bun',
  plugins: [inlineWasm, embedDashboard],
})
if (!result.success) {
  for (const message of result.logs) console.error(message)
  process.exit(1)
}
console.log(`built ${outfile}`)
