-- The per-day tables a back-dated change rewrites from its date on, stored one row per
-- portfolio-month: the day sums (portfolio_values) and the portfolio series (portfolio_series).
-- A correction five years back changes the sum and the series point of every day since: 1,300
-- rows of each, rewritten per correction, were most of what the valuation and series stages wrote
-- (docs/scale.md, Ten-year histories). As months the same change rewrites 60 rows of each: on this
-- machine 3 ms instead of 12 (series, delete and insert) and 19 (day sums, upsert).
--
-- Each row holds the month's days in date order, one array element per day, all arrays of one
-- length; a day is in at most one row. The stages read and write them through
-- src/adapters/pg-day-months.ts. Everything that reads a day at a time reads the views of the old
-- names, which unnest the months (with `month`, to bound a read by an index range, and `version`,
-- the row version of the day's month).

create table portfolio_value_months (
  portfolio_id text      not null,
  month        date      not null, -- the first day of the month
  dates        date[]    not null,
  emv_base     numeric[] not null, -- the valued positions' market value, base currency
  positions    integer[] not null, -- positions with a valuation that day, valued or not
  complete     boolean[] not null, -- every one of them valued
  primary key (portfolio_id, month)
);

insert into portfolio_value_months (portfolio_id, month, dates, emv_base, positions, complete)
select portfolio_id, date_trunc('month', date)::date, array_agg(date order by date),
       array_agg(emv_base order by date), array_agg(positions order by date), array_agg(complete order by date)
from portfolio_values group by portfolio_id, date_trunc('month', date);

drop table portfolio_values;

create view portfolio_values as
select m.portfolio_id, d.date, d.emv_base, d.positions, d.complete, m.month, m.xmin::text as version
from portfolio_value_months m
cross join lateral unnest(m.dates, m.emv_base, m.positions, m.complete) as d(date, emv_base, positions, complete);

create table portfolio_series_months (
  portfolio_id  text      not null,
  month         date      not null,
  dates         date[]    not null,
  bmv_base      numeric[] not null,
  emv_base      numeric[] not null,
  sod_flow_base numeric[] not null,
  eod_flow_base numeric[] not null,
  fees_base     numeric[] not null,
  income_base   numeric[] not null,
  complete      boolean[] not null,
  primary key (portfolio_id, month)
);

insert into portfolio_series_months
select portfolio_id, date_trunc('month', date)::date, array_agg(date order by date),
       array_agg(bmv_base order by date), array_agg(emv_base order by date), array_agg(sod_flow_base order by date),
       array_agg(eod_flow_base order by date), array_agg(fees_base order by date), array_agg(income_base order by date),
       array_agg(complete order by date)
from portfolio_series group by portfolio_id, date_trunc('month', date);

drop table portfolio_series;

create view portfolio_series as
select m.portfolio_id, d.date, d.bmv_base, d.emv_base, d.sod_flow_base, d.eod_flow_base, d.fees_base,
       d.income_base, d.complete, m.month, m.xmin::text as version
from portfolio_series_months m
cross join lateral unnest(m.dates, m.bmv_base, m.emv_base, m.sod_flow_base, m.eod_flow_base, m.fees_base,
                          m.income_base, m.complete)
  as d(date, bmv_base, emv_base, sod_flow_base, eod_flow_base, fees_base, income_base, complete);
