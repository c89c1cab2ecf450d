-- Derived by the positions stage (src/stages/positions.ts) from the inputs; replaced from a date on
-- whenever a portfolio is recomputed. See docs/domain.md for what each column means.

-- One row per position per transaction that changed it; seq orders the rows of one portfolio-day
-- the way the engine applied them, so "the state before D" is the last row by (date, seq).
create table position_history (
  portfolio_id        text    not null,
  position_id         text    not null,
  date                date    not null,
  seq                 int     not null,
  transaction_id      text    not null,
  currency            text    not null,
  quantity            numeric not null,
  cost_local          numeric not null,
  cost_base           numeric not null,
  realized_local      numeric not null,
  realized_base       numeric not null,
  realized_price_base numeric not null,
  realized_fx_base    numeric not null,
  income_base         numeric not null,
  lots                jsonb   not null,
  primary key (portfolio_id, date, seq, position_id)
);
create index position_history_by_position on position_history (portfolio_id, position_id, date);

create table cashflows (
  portfolio_id   text    not null,
  transaction_id text    not null,
  position_id    text    not null,
  date           date    not null,
  type           text    not null,
  class          text    not null,
  timing         text    not null,
  scope          text    not null,
  currency       text    not null,
  amount_local   numeric not null,
  amount_base    numeric not null,
  fee_local      numeric not null,
  fee_base       numeric not null,
  primary key (portfolio_id, transaction_id)
);
create index cashflows_by_date on cashflows (portfolio_id, date);

-- Transactions the engine could not apply, with the reason; derived, so recomputed like the rest.
create table transaction_rejections (
  portfolio_id   text not null,
  transaction_id text not null,
  date           date not null,
  code           text not null,
  reason         text not null,
  primary key (portfolio_id, transaction_id)
);
