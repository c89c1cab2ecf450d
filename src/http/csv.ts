/**
 * RFC 4180 CSV: a header row of field names, then one record per row. Quoted fields may hold
 * commas, quotes ("") and line breaks; an empty cell leaves the field out of the record.
 */
export function parseCsv(text: string): Record<string, string>[] {
  const rows = csvRows(text)
  const header = rows.shift()
  if (!header) return []
  return rows
    .filter((row) => !(row.length === 1 && row[0] === ''))
    .map((row) => {
      const record: Record<string, string> = {}
      header.forEach((name, i) => {
        const cell = row[i]
        if (cell !== undefined && cell !== '') record[name.trim()] = cell
      })
      return record
    })
}

function csvRows(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"'
        i++
      } else if (c === '"') quoted = false
      else cell += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(cell)
      cell = ''
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++
      row.push(cell)
      rows.push(row)
      row = []
      cell = ''
    } else cell += c
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell)
    rows.push(row)
  }
  return rows
}
