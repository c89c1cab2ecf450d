import { toEpochDay } from './dates.ts'
import { closeLots, type LotState, lotsQuantity, openLot, splitLots } from './lots.ts'
import type { FxTable } from './market-data.ts'
import { atScale, type Decimal, dec, str, ZERO } from './money.ts'
import type {
  Cashflow,
  CashflowClass,
  FlowTiming,
  Instrument,
  Portfolio,
  PositionRow,
  Rejection,
  RejectionCode,
  Transaction,
} from './records.ts'
import { cashPositionId, sortTransactions } from './transactions.ts'

export type FoldContext = {
  readonly portfolio: Portfolio
  readonly instruments: ReadonlyMap<string, Instrument>
  readonly fx: FxTable
}
/**
 * `seqs[i]` orders `rows[i]` among its position's rows of the same day: 0, 1, … in the order the
 * fold applied them. It depends on that position's transactions alone, so a fold over some
 * positions (FoldScope) numbers their rows as the fold over all does, and the rows of the others
 * keep theirs.
 */
export type FoldResult = { rows: PositionRow[]; seqs: number[]; cashflows: Cashflow[]; rejections: Rejection[] }

/**
 * A fold over some positions only: those a change can reach (`scopeOf`). A transaction whose own
 * position (its security, else its cash: `primaryPosition`) is in scope is folded as usual; one
 * whose own position is not, but which moves a cash position in scope, moves that cash only, and
 * only if it took effect before (`rejected` holds the transactions stored as rejected: nothing
 * the change touched decides their fate, since cash never refuses). Rows, cashflows and
 * rejections come out for the positions in scope alone, and equal the whole fold's for them.
 */
export type FoldScope = { positions: ReadonlySet<string>; rejected: ReadonlySet<string> }

/** The position a transaction is about, which its cashflow names: its security, else its cash. */
export const primaryPosition = (t: Transaction): string => t.securityId ?? cashPositionId(t.currency)

/** The cash positions a transaction can move: its currency's, and the settlement currency's. */
const cashesOf = (t: Transaction): string[] =>
  t.settlementCurrency === undefined || t.settlementCurrency === t.currency
    ? [cashPositionId(t.currency)]
    : [cashPositionId(t.currency), cashPositionId(t.settlementCurrency)]

/**
 * The positions a change of `named` positions can reach from the transactions that follow: each
 * named one, and the cash every transaction of a named security moves (a purchase corrected may
 * turn a later sale of it into a rejection, which changes that sale's cash). Cash refuses nothing,
 * so the reach stops there.
 */
export function scopeOf(named: Iterable<string>, transactions: readonly Transaction[]): Set<string> {
  const scope = new Set(named)
  for (const t of transactions) {
    if (t.securityId !== undefined && scope.has(t.securityId)) for (const c of cashesOf(t)) scope.add(c)
  }
  return scope
}

/** A position in memory. Securities derive quantity and cost from their lots; cash keeps them directly. */
type State = {
  positionId: string
  currency: string
  quantity: Decimal
  costLocal: Decimal
  costBase: Decimal
  lots: LotState[]
  realizedLocal: Decimal
  realizedBase: Decimal
  realizedPriceBase: Decimal
  realizedFxBase: Decimal
  incomeBase: Decimal
}
/** The positions a transaction moves (its own left out when outside the fold's scope). */
type Effect = {
  states: State[]
  cashflow?: Omit<Cashflow, 'portfolioId' | 'transactionId' | 'date' | 'type'>
}

class Rejected extends Error {
  constructor(
    readonly code: RejectionCode,
    readonly reason: string,
  ) {
    super(reason)
  }
}

/**
 * The position fold. `before` holds, for each position, its last history row dated before the
 * first transaction in `transactions` (none when recomputing from the start); `transactions` are the
 * portfolio's effective transactions from that date on (see applyCancels: no CANCEL), in any order. Returns
 * the history rows, cashflows and rejections from that date on: the same, digit for digit, as
 * recomputing from the first transaction. A rejected transaction changes nothing.
 */
export function recompute(
  before: readonly PositionRow[],
  transactions: readonly Transaction[],
  ctx: FoldContext,
  scope?: FoldScope,
): FoldResult {
  const inScope = (positionId: string) => scope === undefined || scope.positions.has(positionId)
  const states = new Map(before.filter((row) => inScope(row.positionId)).map((row) => [row.positionId, fromRow(row)]))
  const result: FoldResult = { rows: [], seqs: [], cashflows: [], rejections: [] }
  const last = new Map<string, { date: string; seq: number }>() // each position's last row: its day and seq
  for (const t of sortTransactions(transactions)) {
    const own = inScope(primaryPosition(t))
    // Outside the scope: only its cash, if that is in scope and the transaction took effect.
    if (!own && (scope?.rejected.has(t.transactionId) || !cashesOf(t).some(inScope))) continue
    let effect: Effect
    try {
      effect = apply(t, states, ctx, own)
    } catch (error) {
      if (!(error instanceof Rejected)) throw error
      if (own) result.rejections.push({ transactionId: t.transactionId, code: error.code, reason: error.reason })
      continue
    }
    for (const s of effect.states) {
      if (!inScope(s.positionId)) continue
      states.set(s.positionId, s)
      result.rows.push(toRow(ctx.portfolio.portfolioId, t, s))
      const before = last.get(s.positionId)
      const seq = before?.date === t.tradeDate ? before.seq + 1 : 0
      last.set(s.positionId, { date: t.tradeDate, seq })
      result.seqs.push(seq)
    }
    if (effect.cashflow && own) {
      const { portfolioId } = ctx.portfolio
      result.cashflows.push({
        portfolioId,
        transactionId: t.transactionId,
        date: t.tradeDate,
        type: t.type,
        ...effect.cashflow,
      })
    }
  }
  return result
}

/**
 * One transaction's effect. `own` false: its own position is outside the fold's scope, and only
 * the cash it moves is wanted (no security state is kept for it, so none is computed).
 */
function apply(t: Transaction, states: Map<string, State>, ctx: FoldContext, own = true): Effect {
  const base = ctx.portfolio.baseCurrency
  if (t.tradeDate < ctx.portfolio.openDate) {
    throw new Rejected(
      'BEFORE_OPEN_DATE',
      `trade date ${t.tradeDate} is before the portfolio opened (${ctx.portfolio.openDate})`,
    )
  }
  const rateOf = (from: string, to: string): Decimal => {
    const quote = ctx.fx.rate(from, to, toEpochDay(t.tradeDate))
    if (!quote) throw new Rejected('MISSING_FX', `no ${from}/${to} rate on or before ${t.tradeDate}`)
    return quote.value
  }
  const fxRate = (currency: string): Decimal => rateOf(currency, base)
  const settlement = t.settlementCurrency ?? t.currency
  if (settlement !== t.currency && t.type !== 'BUY' && t.type !== 'SELL') {
    throw new Rejected('CURRENCY_MISMATCH', `settlementCurrency applies to BUY and SELL only, not ${t.type}`)
  }
  const instrument = (): Instrument => {
    if (t.securityId === undefined) throw new Rejected('MISSING_FIELD', `${t.type} needs securityId`)
    const found = ctx.instruments.get(t.securityId)
    if (!found) throw new Rejected('UNKNOWN_INSTRUMENT', `instrument ${t.securityId} is not known`)
    return found
  }
  const stateOf = (positionId: string, currency: string) => states.get(positionId) ?? empty(positionId, currency)
  const flow = (
    positionId: string,
    cls: CashflowClass,
    timing: FlowTiming,
    amount: Decimal,
    fx: Decimal,
    fee = ZERO,
    currency = t.currency,
  ) => ({
    positionId,
    class: cls,
    timing,
    scope: cls === 'INVESTMENT' || cls === 'INCOME' ? ('position' as const) : ('portfolio' as const),
    currency,
    amountLocal: str(amount),
    amountBase: str(atScale(amount.times(fx))),
    feeLocal: str(fee),
    feeBase: str(atScale(fee.times(fx))),
    fxRate: str(fx),
  })
  const cash = () => stateOf(cashPositionId(t.currency), t.currency)

  switch (t.type) {
    case 'BUY':
    case 'SELL': {
      const inst = instrument()
      if (inst.currency !== t.currency) {
        throw new Rejected(
          'CURRENCY_MISMATCH',
          `trade currency ${t.currency} differs from ${inst.securityId}'s ${inst.currency}`,
        )
      }
      const qty = positive(t.quantity, 'quantity', t)
      const fee = nonNegative(t.fee, 'fee')
      const gross = amountOf(t, qty)
      const fx = fxRate(t.currency)
      const security = own
        ? [trade(stateOf(inst.securityId, inst.currency), t, qty, gross, fee, fx, ctx.portfolio)]
        : []
      const accrued = dec(t.accruedInterest ?? '0')
      const amount = t.type === 'BUY' ? gross.plus(fee).plus(accrued).neg() : gross.minus(fee).plus(accrued)
      const timing = t.type === 'BUY' ? 'SOD' : 'EOD'
      if (settlement === t.currency) {
        return {
          states: [...security, moveCash(cash(), amount, fx)],
          cashflow: flow(inst.securityId, 'INVESTMENT', timing, amount, fx, fee),
        }
      }
      // Settled in another currency's cash: the amount (and fee) at the trade date's
      // trade→settlement rate (rule 3), that cash at its own rate to base.
      const cross = rateOf(t.currency, settlement)
      const settled = atScale(amount.times(cross))
      const settleFx = fxRate(settlement)
      return {
        states: [...security, moveCash(stateOf(cashPositionId(settlement), settlement), settled, settleFx)],
        cashflow: flow(inst.securityId, 'INVESTMENT', timing, settled, settleFx, atScale(fee.times(cross)), settlement),
      }
    }
    case 'TRANSFER_IN':
    case 'TRANSFER_OUT': {
      const incoming = t.type === 'TRANSFER_IN'
      if (t.securityId === undefined) {
        const amount = positive(t.grossAmount, 'grossAmount', t)
        const fx = fxRate(t.currency)
        const signed = incoming ? amount : amount.neg()
        return {
          states: [moveCash(cash(), signed, fx)],
          cashflow: flow(cashPositionId(t.currency), 'TRANSFER', incoming ? 'SOD' : 'EOD', signed, fx),
        }
      }
      if (!own) return { states: [] }
      const inst = instrument()
      const qty = positive(t.quantity, 'quantity', t)
      const fx = fxRate(inst.currency)
      const { state, value } = transfer(stateOf(inst.securityId, inst.currency), t, qty, fx, ctx.portfolio)
      return { states: [state], cashflow: flow(inst.securityId, 'TRANSFER', incoming ? 'SOD' : 'EOD', value, fx) }
    }
    case 'DIVIDEND':
    case 'INTEREST': {
      const positionId = t.securityId === undefined ? cashPositionId(t.currency) : instrument().securityId
      const amount = amountOf(t, t.quantity === undefined ? undefined : positive(t.quantity, 'quantity', t))
      const fee = nonNegative(t.fee, 'fee')
      const fx = fxRate(t.currency)
      const net = amount.minus(fee)
      const received = moveCash(cash(), net, fx)
      if (!own) return { states: [received] }
      const holder = positionId === received.positionId ? received : stateOf(positionId, instrument().currency)
      const withIncome = { ...holder, incomeBase: holder.incomeBase.plus(atScale(net.times(fx))) }
      const states = positionId === received.positionId ? [withIncome] : [withIncome, received]
      return { states, cashflow: flow(positionId, 'INCOME', 'EOD', net, fx, fee) }
    }
    case 'FEE':
    case 'TAX': {
      const positionId = t.securityId === undefined ? cashPositionId(t.currency) : instrument().securityId
      const amount = positive(t.grossAmount, 'grossAmount', t)
      const fx = fxRate(t.currency)
      return {
        states: [moveCash(cash(), amount.neg(), fx)],
        cashflow: flow(positionId, 'EXPENSE', 'EOD', amount.neg(), fx, amount),
      }
    }
    case 'OTHER': {
      // Cash only: a signed amount (into the portfolio positive) moves its currency's cash at the
      // end of the day, and is neither cost, income, fee nor external money: it shows as P&L.
      if (t.grossAmount === undefined) throw new Rejected('MISSING_FIELD', 'OTHER needs grossAmount')
      const amount = dec(t.grossAmount)
      if (amount.isZero()) throw new Rejected('NEGATIVE_QUANTITY', 'grossAmount must not be 0 for OTHER')
      const fx = fxRate(t.currency)
      return {
        states: [moveCash(cash(), amount, fx)],
        cashflow: flow(cashPositionId(t.currency), 'OTHER', 'EOD', amount, fx),
      }
    }
    case 'DEPOSIT':
    case 'WITHDRAWAL': {
      const amount = positive(t.grossAmount, 'grossAmount', t)
      const fx = fxRate(t.currency)
      const signed = t.type === 'DEPOSIT' ? amount : amount.neg()
      const timing = t.type === 'DEPOSIT' ? 'SOD' : 'EOD'
      return {
        states: [moveCash(cash(), signed, fx)],
        cashflow: flow(cashPositionId(t.currency), 'EXTERNAL', timing, signed, fx),
      }
    }
    case 'SPLIT': {
      if (!own) return { states: [] }
      const inst = instrument()
      const ratio = positive(t.ratio, 'ratio', t)
      const held = stateOf(inst.securityId, inst.currency)
      if (held.lots.length === 0) return { states: [] }
      const lots = splitLots(held.lots, ratio)
      return { states: [{ ...held, lots, quantity: lotsQuantity(lots) }] }
    }
    case 'CANCEL':
      // A programming error, not the data's: applyCancels resolves CANCELs before the fold.
      throw new Error(`CANCEL ${t.transactionId} reached the fold; applyCancels resolves CANCELs first`)
  }
}

/**
 * A BUY or SELL against signed lots. The trade's signed value (a BUY pays gross + fee, a SELL
 * receives gross − fee) is split between the part that closes the existing position and the part
 * that opens a new one, in proportion to quantity. Closing realizes proceeds − cost removed, in
 * local and base currency (proceeds at the trade date's FX, cost at the lots' historical FX); the
 * base result splits into a price effect (realized local × FX) and the FX effect (the rest).
 */
function trade(
  held: State,
  t: Transaction,
  qty: Decimal,
  gross: Decimal,
  fee: Decimal,
  fx: Decimal,
  p: Portfolio,
): State {
  const buying = t.type === 'BUY'
  const value = buying ? gross.plus(fee).neg() : gross.minus(fee)
  const opposite = !held.quantity.isZero() && held.quantity.isNegative() === buying
  if (!buying && !p.allowShort && qty.gt(held.quantity)) {
    throw new Rejected('INSUFFICIENT_QUANTITY', `selling ${qty} of ${t.securityId} but ${held.quantity} held`)
  }
  const closing = opposite ? (held.quantity.abs().lt(qty) ? held.quantity.abs() : qty) : ZERO
  let next = held
  let closedValue = ZERO
  if (!closing.isZero()) {
    const closed = closeLots(held.lots, closing)
    closedValue = closing.eq(qty) ? value : atScale(value.times(closing).div(qty))
    const realizedLocal = closedValue.minus(closed.costLocal)
    const realizedBase = atScale(closedValue.times(fx)).minus(closed.costBase)
    const priceBase = atScale(realizedLocal.times(fx))
    next = {
      ...withLots(held, closed.lots, buying ? closing : closing.neg(), closed.costLocal.neg(), closed.costBase.neg()),
      realizedLocal: held.realizedLocal.plus(realizedLocal),
      realizedBase: held.realizedBase.plus(realizedBase),
      realizedPriceBase: held.realizedPriceBase.plus(priceBase),
      realizedFxBase: held.realizedFxBase.plus(realizedBase.minus(priceBase)),
    }
  }
  const opening = qty.minus(closing)
  if (opening.isZero()) return next
  const costLocal = value.minus(closedValue).neg()
  const lot = {
    openDate: t.tradeDate,
    quantity: buying ? opening : opening.neg(),
    costLocal,
    costBase: atScale(costLocal.times(fx)),
  }
  return opened(next, lot, p)
}

/**
 * A security moved in or out without cash and without P&L. In: cost = grossAmount, else
 * quantity × price (the value at transfer). Out: the lots' cost leaves; the flow is the value at
 * transfer (quantity × price) when a price is given, else the cost removed.
 */
function transfer(
  held: State,
  t: Transaction,
  qty: Decimal,
  fx: Decimal,
  p: Portfolio,
): { state: State; value: Decimal } {
  if (held.quantity.isNegative())
    throw new Rejected('INSUFFICIENT_QUANTITY', `${t.securityId} is held short; transfers need a long position`)
  if (t.type === 'TRANSFER_IN') {
    const cost = amountOf(t, qty)
    const lot = { openDate: t.tradeDate, quantity: qty, costLocal: cost, costBase: atScale(cost.times(fx)) }
    return { state: opened(held, lot, p), value: cost }
  }
  if (qty.gt(held.quantity)) {
    throw new Rejected('INSUFFICIENT_QUANTITY', `transferring out ${qty} of ${t.securityId} but ${held.quantity} held`)
  }
  const closed = closeLots(held.lots, qty)
  const value = t.price !== undefined ? atScale(qty.times(dec(t.price))) : closed.costLocal
  return {
    state: withLots(held, closed.lots, qty.neg(), closed.costLocal.neg(), closed.costBase.neg()),
    value: value.neg(),
  }
}

/** Cash: quantity is the balance, cost the balance in local currency and the sum of base amounts at each day's FX. */
const moveCash = (s: State, amount: Decimal, fx: Decimal): State => ({
  ...s,
  quantity: s.quantity.plus(amount),
  costLocal: s.costLocal.plus(amount),
  costBase: s.costBase.plus(atScale(amount.times(fx))),
})

/**
 * New lots, with the totals moved by the signed change rather than summed again (addition is
 * exact, so the totals stay equal to the sums over the lots; the property test checks it).
 */
const withLots = (s: State, lots: LotState[], quantity: Decimal, costLocal: Decimal, costBase: Decimal): State => ({
  ...s,
  lots,
  quantity: s.quantity.plus(quantity),
  costLocal: s.costLocal.plus(costLocal),
  costBase: s.costBase.plus(costBase),
})

const opened = (s: State, lot: LotState, p: Portfolio): State =>
  withLots(s, openLot(s.lots, lot, p.costMethod ?? 'FIFO'), lot.quantity, lot.costLocal, lot.costBase)

/** grossAmount if given, else quantity × price; one of them is required. */
function amountOf(t: Transaction, qty: Decimal | undefined): Decimal {
  if (t.grossAmount !== undefined) return nonNegative(t.grossAmount, 'grossAmount')
  if (t.price !== undefined && qty !== undefined) return atScale(qty.times(nonNegative(t.price, 'price')))
  throw new Rejected('MISSING_FIELD', `${t.type} needs grossAmount, or quantity and price`)
}

function positive(value: string | undefined, field: string, t: Transaction): Decimal {
  if (value === undefined) throw new Rejected('MISSING_FIELD', `${t.type} needs ${field}`)
  const d = dec(value)
  if (!d.gt(0)) throw new Rejected('NEGATIVE_QUANTITY', `${field} must be positive for ${t.type}, got ${value}`)
  return d
}

function nonNegative(value: string | undefined, field: string): Decimal {
  const d = dec(value ?? '0')
  if (d.isNegative()) throw new Rejected('NEGATIVE_QUANTITY', `${field} must not be negative, got ${value}`)
  return d
}

const empty = (positionId: string, currency: string): State => ({
  positionId,
  currency,
  quantity: ZERO,
  costLocal: ZERO,
  costBase: ZERO,
  lots: [],
  realizedLocal: ZERO,
  realizedBase: ZERO,
  realizedPriceBase: ZERO,
  realizedFxBase: ZERO,
  incomeBase: ZERO,
})

const toRow = (portfolioId: string, t: Transaction, s: State): PositionRow => ({
  portfolioId,
  positionId: s.positionId,
  date: t.tradeDate,
  transactionId: t.transactionId,
  currency: s.currency,
  quantity: str(s.quantity),
  costLocal: str(s.costLocal),
  costBase: str(s.costBase),
  realizedLocal: str(s.realizedLocal),
  realizedBase: str(s.realizedBase),
  realizedPriceBase: str(s.realizedPriceBase),
  realizedFxBase: str(s.realizedFxBase),
  incomeBase: str(s.incomeBase),
  lots: s.lots.map((l) => ({
    openDate: l.openDate,
    quantity: str(l.quantity),
    costLocal: str(l.costLocal),
    costBase: str(l.costBase),
  })),
})

const fromRow = (r: PositionRow): State => ({
  positionId: r.positionId,
  currency: r.currency,
  quantity: dec(r.quantity),
  costLocal: dec(r.costLocal),
  costBase: dec(r.costBase),
  lots: r.lots.map((l) => ({
    openDate: l.openDate,
    quantity: dec(l.quantity),
    costLocal: dec(l.costLocal),
    costBase: dec(l.costBase),
  })),
  realizedLocal: dec(r.realizedLocal),
  realizedBase: dec(r.realizedBase),
  realizedPriceBase: dec(r.realizedPriceBase),
  realizedFxBase: dec(r.realizedFxBase),
  incomeBase: dec(r.incomeBase),
})
