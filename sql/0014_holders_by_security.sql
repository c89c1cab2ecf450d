-- The valuation fan-out asks which portfolios hold security S (every price batch, for every
-- security in it). position_history's index leads with the portfolio, so that question read the
-- whole table each time; this index answers it with the security's own rows.
create index position_history_by_security on position_history (position_id, portfolio_id);
