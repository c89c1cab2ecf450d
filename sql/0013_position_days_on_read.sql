-- A position-day's value is quantity × price × FX of rows already stored (position history,
-- prices, FX rates): the query API values position-days on read (src/query/position-days.ts),
-- and nothing stores one row per position-day any more. What the valuation stage keeps is per
-- portfolio-day (portfolio_values) and the position-days it could not value, with the reason.
create table unvalued_days (
  portfolio_id text not null,
  position_id  text not null,
  date         date not null,
  status       text not null, -- MISSING_PRICE or MISSING_FX
  primary key (portfolio_id, date, position_id)
);

insert into unvalued_days (portfolio_id, position_id, date, status)
select portfolio_id, position_id, date, status from valuations where status <> 'VALUED';

drop table valuations;
