-- A position's daily series is derived on read from its valuations and cashflows
-- (src/query/pg-reads.ts, positionSeries): storing it doubled every position-day written.
drop table position_series;
