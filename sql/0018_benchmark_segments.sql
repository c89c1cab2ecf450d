-- A benchmark's composition by one classification (src/domain/records.ts BenchmarkSegment): per
-- business day each segment's weight at the start of the day and its return over the day. Return
-- attribution (src/query/attribution.ts) reads a benchmark's segments of a classification over a
-- period, in date order.
create table benchmark_segments (
  benchmark_id   text,
  classification text,
  date           date,
  segment        text,
  weight         numeric     not null check (weight >= 0 and weight <= 1),
  return         numeric     not null check (return > -1),
  written_by     text,
  updated_at     timestamptz not null default now(),
  primary key (benchmark_id, classification, date, segment)
);
