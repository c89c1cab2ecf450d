/**
 * Sortable tables: a button in each column header (keyboard: Tab, Enter), `aria-sort` on the
 * sorted column, numbers right-aligned. Rows may be grouped (holdings by asset class): groups keep
 * their order and rows sort within them.
 */
import { type SortKey, sortRows } from './derive.ts'
import { type Child, h } from './dom.ts'

export type Column<T> = {
  label: string
  /** What the column sorts by; omitted: not sortable. */
  key?: SortKey<T>
  cell: (row: T) => Child
  numeric?: boolean
  /** A convention or definition, shown on hover. */
  title?: string
}

export type TableOptions<T> = {
  caption: string
  sort?: { column: number; direction: 'asc' | 'desc' }
  group?: (row: T) => string
  groupLabel?: (group: string, rows: T[]) => Child
  empty?: string
  /** The table's id (its data-testid): its chosen sort outlives a redraw. */
  id?: string
}

/** The sort a person chose, per table id: a table drawn again with fresher figures keeps it. */
const chosen = new Map<string, { column: number; direction: 'asc' | 'desc' }>()

export function table<T>(columns: Column<T>[], rows: T[], options: TableOptions<T>): HTMLTableElement {
  let sort = (options.id ? chosen.get(options.id) : undefined) ?? options.sort
  const body = h('tbody')
  const head = h('tr')
  const fill = () => {
    const groups = Map.groupBy(rows, (row) => options.group?.(row) ?? '')
    const out: Node[] = []
    for (const [group, members] of groups) {
      if (options.group) {
        out.push(
          h(
            'tr',
            { class: 'group' },
            h('th', { colspan: columns.length, scope: 'rowgroup' }, options.groupLabel?.(group, members) ?? group),
          ),
        )
      }
      const key = sort ? columns[sort.column]?.key : undefined
      const ordered = sort && key ? sortRows(members, key, sort.direction) : members
      for (const row of ordered) {
        out.push(h('tr', {}, ...columns.map((c) => h('td', { class: c.numeric ? 'num' : null }, c.cell(row)))))
      }
    }
    if (rows.length === 0) {
      out.push(h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, options.empty ?? 'Nothing yet')))
    }
    body.replaceChildren(...out)
    head.replaceChildren(
      ...columns.map((c, i) => {
        const sorted = sort?.column === i ? (sort.direction === 'asc' ? 'ascending' : 'descending') : null
        const label = c.title ? h('span', { title: c.title }, c.label) : c.label
        const content = c.key
          ? h(
              'button',
              {
                type: 'button',
                class: 'sort',
                onclick: () => {
                  // Numbers first largest, text first A to Z; a second click turns it round.
                  const first = c.numeric ? 'desc' : 'asc'
                  const direction = sort?.column === i ? (sort.direction === 'asc' ? 'desc' : 'asc') : first
                  sort = { column: i, direction }
                  if (options.id) chosen.set(options.id, sort)
                  fill()
                  // The header is drawn again: keep the keyboard on this column's button.
                  head
                    .querySelectorAll<HTMLButtonElement>('button.sort')
                    [columns.slice(0, i).filter((x) => x.key).length]?.focus()
                },
              },
              label,
              h(
                'span',
                { class: 'arrow', 'aria-hidden': 'true' },
                sorted === 'ascending' ? '▲' : sorted === 'descending' ? '▼' : '',
              ),
            )
          : label
        return h('th', { scope: 'col', class: c.numeric ? 'num' : null, 'aria-sort': sorted }, content)
      }),
    )
  }
  fill()
  return h(
    'table',
    { 'data-testid': options.id ?? null },
    h('caption', {}, options.caption),
    h('thead', {}, head),
    body,
  )
}
