-- The correlation id of the ingest request that wrote each transaction's current content (the
-- caller's X-Correlation-ID, else one pas made): where a record came from, beside who wrote it.
-- Kept out of the record itself, so sending the same content again in another request is not a
-- correction.
alter table transactions add column ingest_id text;
