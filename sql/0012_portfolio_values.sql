-- A portfolio's valuations summed per day, written by the valuation stage in the same transaction
-- as the valuations: the series stage continues from these sums instead of reading every
-- position-day again (src/adapters/pg-series-store.ts).
create table portfolio_values (
  portfolio_id text    not null,
  date         date    not null,
  emv_base     numeric not null, -- the valued positions' market value, base currency
  positions    integer not null, -- positions with a valuation that day, valued or not
  complete     boolean not null, -- every one of them valued
  primary key (portfolio_id, date)
);

insert into portfolio_values (portfolio_id, date, emv_base, positions, complete)
select portfolio_id, date, coalesce(sum(market_value_base) filter (where status = 'VALUED'), 0), count(*),
       bool_and(status = 'VALUED')
from valuations group by portfolio_id, date;
