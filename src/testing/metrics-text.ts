/** The series of `name` in Prometheus text format whose labels include all of `labels`, as values. */
export function samples(text: string, name: string, labels: Record<string, string> = {}): number[] {
  const out: number[] = []
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const own = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]))
    if (Object.entries(labels).every(([k, v]) => own[k] === v)) out.push(Number(m[4]))
  }
  return out
}

/** The first such series' value. */
export const sample = (text: string, name: string, labels: Record<string, string> = {}): number | undefined =>
  samples(text, name, labels)[0]
