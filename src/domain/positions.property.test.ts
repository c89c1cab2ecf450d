import { describe, expect, test } from 'bun:test'
import { fromEpochDay, toEpochDay } from './dates.ts'
import { FxTable } from './market-data.ts'
import { dec } from './money.ts'
import { type FoldContext, primaryPosition, recompute, scopeOf } from './positions.ts'
import type { FxRate, Instrument, PositionRow, Transaction, TransactionType } from './records.ts'
import { applyCancels, cashPositionId } from './transactions.ts'

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its seed. */
function rng(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T,
    decimal: (max: number, dp: number) => (next() * max).toFixed(dp),
  }
}

const instruments = new Map<string, Instrument>([
  ['US1', { securityId: 'US1', name: 'US stock', currency: 'USD' }],
  // A second USD stock: a fold over US1 and its cash meets US2's trades, which move that cash.
  ['US2', { securityId: 'US2', name: 'US stock 2', currency: 'USD' }],
  ['EU1', { securityId: 'EU1', name: 'EU stock', currency: 'EUR' }],
  ['GB1', { securityId: 'GB1', name: 'UK stock', currency: 'GBP' }],
])
const currencyOf = (id: string) => instruments.get(id)?.currency as string
const START = toEpochDay('2025-01-01')
const types: TransactionType[] = ['BUY', 'BUY', 'BUY', 'SELL', 'SELL', 'DIVIDEND', 'FEE', 'DEPOSIT', 'WITHDRAWAL']
  .concat(['TRANSFER_IN', 'TRANSFER_OUT', 'SPLIT', 'INTEREST', 'TAX', 'CANCEL'])
  .map((t) => t as TransactionType)

function randomCase(seed: number) {
  const r = rng(seed)
  // EUR/USD given directly; GBP only as USD/GBP, so GBP/USD comes from the inverse. FX starts on day 3,
  // so early foreign trades are rejected for missing FX and later ones are not.
  const fx: FxRate[] = []
  for (let d = 3; d < 90; d += r.int(1, 9)) {
    fx.push({ from: 'EUR', to: 'USD', date: fromEpochDay(START + d), rate: r.decimal(0.4, 4).replace(/^0/, '1') })
    fx.push({ from: 'USD', to: 'GBP', date: fromEpochDay(START + d), rate: `0.${r.int(70, 85)}${r.int(10, 99)}` })
  }
  const txns: Transaction[] = []
  const count = r.int(5, 60)
  for (let i = 0; i < count; i++) {
    const type = r.pick(types)
    const securityId = r.pick([...instruments.keys()])
    const base: Transaction = {
      transactionId: `T${seed}-${i}`,
      portfolioId: 'P',
      type,
      tradeDate: fromEpochDay(START + r.int(0, 89)),
      currency: currencyOf(securityId),
    }
    const qty = r.next() < 0.3 ? r.decimal(50, 3) : String(r.int(1, 200))
    switch (type) {
      case 'BUY':
      case 'SELL': {
        const accrued = r.next() < 0.2 ? { accruedInterest: r.decimal(50, 2) } : {}
        txns.push({ ...base, securityId, quantity: qty, price: r.decimal(300, 4), fee: r.decimal(10, 2), ...accrued })
        break
      }
      case 'TRANSFER_IN':
      case 'TRANSFER_OUT':
        // A security moved at its price, or cash moved in any of the three currencies.
        if (r.next() < 0.7) txns.push({ ...base, securityId, quantity: qty, price: r.decimal(300, 2) })
        else txns.push({ ...base, grossAmount: r.decimal(5_000, 2), currency: r.pick(['USD', 'EUR', 'GBP']) })
        break
      case 'SPLIT':
        txns.push({ ...base, securityId, ratio: r.pick(['2', '3', '0.5', '1.5']) })
        break
      case 'DIVIDEND':
        txns.push({ ...base, securityId, grossAmount: r.decimal(500, 2), fee: r.decimal(20, 2) })
        break
      case 'CANCEL':
        if (txns.length > 0) txns.push({ ...base, cancels: r.pick(txns).transactionId })
        break
      default:
        txns.push({ ...base, grossAmount: r.decimal(20_000, 2), currency: r.pick(['USD', 'EUR', 'GBP']) })
    }
  }
  const ctx: FoldContext = {
    portfolio: {
      portfolioId: 'P',
      // A EUR base converts USD amounts through the inverse of EUR/USD; GBP amounts have no rate.
      baseCurrency: r.pick(['USD', 'USD', 'EUR']),
      openDate: '2025-01-01',
      costMethod: r.pick(['FIFO', 'AVCO'] as const),
      allowShort: r.next() < 0.3,
    },
    instruments,
    fx: FxTable.of(fx),
  }
  return { txns, ctx, cutDay: fromEpochDay(START + r.int(0, 90)), shuffleSeed: r.int(1, 1e9) }
}

/** The last row of each position dated before `day`: what the store holds as "state before D". */
function stateBefore(rows: readonly PositionRow[], day: string): PositionRow[] {
  const last = new Map<string, PositionRow>()
  for (const row of rows) if (row.date < day) last.set(row.positionId, row)
  return [...last.values()]
}

const CASES = Number(process.env.PAS_PROPERTY_CASES ?? 3000)

describe('recompute (property)', () => {
  test(`recomputing from any date on the stored state equals recomputing from the start (${CASES} random streams)`, () => {
    let rowsChecked = 0
    let rejectionsSeen = 0
    let straddles = 0
    for (let seed = 1; seed <= CASES; seed++) {
      const { txns, ctx, cutDay, shuffleSeed } = randomCase(seed)
      const { active, refused } = applyCancels(txns)
      const full = recompute([], active, ctx)
      full.rejections.push(...refused.map((x) => x.rejection))
      // What the position store loads from the cut on: the transactions dated from it, and every
      // CANCEL (one may straddle the cut, either way), with the types of all targets known.
      const typeOf = new Map(txns.map((t) => [t.transactionId, t.type]))
      const loaded = applyCancels(
        txns.filter((t) => t.tradeDate >= cutDay || t.type === 'CANCEL'),
        (id) => typeOf.get(id),
      )
      const fromCut = loaded.active.filter((t) => t.tradeDate >= cutDay)
      const dateOf = new Map(txns.map((t) => [t.transactionId, t.tradeDate]))
      for (const t of txns) {
        const target = t.type === 'CANCEL' ? dateOf.get(t.cancels ?? '') : undefined
        if (target !== undefined && t.tradeDate >= cutDay !== target >= cutDay) straddles++
      }
      const refusedFromCut = loaded.refused.filter((x) => x.cancel.tradeDate >= cutDay)
      const ids = new Set([...fromCut, ...refusedFromCut.map((x) => x.cancel)].map((t) => t.transactionId))
      // Arrival order must not matter either: feed the tail shuffled.
      const shuffled = fromCut.map((t, i) => ({ t, k: (i * 7919 + shuffleSeed) % 104729 })).sort((a, b) => a.k - b.k)
      const partial = recompute(
        stateBefore(full.rows, cutDay),
        shuffled.map((x) => x.t),
        ctx,
      )
      partial.rejections.push(...refusedFromCut.map((x) => x.rejection))

      const fromCutRows = full.rows.flatMap((row, i) =>
        row.date >= cutDay ? [{ row, seq: full.seqs[i] as number }] : [],
      )
      const expected = {
        rows: fromCutRows.map((x) => x.row),
        seqs: fromCutRows.map((x) => x.seq),
        cashflows: full.cashflows.filter((c) => c.date >= cutDay),
        rejections: full.rejections.filter((x) => ids.has(x.transactionId)),
      }
      if (!Bun.deepEquals(partial, expected)) {
        expect({ seed, cutDay, ...partial }).toEqual({ seed, cutDay, ...expected }) // shows the difference
      }
      for (const row of full.rows) {
        if (row.positionId.startsWith('CASH:')) continue
        // A security's quantity and cost are always exactly the sums over its open lots.
        const total = (f: (l: PositionRow['lots'][number]) => string) =>
          row.lots.reduce((a, l) => a.plus(dec(f(l))), dec(0))
        const consistent =
          total((l) => l.quantity).eq(row.quantity) &&
          total((l) => l.costLocal).eq(row.costLocal) &&
          total((l) => l.costBase).eq(row.costBase)
        if (!consistent)
          throw new Error(`seed ${seed}: ${row.positionId} on ${row.date}: totals differ from the sums over lots`)
      }
      rowsChecked += expected.rows.length
      rejectionsSeen += full.rejections.length
    }
    // The generator must exercise the interesting paths, or the property proves little.
    expect(rowsChecked).toBeGreaterThan(CASES * 10)
    expect(rejectionsSeen).toBeGreaterThan(CASES / 10)
    expect(straddles).toBeGreaterThan(CASES / 10)
  }, 120_000)

  test(`a fold over the positions a correction reaches equals the whole fold for them (${CASES} random streams)`, () => {
    let rowsChecked = 0
    let rowsLeftOut = 0
    let fatesChanged = 0
    for (let seed = 1; seed <= CASES; seed++) {
      const { txns, ctx, cutDay } = randomCase(seed)
      // The stores fold a scope only where no CANCEL is loaded: here the CANCELs are resolved first.
      const active = applyCancels(txns).active
      const stored = recompute([], active, ctx)
      const targets = active.filter(
        (t) => t.securityId !== undefined && t.quantity !== undefined && t.tradeDate >= cutDay,
      )
      const target = targets[seed % Math.max(1, targets.length)]
      if (target === undefined) continue
      // The correction: its quantity changed, and for a third of the cases its security too (then
      // in that security's currency).
      const other = [...instruments.keys()].find((id) => id !== target.securityId) as string
      const moved = seed % 3 === 0 ? { securityId: other, currency: currencyOf(other) } : {}
      const corrected: Transaction = { ...target, quantity: String(Number(target.quantity) + 7), ...moved }
      const now = active.map((t) => (t.transactionId === target.transactionId ? corrected : t))
      const whole = recompute([], now, ctx)
      // What persist names: the positions of the version replaced and of the new one.
      const named = [target, corrected].flatMap((t) => [primaryPosition(t), cashPositionId(t.currency)])
      const fromCut = now.filter((t) => t.tradeDate >= cutDay)
      const positions = scopeOf(named, fromCut)
      const rejected = new Set(stored.rejections.map((x) => x.transactionId))
      const scoped = recompute(stateBefore(stored.rows, cutDay), fromCut, ctx, { positions, rejected })

      const kept = whole.rows.flatMap((row, i) =>
        row.date >= cutDay && positions.has(row.positionId) ? [{ row, seq: whole.seqs[i] as number }] : [],
      )
      const ownIds = new Set(fromCut.filter((t) => positions.has(primaryPosition(t))).map((t) => t.transactionId))
      const expected = {
        rows: kept.map((x) => x.row),
        seqs: kept.map((x) => x.seq),
        cashflows: whole.cashflows.filter((c) => c.date >= cutDay && positions.has(c.positionId)),
        rejections: whole.rejections.filter((x) => ownIds.has(x.transactionId)),
      }
      if (!Bun.deepEquals(scoped, expected)) {
        expect({ seed, cutDay, ...scoped }).toEqual({ seed, cutDay, ...expected }) // shows the difference
      }
      rowsChecked += kept.length
      rowsLeftOut += whole.rows.filter((r) => r.date >= cutDay).length - kept.length
      const isRejected = new Set(whole.rejections.map((x) => x.transactionId))
      const flipped = active.filter(
        (t) =>
          t.transactionId !== target.transactionId && rejected.has(t.transactionId) !== isRejected.has(t.transactionId),
      )
      if (flipped.length > 0) fatesChanged++
    }
    // The scope must leave rows out, and corrections must change the fate of later transactions
    // (a sale now refused, or accepted), or the property proves little.
    expect(rowsChecked).toBeGreaterThan(CASES * 5)
    expect(rowsLeftOut).toBeGreaterThan(CASES * 2)
    expect(fatesChanged).toBeGreaterThan(CASES / 100)
  }, 120_000)
})
