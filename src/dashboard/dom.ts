/** A small element builder: h('td', { class: 'num' }, '12.3 %'). Children may be text, nodes or nothing. */
export type Child = Node | string | number | null | undefined | false
type Attrs = Record<string, string | number | boolean | EventListener | null | undefined>

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value)
    else if (value === true) el.setAttribute(name, '')
    else el.setAttribute(name, String(value))
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    el.append(child instanceof Node ? child : String(child))
  }
  return el
}

/** Replaces what `parent` shows. */
export const show = (parent: Element, ...children: Child[]) => {
  parent.replaceChildren(
    ...children
      .filter((c): c is Node | string => c !== null && c !== undefined && c !== false)
      .map((c) => (c instanceof Node ? c : String(c))),
  )
}

/** The element with this id; a missing one is a bug in index.html. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id)
  if (!el) throw new Error(`#${id} is missing from the page`)
  return el as T
}

/** A class name for a gain (pos), a loss (neg) or nothing. */
export const tone = (s: -1 | 0 | 1) => (s > 0 ? 'pos' : s < 0 ? 'neg' : '')

/** How to find an element again in content drawn anew: a named control, or a table header's button. */
function selectorOf(el: Element | null, within: Element): string | undefined {
  if (!el || !within.contains(el)) return undefined
  const name = el.getAttribute('name')
  if (name) return `${el.tagName.toLowerCase()}[name="${CSS.escape(name)}"]`
  const th = el.closest('th')
  const table = el.closest('[data-testid]')
  if (el.tagName === 'BUTTON' && th && table) {
    const index = [...(th.parentElement?.children ?? [])].indexOf(th) + 1
    return `[data-testid="${CSS.escape(table.getAttribute('data-testid') ?? '')}"] th:nth-child(${index}) button`
  }
  return undefined
}

/** Runs `redraw` (which replaces what `within` shows); the control that had the focus has it again. */
export function keepFocus(within: Element, redraw: () => void) {
  const selector = selectorOf(document.activeElement, within)
  redraw()
  if (selector) within.querySelector<HTMLElement>(selector)?.focus()
}
