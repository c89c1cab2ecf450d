import { randomUUID } from 'node:crypto'
import { AppError } from '../errors.ts'
import type {
  AppendRecord,
  Batch,
  ConsumerOptions,
  EventLog,
  LogConsumer,
  LogRecord,
  PartitionLag,
  PartitionOffset,
} from '../ports/event-log.ts'
import { nextOffsetsOf, splitTp } from '../ports/event-log.ts'
import { partitionFor } from '../runtime/partitioner.ts'
import type { TopicSpec } from '../topology.ts'
import type { Sql, Tx } from './pg-client.ts'

export type PgLogOptions = {
  /** A member not heard from for this long is gone; its partition leases expire. Default 10 s. */
  sessionTimeoutMs?: number
  /** How often a member renews its leases and rebalances. Default 1 s. */
  heartbeatMs?: number
  /**
   * Records every group has read are deleted this long after they were appended (`prune`, every
   * `pruneEveryMs`, default 10 minutes); 0 keeps every record. Default 0 here; pas sets it from
   * PAS_LOG_RETENTION_HOURS.
   */
  retentionMs?: number
  pruneEveryMs?: number
  /** Told when a periodic prune fails (it is tried again at the next period). */
  onPruneError?: (error: unknown) => void
  /**
   * A client of its own (one connection is enough) for the members' lease renewals: on the shared
   * pool a renewal waits behind every query the stages have queued, and a member whose renewals
   * wait past the session timeout loses its partitions in the middle of a batch. The caller closes
   * it. Default: the log's client.
   */
  leases?: Sql
}

/** Records deleted per statement while pruning: short transactions, bounded memory. */
const PRUNE_BATCH = 50_000

const CHANNEL = 'pas_log'

/**
 * EventLog over PostgreSQL tables (sql/0001_event_log.sql): the embedded default transport.
 *
 * - Append locks the partition rows it writes to (in partition order, so appenders never deadlock),
 *   takes dense offsets from `next_offset`, inserts with one `unnest` statement and notifies
 *   consumers, all in one transaction: a reader never sees a gap that fills in later.
 * - Group members hold time-limited leases on partitions and take a fair share of them
 *   (ceil(partitions / live members)); a member that stops releases its leases, one that dies lets
 *   them expire. Commits are fenced on the lease, and `commitWithin` puts the commit inside the
 *   consumer's own transaction, so writes and progress become durable together (exactly once).
 * - Retention: records older than `retentionMs` that every group reading their partition has
 *   committed past are deleted (`prune`), so the log does not grow with the book's history.
 */
export class PgLog implements EventLog {
  readonly kind = 'pg'
  readonly #sql: Sql
  readonly #sessionTimeoutMs: number
  readonly #heartbeatMs: number
  readonly #partitionCounts = new Map<string, number>()
  readonly #waiters = new Set<(topic: string) => void>()
  /** Per topic, the appends this log was told of (NOTIFY): see appendsHeard. */
  readonly #heard = new Map<string, number>()
  readonly #retentionMs: number
  readonly #leases: Sql
  #listening: Promise<unknown> | undefined
  #unlisten: (() => Promise<void>) | undefined
  #pruning: ReturnType<typeof setInterval> | undefined

  constructor(sql: Sql, options: PgLogOptions = {}) {
    this.#sql = sql
    this.#leases = options.leases ?? sql
    this.#sessionTimeoutMs = options.sessionTimeoutMs ?? 10_000
    this.#heartbeatMs = options.heartbeatMs ?? 1_000
    this.#retentionMs = options.retentionMs ?? 0
    if (this.#retentionMs > 0) {
      const onError = options.onPruneError ?? (() => {})
      this.#pruning = setInterval(
        () => {
          this.prune().catch(onError)
        },
        options.pruneEveryMs ?? 10 * 60_000,
      )
      this.#pruning.unref()
    }
  }

  /**
   * Deletes the records appended more than the retention ago that every group which committed on
   * their partition has read; returns how many. Records a group has not read yet stay, however
   * old, and so does every record of a partition no group has committed on. A group started later
   * from the earliest offset sees only what is left (as with Kafka's retention); a group no longer
   * used holds records back until its rows in log_group_offsets are deleted.
   */
  async prune(): Promise<number> {
    if (this.#retentionMs <= 0) return 0
    let deleted = 0
    for (;;) {
      const [row] = await this.#sql<{ n: number }[]>`
        with read as (
          select topic, partition, min(next_offset) as below from log_group_offsets group by topic, partition
        ), old as (
          select r.topic, r.partition, r."offset" from log_records r join read using (topic, partition)
          where r."offset" < read.below
            and r.appended_at < clock_timestamp() - ${this.#retentionMs} * interval '1 millisecond'
          limit ${PRUNE_BATCH}
        ), gone as (
          delete from log_records r using old
          where r.topic = old.topic and r.partition = old.partition and r."offset" = old."offset"
          returning 1
        )
        select count(*)::int as n from gone`
      const n = row?.n ?? 0
      deleted += n
      if (n < PRUNE_BATCH) return deleted
    }
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    for (const { name, partitions } of specs) {
      await this.#sql`insert into log_partitions (topic, partition)
        select ${name}, p from generate_series(0, ${partitions - 1}::int) p on conflict do nothing`
      this.#partitionCounts.delete(name)
    }
  }

  /**
   * One statement, so one round trip (a stage's write is waited on while its thread serves the
   * others): the touched partitions' heads are locked in partition order (appenders never
   * deadlock), moved on by their record counts, the records inserted at the offsets they freed,
   * and the topic's listeners notified when it commits.
   */
  async append(topic: string, records: readonly AppendRecord[]): Promise<void> {
    if (records.length === 0) return
    const partitions = await this.partitionCount(topic)
    const parts = records.map((r) => partitionFor(r.key, partitions))
    const [row] = await this.#sql<{ appended: number }[]>`
      with counts as (
        select partition, count(*) as n from unnest(${parts}::int[]) as p(partition) group by partition
      ), locked as (
        select lp.partition from log_partitions lp join counts c using (partition)
        where lp.topic = ${topic} order by lp.partition for update of lp
      ), heads as (
        update log_partitions lp set next_offset = lp.next_offset + c.n
        from locked l join counts c using (partition)
        where lp.topic = ${topic} and lp.partition = l.partition
        returning lp.partition, lp.next_offset - c.n as first
      ), numbered as (
        select r.partition, r.key, r.value, row_number() over (partition by r.partition order by r.ord) - 1 as k
        from unnest(${parts}::int[], ${records.map((r) => r.key)}::text[], ${records.map((r) => r.value)}::text[])
          with ordinality as r(partition, key, value, ord)
      ), inserted as (
        insert into log_records (topic, partition, "offset", key, value)
        select ${topic}, n.partition, h.first + n.k, n.key, n.value from numbered n join heads h using (partition)
        returning 1
      )
      select pg_notify(${CHANNEL}, ${topic}), (select count(*)::int from inserted) as appended`
    if (row?.appended !== records.length) {
      throw new AppError(
        'UNKNOWN_TOPIC',
        `${topic}: ${row?.appended ?? 0} of ${records.length} records appended (a partition missing?)`,
        false,
      )
    }
  }

  consumer(options: ConsumerOptions): PgLogConsumer {
    return new PgLogConsumer(this, this.#sql, options, {
      sessionTimeoutMs: this.#sessionTimeoutMs,
      heartbeatMs: this.#heartbeatMs,
      leases: this.#leases,
    })
  }

  async lag(group: string, topics: readonly string[]): Promise<PartitionLag[]> {
    return this.#sql<PartitionLag[]>`
      select p.topic, p.partition, (p.next_offset - coalesce(o.next_offset, 0))::float8 as lag
      from log_partitions p
      left join log_group_offsets o on o.grp = ${group} and o.topic = p.topic and o.partition = p.partition
      where p.topic = any(${topics as string[]}::text[])
      order by p.topic, p.partition`
  }

  async close(): Promise<void> {
    clearInterval(this.#pruning)
    for (const wake of this.#waiters) wake('')
    await this.#unlisten?.()
  }

  /** @internal partitions of `topic`; AppError UNKNOWN_TOPIC if it was never created. */
  async partitionCount(topic: string): Promise<number> {
    let count = this.#partitionCounts.get(topic)
    if (count === undefined) {
      const [row] = await this.#sql<
        { n: number }[]
      >`select count(*)::int as n from log_partitions where topic = ${topic}`
      count = row?.n ?? 0
      if (count === 0) throw new AppError('UNKNOWN_TOPIC', `topic ${topic} does not exist`, false)
      this.#partitionCounts.set(topic, count)
    }
    return count
  }

  /** @internal LISTENs for appends, once; resolves when the server listens. */
  listening(): Promise<unknown> {
    this.#listening ??= this.#sql
      .listen(CHANNEL, (topic) => {
        this.#heard.set(topic, (this.#heard.get(topic) ?? 0) + 1)
        for (const wake of this.#waiters) wake(topic)
      })
      .then((l) => {
        this.#unlisten = l.unlisten
      })
    return this.#listening
  }

  /**
   * @internal How many appends to `topics` this log has been told of. A consumer takes it before
   * it fetches and gives it to waitForAppend: an append told of while the fetch ran (committed
   * after the fetch's snapshot, before anyone waited) ends the wait at once instead of being
   * missed until the wait times out.
   */
  appendsHeard(topics: readonly string[]): number {
    let n = 0
    for (const topic of topics) n += this.#heard.get(topic) ?? 0
    return n
  }

  /**
   * @internal Resolves when a record is appended to one of `topics`, or after `ms`; at once if
   * appends to them were told of since `heard` (appendsHeard).
   */
  async waitForAppend(topics: readonly string[], ms: number, heard?: number): Promise<void> {
    await this.listening()
    if (heard !== undefined && this.appendsHeard(topics) !== heard) return
    await new Promise<void>((resolve) => {
      const done = (topic: string) => {
        if (topic !== '' && !topics.includes(topic)) return
        clearTimeout(timer)
        this.#waiters.delete(done)
        resolve()
      }
      const timer = setTimeout(() => done(''), ms)
      this.#waiters.add(done)
    })
  }
}

type Timing = { sessionTimeoutMs: number; heartbeatMs: number; leases: Sql }
type Tp = { topic: string; partition: number }

export class PgLogConsumer implements LogConsumer {
  readonly #member = randomUUID()
  readonly #positions = new Map<string, bigint>()
  #owned: string[] = []
  #rebalancedAt = 0
  #closed = false
  #heartbeat: ReturnType<typeof setInterval> | undefined

  constructor(
    private readonly log: PgLog,
    private readonly sql: Sql,
    private readonly options: ConsumerOptions,
    private readonly timing: Timing,
  ) {}

  assignment(): readonly string[] {
    return this.#owned
  }

  /**
   * If reading fails part way (the database went away), positions may have moved past records the
   * caller never received: forget them, so the next poll starts again from the committed offsets
   * (records processed but not committed are delivered again, which stages absorb).
   */
  async poll(): Promise<Batch> {
    try {
      return await this.#poll()
    } catch (error) {
      this.#positions.clear()
      this.#owned = []
      this.#rebalancedAt = 0
      throw error
    }
  }

  async #poll(): Promise<Batch> {
    const deadline = Date.now() + this.options.maxWaitMs
    for (;;) {
      if (Date.now() - this.#rebalancedAt >= this.timing.heartbeatMs) await this.#rebalance()
      // Listening before the fetch, and counting what was heard: an append that commits after the
      // fetch's snapshot is either read by it or heard, and then not waited for.
      await this.log.listening()
      const heard = this.log.appendsHeard(this.options.topics)
      const records = await this.#fetch()
      const left = deadline - Date.now()
      if (records.length > 0 || this.#closed || left <= 0) return { records, nextOffsets: nextOffsetsOf(records) }
      await this.log.waitForAppend(this.options.topics, Math.min(left, this.timing.heartbeatMs), heard)
    }
  }

  async commit(offsets: readonly PartitionOffset[]): Promise<void> {
    await this.commitWithin(this.sql, offsets)
  }

  /**
   * Commits inside the caller's transaction `tx`: the consumer's writes and its progress commit or
   * roll back together. Throws PARTITION_LOST (and so aborts `tx`) if a lease was lost meanwhile.
   */
  async commitWithin(tx: Sql | Tx, offsets: readonly PartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return
    const g = this.options.group
    // Leases are share-locked in (topic, partition) order, the order #renew locks them in.
    const sorted = [...offsets].sort((a, b) =>
      a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition,
    )
    const done = await tx<Tp[]>`
      insert into log_group_offsets (grp, topic, partition, next_offset, committed_at)
      select ${g}, o.topic, o.partition, o.next_offset, clock_timestamp()
      from unnest(${sorted.map((o) => o.topic)}::text[], ${sorted.map((o) => o.partition)}::int[],
                  ${sorted.map((o) => o.offset.toString())}::bigint[]) as o(topic, partition, next_offset)
      where exists (select 1 from log_partition_leases l
                    where l.grp = ${g} and l.topic = o.topic and l.partition = o.partition
                      and l.owner = ${this.#member} and l.expires_at > clock_timestamp() for share)
      on conflict (grp, topic, partition)
      do update set next_offset = excluded.next_offset, committed_at = excluded.committed_at
      returning topic, partition`
    if (done.length < offsets.length) {
      const ok = new Set(done.map((d) => `${d.topic}/${d.partition}`))
      const lost = offsets.map((o) => `${o.topic}/${o.partition}`).filter((tp) => !ok.has(tp))
      // Whoever owns them next reads them from the committed offset: this member too, when it
      // claims them again (its lease lapsed and nobody else took them). Kept, its position past
      // the batch would skip it, and the group's offset would stay behind it for good.
      for (const tp of lost) this.#positions.delete(tp)
      this.#rebalancedAt = 0 // re-read the assignment at the next poll
      throw new AppError('PARTITION_LOST', `partitions reassigned before commit: ${lost.join(', ')}`, true)
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#heartbeat)
    const g = this.options.group
    await this.sql`delete from log_partition_leases where grp = ${g} and owner = ${this.#member}`
    await this.sql`delete from log_group_members where grp = ${g} and member = ${this.#member}`
    this.#owned = []
  }

  /**
   * Reads up to maxRecords from owned partitions. Each round asks every candidate partition for an
   * even share of what is left (asking each for maxRecords would read and sort n times too many
   * rows); partitions that filled their share may hold more and stay candidates for the next round,
   * so a batch from one hot partition still fills up.
   */
  async #fetch(): Promise<LogRecord[]> {
    const out: LogRecord[] = []
    let candidates = this.#owned
    while (candidates.length > 0 && out.length < this.options.maxRecords) {
      const share = Math.ceil((this.options.maxRecords - out.length) / candidates.length)
      const records = await this.#fetchRound(candidates, share, this.options.maxRecords - out.length)
      out.push(...records)
      const counts = new Map<string, number>()
      for (const r of records)
        counts.set(`${r.topic}/${r.partition}`, (counts.get(`${r.topic}/${r.partition}`) ?? 0) + 1)
      candidates = candidates.filter((tp) => counts.get(tp) === share)
    }
    return out
  }

  async #fetchRound(partitions: readonly string[], perPartition: number, limit: number): Promise<LogRecord[]> {
    const tps = partitions.map(splitTp)
    const rows = await this.sql<
      { topic: string; partition: number; offset: bigint; key: string; value: string; ms: number }[]
    >`
      select r.topic, r.partition, r."offset", r.key, r.value,
             (extract(epoch from r.appended_at) * 1000)::float8 as ms
      from unnest(${tps.map((t) => t[0])}::text[], ${tps.map((t) => t[1])}::int[],
                  ${partitions.map((tp) => String(this.#positions.get(tp) ?? 0n))}::bigint[])
           as w(topic, partition, from_offset)
      cross join lateral (
        select * from log_records r
        where r.topic = w.topic and r.partition = w.partition and r."offset" >= w.from_offset
        order by r."offset" limit ${perPartition}
      ) r
      order by r."offset" - w.from_offset, r.topic, r.partition
      limit ${limit}`
    const records = rows.map((r) => ({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      key: r.key,
      value: r.value,
      timestampMs: r.ms,
    }))
    for (const next of nextOffsetsOf(records)) this.#positions.set(`${next.topic}/${next.partition}`, next.offset)
    return records
  }

  /**
   * Heartbeat, then move towards a fair share: release leases above ceil(partitions / live members),
   * claim free or expired ones below it. Newly owned partitions restart from the committed offset.
   */
  async #rebalance(): Promise<void> {
    this.#heartbeat ??= setInterval(() => {
      // A failed renewal is not fatal: the lease may lapse and the commit fence catches it.
      this.#renew().catch(() => {})
    }, this.timing.heartbeatMs)
    this.#heartbeat.unref?.()

    const { group: g, topics } = this.options
    const timeout = this.timing.sessionTimeoutMs
    const mine = await this.#renew()
    await this.sql`delete from log_group_members
      where grp = ${g} and seen_at < clock_timestamp() - ${timeout} * interval '1 millisecond'`
    const [counts] = await this.sql<{ live: number; total: number }[]>`
      select (select count(*)::int from log_group_members where grp = ${g}) as live,
             (select count(*)::int from log_partitions where topic = any(${topics as string[]}::text[])) as total`
    const fair = Math.ceil((counts?.total ?? 0) / Math.max(1, counts?.live ?? 1))

    if (mine.length > fair) {
      const extra = mine.splice(fair)
      await this.sql`delete from log_partition_leases l
        using unnest(${extra.map((t) => t.topic)}::text[], ${extra.map((t) => t.partition)}::int[]) as x(topic, partition)
        where l.grp = ${g} and l.owner = ${this.#member} and l.topic = x.topic and l.partition = x.partition`
    } else if (mine.length < fair) {
      const claimed = await this.sql<Tp[]>`
        insert into log_partition_leases (grp, topic, partition, owner, expires_at)
        select ${g}, p.topic, p.partition, ${this.#member}, clock_timestamp() + ${timeout} * interval '1 millisecond'
        from log_partitions p
        where p.topic = any(${topics as string[]}::text[])
          and not exists (select 1 from log_partition_leases l where l.grp = ${g} and l.topic = p.topic
                          and l.partition = p.partition and l.expires_at > clock_timestamp())
        order by p.partition, p.topic
        limit ${fair - mine.length}
        on conflict (grp, topic, partition) do update set owner = excluded.owner, expires_at = excluded.expires_at
          where log_partition_leases.expires_at <= clock_timestamp()
        returning topic, partition`
      mine.push(...claimed)
    }

    const owned = mine.map((t) => `${t.topic}/${t.partition}`).sort()
    const gained = owned.filter((tp) => !this.#positions.has(tp))
    for (const tp of this.#positions.keys()) if (!owned.includes(tp)) this.#positions.delete(tp)
    if (gained.length > 0) {
      const committed = await this.sql<{ topic: string; partition: number; next_offset: bigint }[]>`
        select o.topic, o.partition, o.next_offset from log_group_offsets o
        join unnest(${gained.map((tp) => splitTp(tp)[0])}::text[], ${gained.map((tp) => splitTp(tp)[1])}::int[])
          as x(topic, partition) using (topic, partition)
        where o.grp = ${g}`
      const from = new Map(committed.map((c) => [`${c.topic}/${c.partition}`, c.next_offset]))
      for (const tp of gained) this.#positions.set(tp, from.get(tp) ?? 0n)
    }
    this.#owned = owned
    this.#rebalancedAt = Date.now()
  }

  /** Marks this member alive and extends its leases; returns the partitions it still holds. */
  async #renew(): Promise<Tp[]> {
    const g = this.options.group
    const timeout = this.timing.sessionTimeoutMs
    const sql = this.timing.leases
    await sql`insert into log_group_members (grp, member, seen_at) values (${g}, ${this.#member}, clock_timestamp())
      on conflict (grp, member) do update set seen_at = excluded.seen_at`
    return [
      // Rows locked in (topic, partition) order, as commitWithin locks them: a commit holding some
      // leases while this renewal holds others deadlocked (PostgreSQL broke it by failing one).
      ...(await sql<Tp[]>`update log_partition_leases l
        set expires_at = clock_timestamp() + ${timeout} * interval '1 millisecond'
        from (select topic, partition from log_partition_leases
              where grp = ${g} and owner = ${this.#member} and expires_at > clock_timestamp()
              order by topic collate "C", partition for update) mine
        where l.grp = ${g} and l.topic = mine.topic and l.partition = mine.partition
        returning l.topic, l.partition`),
    ].sort((a, b) => a.partition - b.partition || a.topic.localeCompare(b.topic))
  }
}
