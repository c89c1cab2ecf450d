import type { Transaction, TransactionType } from './records.ts'

/**
 * ORDER OF TRANSACTIONS. A portfolio's transactions are applied by trade date; within a day by
 * this rank (money arrives before it is spent, a split before trades in new shares, flows out
 * last), then by transaction id. The order depends only on the data, never on arrival.
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
  TRANSFER_OUT: 7,
  WITHDRAWAL: 8,
  CANCEL: 9,
}

export function compareTransactions(a: Transaction, b: Transaction): number {
  if (a.tradeDate !== b.tradeDate) return a.tradeDate < b.tradeDate ? -1 : 1
  const r = rank[a.type] - rank[b.type]
  if (r !== 0) return r
  return a.transactionId < b.transactionId ? -1 : a.transactionId > b.transactionId ? 1 : 0
}

export const sortTransactions = (txns: readonly Transaction[]): Transaction[] => [...txns].sort(compareTransactions)

/**
 * CANCELLATION. A CANCEL record names the transaction it cancels (`cancels`); both then drop out,
 * as if neither had happened. A correction is the same transaction id sent again with new content:
 * the stored version is replaced (persist's job), and positions are recomputed from the earlier of
 * the two trade dates. Returns the transactions that take effect, and CANCELs whose target is absent.
 */
export function applyCancels(txns: readonly Transaction[]): { active: Transaction[]; orphanCancels: Transaction[] } {
  const ids = new Set(txns.map((t) => t.transactionId))
  const cancelled = new Set<string>()
  const orphanCancels: Transaction[] = []
  for (const t of txns) {
    if (t.type !== 'CANCEL') continue
    if (t.cancels !== undefined && ids.has(t.cancels)) cancelled.add(t.cancels)
    else orphanCancels.push(t)
  }
  return { active: txns.filter((t) => t.type !== 'CANCEL' && !cancelled.has(t.transactionId)), orphanCancels }
}

/** Cash is one position per currency. */
export const cashPositionId = (currency: string): string => `CASH:${currency}`
export const isCashPosition = (positionId: string): boolean => positionId.startsWith('CASH:')
