import { Elysia, t } from 'elysia'
import type { Sql } from '../adapters/pg-client.ts'
import { isIsoDate } from '../domain/dates.ts'
import { Id, IsoDateString } from '../domain/records.ts'
import type { EventLog } from '../ports/event-log.ts'
import { REPROCESSED_STAGES, scheduleReprocess } from '../stages/reprocess.ts'
import { ErrorBody, errorBody, namedValidation } from './errors.ts'

const MAX_TRANSACTIONS = 1000
const IdString = (description: string) =>
  t.String({ minLength: Id.minLength, maxLength: Id.maxLength, pattern: Id.pattern, description })

const ReprocessBody = t.Object({
  portfolioId: IdString('The portfolio to recompute'),
  from: t.Optional(
    t.String({ pattern: IsoDateString.pattern, description: 'Recompute from this day on (YYYY-MM-DD)' }),
  ),
  transactionIds: t.Optional(
    t.Array(IdString('A transaction id'), {
      minItems: 1,
      maxItems: MAX_TRANSACTIONS,
      description: 'Recompute from the earliest trade date of these transactions of the portfolio',
    }),
  ),
})

const Scheduled = t.Object({
  portfolioId: t.String(),
  fromDate: t.String({ description: 'Every stage recomputes the portfolio from this day on' }),
  stages: t.Array(t.String(), { description: 'The stages that run again, in order' }),
  transactions: t.Array(t.Object({ transactionId: t.String(), tradeDate: t.String() }), {
    description: 'The transactions asked for, with their stored trade dates (empty when `from` was given)',
  }),
})

/**
 * Operator actions over HTTP (scope `admin`): today, reprocessing. POST /v1/admin/reprocess
 * recomputes a portfolio's positions, valuations and series from a date, given as `from` or as the
 * earliest trade date of `transactionIds`; 202 once the work is on the log, saying what was
 * scheduled. The same as `pas reprocess`.
 */
export function adminRoutes(sql: Sql, log: EventLog) {
  return new Elysia({ prefix: '/v1/admin' }).use(namedValidation).post(
    '/reprocess',
    async ({ body, request, status }) => {
      const refuse = (code: 400 | 404 | 422, message: string, field: string) =>
        status(code, errorBody(request, code, message, { field }))
      const { portfolioId, from, transactionIds } = body
      if ((from === undefined) === (transactionIds === undefined)) {
        return refuse(400, 'give either from or transactionIds', from === undefined ? 'from' : 'transactionIds')
      }
      if (from !== undefined && !isIsoDate(from)) return refuse(400, `from: ${from} is not a calendar date`, 'from')
      const [known] = await sql`select 1 from portfolios where portfolio_id = ${portfolioId}`
      if (!known) return refuse(404, `no portfolio ${portfolioId}`, 'portfolioId')
      let transactions: { transactionId: string; tradeDate: string }[] = []
      let fromDate = from
      if (transactionIds !== undefined) {
        const ids = [...new Set(transactionIds)]
        transactions = await sql<{ transactionId: string; tradeDate: string }[]>`
          select transaction_id as "transactionId", trade_date::text as "tradeDate" from transactions
          where portfolio_id = ${portfolioId} and transaction_id = any(${ids}::text[])
          order by trade_date, transaction_id`
        const found = new Set(transactions.map((x) => x.transactionId))
        const unknown = ids.filter((id) => !found.has(id))
        if (unknown.length > 0) {
          const listed = unknown.slice(0, 10).join(', ') + (unknown.length > 10 ? ', …' : '')
          return refuse(
            422,
            `transactionIds: ${unknown.length} not stored for portfolio ${portfolioId} (${listed}); nothing scheduled`,
            'transactionIds',
          )
        }
        fromDate = transactions[0]?.tradeDate
      }
      if (fromDate === undefined) return refuse(400, 'nothing to reprocess', 'transactionIds')
      await scheduleReprocess(log, [{ portfolioId, fromDate }])
      return status(202, { portfolioId, fromDate, stages: [...REPROCESSED_STAGES], transactions })
    },
    {
      body: ReprocessBody,
      response: { 202: Scheduled, 400: ErrorBody, 404: ErrorBody, 422: ErrorBody },
      detail: {
        tags: ['admin'],
        summary: 'Reprocess a portfolio from a date or from some of its transactions',
        description:
          'Recomputes positions, valuations and series from `from`, or from the earliest trade date of `transactionIds`. 202 once scheduled; GET .../support shows the stages catching up. Scope admin.',
      },
    },
  )
}
