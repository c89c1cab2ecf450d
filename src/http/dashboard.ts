import { join } from 'node:path'
import { gzipSync } from 'bun'
import { Elysia } from 'elysia'
import { PREBUILT_DASHBOARD } from './dashboard-prebuilt.ts'

/**
 * The dashboard (src/dashboard/) built into one HTML file: its script and styles inlined and
 * minified by Bun's bundler, so the page needs nothing but this one answer (no CDN, no font).
 */
export async function buildDashboard(): Promise<string> {
  const result = await Bun.build({
    entrypoints: [join(import.meta.dir, '..', 'dashboard', 'index.html')],
    target: 'browser',
    compile: true,
    minify: true,
  })
  const page = result.outputs[0]
  if (!result.success || !page) throw new AggregateError(result.logs, 'the dashboard did not build')
  return page.text()
}

type Page = { html: Uint8Array; gzip: Uint8Array; etag: string }

let built: Promise<Page> | undefined
/** The page, built once per process (or taken from the binary), and its gzip encoding. */
function dashboardPage(): Promise<Page> {
  built ??= (async () => {
    const html = new TextEncoder().encode(PREBUILT_DASHBOARD ?? (await buildDashboard()))
    return { html, gzip: gzipSync(html), etag: `"${Bun.hash(html).toString(36)}"` }
  })().catch((error: unknown) => {
    built = undefined // a failed build is tried again on the next request
    throw error
  })
  return built
}

/**
 * `GET /`: the dashboard, served by the api role like /docs: anyone may load the page (it holds no
 * data), and everything it shows comes from the API through the same key checks as any client.
 * Gzip when the browser takes it; an unchanged page is a 304.
 */
export const dashboardRoutes = () =>
  new Elysia({ name: 'dashboard' }).get(
    '/',
    async ({ request }) => {
      const page = await dashboardPage()
      const headers: Record<string, string> = {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-cache',
        etag: page.etag,
        vary: 'accept-encoding',
      }
      if (request.headers.get('if-none-match') === page.etag) return new Response(null, { status: 304, headers })
      if (/\bgzip\b/.test(request.headers.get('accept-encoding') ?? '')) {
        return new Response(page.gzip, { headers: { ...headers, 'content-encoding': 'gzip' } })
      }
      return new Response(page.html, { headers })
    },
    { detail: { hide: true } },
  )
