-- Valuation and series record their lineage per portfolio only (position_id ''): each of their
-- runs covers every position of the portfolio over its days, so the rows per position repeated
-- the portfolio's and were the larger part of a late price's write. A position's lineage reads
-- the portfolio's row for these two stages (src/query/pg-reads.ts, positionLineage). The positions
-- stage keeps its rows per position.
delete from lineage where stage in ('valuation', 'timeseries') and position_id <> '';
