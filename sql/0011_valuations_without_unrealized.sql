-- Unrealized P&L is market value − cost of the same row: the query API computes it on read
-- (src/query/pg-reads.ts), so a position-day stores two numbers fewer.
alter table valuations drop column unrealized_local, drop column unrealized_base;
