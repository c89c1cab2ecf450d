import { describe, expect, test } from 'bun:test'
import { type CsvError, readCsv } from './csv.ts'

const PRICE = ['securityId', 'date', 'price', 'currency']
type Rows = Record<string, string>[]
const streamOf = (text: string, chunk = 7) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      const bytes = new TextEncoder().encode(text)
      for (let i = 0; i < bytes.length; i += chunk) controller.enqueue(bytes.slice(i, i + chunk))
      controller.close()
    },
  })
const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: CsvError) => ({ status: e.status, field: e.field, message: e.message }),
  )

describe('readCsv', () => {
  test('maps rows to records by the header; empty cells are left out; CRLF and LF both end a row', async () => {
    const text = 'securityId,date,price,currency\r\nAAPL,2025-01-02,187.5,USD\nSAP,2025-01-02,,EUR\n'
    const want: Rows = [
      { securityId: 'AAPL', date: '2025-01-02', price: '187.5', currency: 'USD' },
      { securityId: 'SAP', date: '2025-01-02', currency: 'EUR' },
    ]
    expect(await readCsv(text, PRICE, 10)).toEqual(want)
    expect(await readCsv(streamOf(text), PRICE, 10)).toEqual(want) // in 7-byte chunks, split mid-row
  })

  test('a byte-order mark is skipped; quoted cells keep commas, doubled quotes and line breaks', async () => {
    expect(await readCsv('\uFEFFsecurityId,price\n"Acme, ""A""\nInc.",1\n', PRICE, 10)).toEqual([
      { securityId: 'Acme, "A"\nInc.', price: '1' },
    ])
  })

  test('a header alone gives no records', async () => {
    expect(await readCsv('securityId,price\n', PRICE, 10)).toEqual([])
    expect(await readCsv('', PRICE, 10)).toEqual([])
  })

  test('unknown or repeated columns are refused whole, naming them', async () => {
    expect(await refusal(readCsv('securityId,colour,price\nA,red,1\n', PRICE, 10))).toMatchObject({
      status: 422,
      field: 'colour',
    })
    expect(await refusal(readCsv('securityId,price,price\nA,1,2\n', PRICE, 10))).toMatchObject({
      status: 422,
      field: 'price',
      message: 'column(s) given twice: price',
    })
  })

  test('more rows than allowed stop the read with 413; a row of the wrong width is 422', async () => {
    const rows = `securityId,price\n${'A,1\n'.repeat(50_000)}`
    expect(await refusal(readCsv(streamOf(rows, 4096), PRICE, 100))).toMatchObject({ status: 413 })
    expect(await refusal(readCsv('securityId,price\nA,1,2\n', PRICE, 10))).toMatchObject({ status: 422 })
  })
})
