-- Daily series in base currency, derived by the timeseries stage (src/stages/timeseries.ts) from
-- valuations and cashflows; the input of performance and risk analytics. See docs/domain.md.

create table position_series (
  portfolio_id  text    not null,
  position_id   text    not null,
  date          date    not null,
  bmv_base      numeric not null,
  emv_base      numeric not null,
  sod_flow_base numeric not null,
  eod_flow_base numeric not null,
  fees_base     numeric not null,
  income_base   numeric not null,
  quantity      numeric not null,
  cost_base     numeric not null,
  primary key (portfolio_id, position_id, date)
);

create table portfolio_series (
  portfolio_id  text    not null,
  date          date    not null,
  bmv_base      numeric not null,
  emv_base      numeric not null,
  sod_flow_base numeric not null,
  eod_flow_base numeric not null,
  fees_base     numeric not null,
  income_base   numeric not null,
  complete      boolean not null,
  primary key (portfolio_id, date)
);
