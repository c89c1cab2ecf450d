/**
 * The dashboard's entry: a hash router (#/ the list, #/p/<id> a portfolio), the light/dark theme,
 * the API key prompt and the CSV upload. Served by the api role at `/` (src/http/dashboard.ts).
 */
import { ApiError, forgetKey, hasKey, onKeyNeeded } from './api.ts'
import { byId, h } from './dom.ts'
import { listPage } from './list.ts'
import { portfolioPage } from './portfolio.ts'
import { uploader } from './upload.ts'

const locale = navigator.language
const THEME = 'pas.theme'

function applyTheme(theme: 'light' | 'dark') {
  document.documentElement.dataset.theme = theme
  const button = document.getElementById('theme')
  if (button) {
    button.setAttribute('aria-pressed', String(theme === 'dark'))
    button.textContent = theme === 'dark' ? 'Light theme' : 'Dark theme'
  }
}

function keyPrompt(reason: string): Promise<string | undefined> {
  const dialog = byId<HTMLDialogElement>('key-dialog')
  const input = byId<HTMLInputElement>('key-input')
  byId('key-reason').textContent = reason
  input.value = ''
  dialog.showModal()
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => resolve(dialog.returnValue === 'ok' && input.value.trim() !== '' ? input.value.trim() : undefined),
      { once: true },
    )
  })
}

let current: AbortController | undefined
async function route() {
  current?.abort()
  const controller = new AbortController()
  current = controller
  const main = byId('main')
  main.setAttribute('aria-busy', 'true')
  const match = /^#\/p\/(.+)$/.exec(location.hash)
  try {
    if (match?.[1]) {
      const id = decodeURIComponent(match[1])
      document.title = `${id} · pas`
      await portfolioPage(main, id, locale, controller.signal)
    } else {
      document.title = 'Portfolios · pas'
      await listPage(main, locale, controller.signal)
    }
  } catch (error) {
    if (controller.signal.aborted) return
    const message = error instanceof ApiError ? `${error.status}: ${error.message}` : (error as Error).message
    main.replaceChildren(
      h('h1', {}, 'Something went wrong'),
      h('p', { class: 'problem', role: 'alert' }, message),
      h('p', {}, h('a', { href: '#/' }, 'Back to the list')),
    )
  } finally {
    if (!controller.signal.aborted) main.removeAttribute('aria-busy')
  }
}

const stored = localStorage.getItem(THEME)
applyTheme(
  stored === 'dark' || stored === 'light'
    ? stored
    : matchMedia('(prefers-color-scheme: dark)').matches
      ? 'dark'
      : 'light',
)
byId('theme').addEventListener('click', () => {
  const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark'
  localStorage.setItem(THEME, next)
  applyTheme(next)
  void route()
})
const signOut = byId('sign-out')
signOut.hidden = !hasKey()
signOut.addEventListener('click', () => {
  forgetKey()
  signOut.hidden = true
  void route()
})
onKeyNeeded(async (reason) => {
  const key = await keyPrompt(reason)
  signOut.hidden = !key
  return key
})
byId('upload').replaceChildren(uploader(byId('upload-results')))
addEventListener('hashchange', () => void route())
void route()
