-- The Postgres-backed event log (transport "pg", the embedded default). See src/adapters/pg-log.ts.

-- One row per topic partition; next_offset is the offset the next appended record gets. Appenders
-- lock the row, so offsets within a partition are dense and become visible in order.
create table log_partitions (
  topic       text   not null,
  partition   int    not null check (partition >= 0),
  next_offset bigint not null default 0,
  primary key (topic, partition)
);

create table log_records (
  topic       text        not null,
  partition   int         not null,
  "offset"    bigint      not null,
  key         text        not null,
  value       text        not null,
  appended_at timestamptz not null default clock_timestamp(),
  primary key (topic, partition, "offset")
);

-- Committed progress of consumer groups: the next offset to read.
create table log_group_offsets (
  grp          text        not null,
  topic        text        not null,
  partition    int         not null,
  next_offset  bigint      not null,
  committed_at timestamptz not null default clock_timestamp(),
  primary key (grp, topic, partition)
);

-- Live members of a group; a member whose seen_at is older than the session timeout is gone.
create table log_group_members (
  grp     text        not null,
  member  text        not null,
  seen_at timestamptz not null,
  primary key (grp, member)
);

-- Which member owns which partition, until expires_at. Commits are fenced on the lease.
create table log_partition_leases (
  grp        text        not null,
  topic      text        not null,
  partition  int         not null,
  owner      text        not null,
  expires_at timestamptz not null,
  primary key (grp, topic, partition)
);
