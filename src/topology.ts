/**
 * The topics of the flow, with their partition keys and default partition counts. Portfolio-scoped
 * topics are keyed by portfolio so one consumer sees a portfolio's records in order; prices by
 * security; FX by currency pair. See README "Topics".
 */
export const Topics = {
  rawTransactions: 'raw.transactions',
  rawPrices: 'raw.prices',
  rawFx: 'raw.fx',
  rawReference: 'raw.reference',
  transactionsChanged: 'transactions.changed',
  pricesChanged: 'prices.changed',
  fxChanged: 'fx.changed',
  positionsChanged: 'positions.changed',
  valuationJobs: 'valuation.jobs',
  valuationsChanged: 'valuations.changed',
} as const
export type Topic = (typeof Topics)[keyof typeof Topics]

export type TopicSpec = { readonly name: string; readonly partitions: number }

/** Every topic pas uses, with `partitions` as its partition count (the unit of parallelism per role). */
export function topicSpecs(partitions: number): TopicSpec[] {
  return Object.values(Topics).map((name) => ({ name, partitions }))
}
