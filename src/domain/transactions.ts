import type { Rejection, Transaction, TransactionType } from './records.ts'

/**
 * ORDER OF TRANSACTIONS. A portfolio's transactions are applied by trade date; within a day by
 * trade time where given (one without a time counts as the start of the day), then by this rank
 * (money arrives before it is spent, a split before trades in new shares, flows out last), then by
 * transaction id. The order depends only on the data, never on arrival.
 */
const rank: Record<TransactionType, number> = {
  DEPOSIT: 0,
  TRANSFER_IN: 1,
  SPLIT: 2,
  BUY: 3,
  SELL: 4,
  DIVIDEND: 5,
  INTEREST: 5,
  FEE: 6,
  TAX: 6,
  OTHER: 6,
  TRANSFER_OUT: 7,
  WITHDRAWAL: 8,
  CANCEL: 9,
}

export function compareTransactions(a: Transaction, b: Transaction): number {
  if (a.tradeDate !== b.tradeDate) return a.tradeDate < b.tradeDate ? -1 : 1
  const [ta, tb] = [timeOf(a), timeOf(b)]
  if (ta !== tb) return ta < tb ? -1 : 1
  const r = rank[a.type] - rank[b.type]
  if (r !== 0) return r
  return a.transactionId < b.transactionId ? -1 : a.transactionId > b.transactionId ? 1 : 0
}

/** HH:MM:SS.ffffff, so that times compare as strings; none is the start of the day. */
const timeOf = (t: Transaction): string => {
  const time = t.tradeTime
  if (time === undefined) return ''
  return time.length === 5 ? `${time}:00.000000` : time.length === 8 ? `${time}.000000` : time.padEnd(15, '0')
}

export const sortTransactions = (txns: readonly Transaction[]): Transaction[] => [...txns].sort(compareTransactions)

/**
 * CANCELLATION. A CANCEL record names the transaction it cancels (`cancels`); both then drop out,
 * as if neither had happened. A CANCEL takes effect only if its target is a transaction of the
 * same portfolio that is not itself a CANCEL: a cancellation cannot be undone (to restore a
 * cancelled transaction, send it again under a new id), and a CANCEL naming a CANCEL, or
 * nothing the portfolio has, is rejected and changes nothing. The CANCEL's own date does not
 * matter: it may be dated before or after its target, and may arrive before it.
 * A correction is the same transaction id sent again with new content: the stored version is
 * replaced (persist's job), and positions are recomputed from the earlier of the two trade dates.
 */
export function cancelRefusal(cancel: Transaction, targetType: TransactionType | undefined): Rejection | undefined {
  const { transactionId, cancels, portfolioId } = cancel
  if (targetType === undefined) {
    return {
      transactionId,
      code: 'UNKNOWN_CANCEL_TARGET',
      reason: `transaction ${cancels ?? '(none)'} to cancel is not a transaction of portfolio ${portfolioId}`,
    }
  }
  if (targetType === 'CANCEL') {
    return {
      transactionId,
      code: 'CANCEL_OF_CANCEL',
      reason: `transaction ${cancels} is itself a CANCEL, and a cancellation cannot be undone: send the cancelled transaction again under a new id`,
    }
  }
  return undefined
}

export type Cancelled = {
  /** The transactions that take effect: neither CANCELs nor cancelled. */
  active: Transaction[]
  /** CANCELs that take no effect, with their rejection. */
  refused: { cancel: Transaction; rejection: Rejection }[]
}

/**
 * Applies the CANCELs among one portfolio's transactions. `targetType` gives the type of the
 * portfolio's transaction with an id, or undefined; by default it looks among `txns`, and a store
 * that loads only part of the history passes what it knows of the rest.
 */
export function applyCancels(
  txns: readonly Transaction[],
  targetType?: (id: string) => TransactionType | undefined,
): Cancelled {
  const byId = new Map(txns.map((t) => [t.transactionId, t.type]))
  const typeOf = targetType ?? ((id: string) => byId.get(id))
  const cancelled = new Set<string>()
  const refused: Cancelled['refused'] = []
  for (const t of txns) {
    if (t.type !== 'CANCEL') continue
    const rejection = cancelRefusal(t, t.cancels === undefined ? undefined : typeOf(t.cancels))
    if (rejection) refused.push({ cancel: t, rejection })
    else cancelled.add(t.cancels as string)
  }
  return { active: txns.filter((t) => t.type !== 'CANCEL' && !cancelled.has(t.transactionId)), refused }
}

/** Cash is one position per currency. */
export const cashPositionId = (currency: string): string => `CASH:${currency}`
export const isCashPosition = (positionId: string): boolean => positionId.startsWith('CASH:')
