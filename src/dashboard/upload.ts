/**
 * Drag a CSV of transactions, prices, benchmarks or benchmark segments onto the page (or pick one
 * with the button): it is posted as it is to the ingest API, the kind read from its header row,
 * and the answer is shown as the API gave it: how many records were accepted, and each rejected
 * row with its index (the API's: 0 is the first record, on line 2 of the file), field and message.
 */
import { ApiError, request } from './api.ts'
import { csvKind } from './derive.ts'
import { h } from './dom.ts'

type Rejected = { index: number; field: string; message: string }
type Answer = { ingestId: string; accepted: number; rejected: Rejected[] }

export function uploader(results: HTMLElement) {
  const send = async (file: File) => {
    const text = await file.text()
    const kind = csvKind(text.slice(0, text.indexOf('\n') === -1 ? undefined : text.indexOf('\n')))
    if (!kind) {
      results.replaceChildren(
        h(
          'p',
          { class: 'problem', role: 'alert' },
          `${file.name}: the header row names no known kind (transactionId, securityId and price, or benchmarkId).`,
        ),
      )
      return
    }
    results.replaceChildren(h('p', {}, `Sending ${file.name} as ${kind}…`))
    try {
      const response = await request(
        `/v1/ingest/${kind}`,
        { method: 'POST', headers: { 'content-type': 'text/csv' }, body: text },
        [422],
      )
      const answer = (await response.json()) as Answer
      results.replaceChildren(report(file.name, kind, answer))
    } catch (error) {
      const message = error instanceof ApiError ? `${error.status}: ${error.message}` : (error as Error).message
      results.replaceChildren(h('p', { class: 'problem', role: 'alert' }, `${file.name}: ${message}`))
    }
  }

  const input = h('input', {
    type: 'file',
    accept: '.csv,text/csv',
    class: 'visually-hidden',
    tabindex: -1,
    'aria-hidden': 'true',
    onchange: (e: Event) => {
      const file = (e.target as HTMLInputElement).files?.[0]
      if (file) void send(file)
      ;(e.target as HTMLInputElement).value = ''
    },
  })
  // The whole window takes a dropped file; the overlay says so while one is dragged over.
  let depth = 0
  const dragging = (on: boolean) => document.body.classList.toggle('dragging', on)
  document.addEventListener('dragenter', (e) => {
    if (!e.dataTransfer?.types.includes('Files')) return
    depth++
    dragging(true)
  })
  document.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1)
    if (depth === 0) dragging(false)
  })
  document.addEventListener('dragover', (e) => e.preventDefault())
  document.addEventListener('drop', (e) => {
    e.preventDefault()
    depth = 0
    dragging(false)
    const file = e.dataTransfer?.files[0]
    if (file) void send(file)
  })
  return h(
    'span',
    {},
    input,
    h(
      'button',
      { type: 'button', onclick: () => input.click(), title: 'Or drop a CSV file anywhere on the page' },
      'Upload CSV',
    ),
  )
}

function report(name: string, kind: string, answer: Answer) {
  const ok = answer.rejected.length === 0
  return h(
    'div',
    { role: ok ? 'status' : 'alert', 'data-testid': 'upload-result' },
    h(
      'p',
      { class: ok ? 'pos' : 'neg' },
      `${name} (${kind}): ${answer.accepted} accepted, ${answer.rejected.length} rejected · ingest ${answer.ingestId}`,
    ),
    ok
      ? null
      : h(
          'table',
          { 'data-testid': 'upload-errors' },
          h(
            'caption',
            {},
            'Rejected records: index as the API gives it (0 is the first record, on line 2 of the file)',
          ),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Index'),
              h('th', { scope: 'col' }, 'Line'),
              h('th', { scope: 'col' }, 'Field'),
              h('th', { scope: 'col' }, 'Message'),
            ),
          ),
          h(
            'tbody',
            {},
            ...answer.rejected.map((r) =>
              h(
                'tr',
                {},
                h('td', { class: 'num' }, r.index),
                h('td', { class: 'num' }, r.index + 2),
                h('td', {}, h('code', {}, r.field)),
                h('td', {}, r.message),
              ),
            ),
          ),
        ),
  )
}
