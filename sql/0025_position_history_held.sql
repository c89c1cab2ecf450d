-- What valuation reads of a position's history, in the index it reads it by. A late price or a
-- query values a portfolio from a date on, starting from each position's last row before it: over
-- ten years that meant reading every earlier row of the portfolio from the table (1,800 rows per
-- portfolio, each on a page of its own with the lots beside it). With the columns valuation reads
-- carried in the index, ordered as it wants them, the read is a scan of the index alone: on the
-- decade workload, the history of 40 portfolios holding a late-priced security took 107-153 ms,
-- now 43-48. The index it replaces led with the same columns, so every read it served, this one
-- serves; it is about twice its size.
create index position_history_held on position_history (portfolio_id, position_id, date, seq)
  include (currency, quantity, cost_local, cost_base);
drop index position_history_by_position;
