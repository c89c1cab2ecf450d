-- The FX rate the engine converted each cashflow at (base currency per unit of the cashflow's
-- currency; 1 in the base currency): the per-transaction economics of the query API show it.
-- Null for cashflows derived before this column existed, until their portfolio is recomputed
-- (POST /v1/admin/reprocess, or any transaction of the portfolio dated on or before them).
alter table cashflows add column fx_rate numeric;
