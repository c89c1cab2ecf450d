-- What the day sums in portfolio_values were computed from, where it is no longer the history.
-- The positions stage rewrites a portfolio's history from a date D; most of the time only a few
-- positions come out different (a corrected trade: its security and its cash account). For each
-- of those it records here the rows the sums were valued with (the rows it replaced), so that the
-- valuation stage can revalue that position alone and add the difference to each day's sum,
-- instead of revaluing every position of the portfolio from D (docs/scale.md, Freshness).
--
-- A row per (portfolio, position) whose valued rows differ from its history from from_date on;
-- position_id '*' when the portfolio as a whole must be revalued from from_date (most of its
-- positions changed: cheaper than their old and new rows). `created` and `version` come from one
-- sequence: the positions stage bumps `version` whenever it changes the position again, and the
-- valuation stage consumes a row only if neither changed since it read it (src/adapters/pg-valuation-store.ts).
create sequence valuation_pending_version;

create table valuation_pending (
  portfolio_id text   not null,
  position_id  text   not null,
  from_date    date   not null,
  created      bigint not null,
  version      bigint not null,
  primary key (portfolio_id, position_id)
);

-- The rows a pending position was valued with, from its from_date on (the valuation reads of a
-- position_history row, HeldRow). Before from_date its history is what was valued.
create table superseded_history (
  portfolio_id text    not null,
  position_id  text    not null,
  date         date    not null,
  seq          integer not null,
  currency     text    not null,
  quantity     numeric not null,
  cost_local   numeric not null,
  cost_base    numeric not null,
  primary key (portfolio_id, position_id, date, seq)
);

-- A database written before: a positions run not yet valued (its notice still on its way) would be
-- revalued by nothing pending, so such portfolios are revalued as a whole from that run's date.
insert into valuation_pending (portfolio_id, position_id, from_date, created, version)
select p.portfolio_id, '*', p.from_date, n, n
from (select l.portfolio_id, l.from_date, nextval('valuation_pending_version') as n
      from lineage l
      left join lineage v on v.portfolio_id = l.portfolio_id and v.position_id = '' and v.stage = 'valuation'
      where l.stage = 'positions' and l.position_id = '' and (v.completed_at is null or v.completed_at < l.completed_at)) as p;
