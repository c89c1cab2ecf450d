-- Lineage: what each derived figure reflects. Written by the positions, valuation and timeseries
-- stages in the same transaction as their rows, per portfolio (position_id '') and per position.
-- A figure is current when inputs_as_of is later than the newest input it depends on (e.g. the
-- portfolio's transactions.updated_at for positions), pending otherwise.
create table lineage (
  portfolio_id text        not null,
  position_id  text        not null default '',
  stage        text        not null,
  completed_at timestamptz not null,
  from_date    date        not null,
  through_date date,
  inputs_as_of timestamptz not null,
  primary key (portfolio_id, position_id, stage)
);
