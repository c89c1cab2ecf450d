-- The system's current date, up to which valuations and series run (one row), and the daily
-- valuations the valuation stage derives (src/stages/valuation.ts).

create table business_date (
  singleton  boolean primary key default true check (singleton),
  date       date        not null,
  updated_at timestamptz not null default now()
);

-- One row per position per business day it is held (and the day it was closed). A row with a
-- status other than VALUED has no market value: missing data is reported, never zero.
create table valuations (
  portfolio_id       text    not null,
  position_id        text    not null,
  date               date    not null,
  status             text    not null,
  quantity           numeric not null,
  price              numeric,
  price_date         date,
  fx_rate            numeric,
  market_value_local numeric,
  market_value_base  numeric,
  cost_local         numeric not null,
  cost_base          numeric not null,
  unrealized_local   numeric,
  unrealized_base    numeric,
  primary key (portfolio_id, date, position_id)
);
