-- Benchmarks a user ingests (src/http/ingest.ts → persist): one row per benchmark per date, as an
-- index level or as the day's return (exactly one of the two). Risk and performance read them to
-- compare a portfolio against its benchmark (src/query/).
create table benchmarks (
  benchmark_id text,
  date         date,
  level        numeric,
  return       numeric,
  updated_at   timestamptz not null default now(),
  primary key (benchmark_id, date),
  check ((level is null) <> (return is null))
);

-- Reads of the query API: cashflows by portfolio and date exist; dead letters by key serve the
-- support view of one portfolio.
create index dead_letters_by_key on dead_letters (key);
