-- Trades that settle in another currency's cash (settlementCurrency): a late or corrected rate
-- between the two currencies recomputes their portfolios (PgInputStore's FX fan-out). Few trades
-- do, so a partial index finds them without reading every transaction.
create index transactions_settled on transactions (trade_date) where record ? 'settlementCurrency';
