-- Inputs as persisted by the persist stage (src/stages/persist.ts): reference data, transactions,
-- prices and FX rates, merged on natural keys, plus the dead letters of any stage.
-- `record` keeps the validated input as received; the typed columns are what queries filter on.

create table portfolios (
  portfolio_id  text primary key,
  base_currency text        not null,
  open_date     date        not null,
  cost_method   text        not null check (cost_method in ('FIFO', 'AVCO')),
  record        jsonb       not null,
  updated_at    timestamptz not null default now()
);

create table instruments (
  security_id text primary key,
  currency    text        not null,
  record      jsonb       not null,
  updated_at  timestamptz not null default now()
);

-- version counts stored contents: a transaction id received again with other content is a correction.
create table transactions (
  transaction_id text primary key,
  portfolio_id   text        not null,
  security_id    text,
  type           text        not null,
  trade_date     date        not null,
  record         jsonb       not null,
  version        int         not null default 1,
  updated_at     timestamptz not null default now()
);
create index transactions_by_portfolio on transactions (portfolio_id, trade_date);

create table prices (
  security_id text,
  date        date,
  price       numeric     not null,
  currency    text        not null,
  updated_at  timestamptz not null default now(),
  primary key (security_id, date)
);

create table fx_rates (
  from_currency text,
  to_currency   text,
  date          date,
  rate          numeric     not null,
  updated_at    timestamptz not null default now(),
  primary key (from_currency, to_currency, date)
);

-- A record a stage could not take, with where it came from; replayable after a fix.
create table dead_letters (
  id          bigserial primary key,
  stage       text        not null,
  topic       text        not null,
  partition   int         not null,
  "offset"    bigint      not null,
  key         text        not null,
  payload     text        not null,
  code        text        not null,
  reason      text        not null,
  created_at  timestamptz not null default now(),
  replayed_at timestamptz,
  unique (stage, topic, partition, "offset")
);
