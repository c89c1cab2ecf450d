-- API keys (src/http/auth.ts, `pas keys`): a bearer token is `pas_<key_id>_<secret>`; only the
-- SHA-256 of the secret is stored. Scopes: ingest, read, admin. client_ids, when set, limits the key
-- to those clients' portfolios. A revoked key is kept, so writes it made stay attributable.
create table api_keys (
  key_id      text primary key,
  secret_hash text        not null,
  name        text        not null,
  scopes      text[]      not null check (scopes <@ array['ingest', 'read', 'admin']::text[] and cardinality(scopes) > 0),
  client_ids  text[],
  created_at  timestamptz not null default now(),
  revoked_at  timestamptz
);

-- Which key wrote each input last ('open' when auth was off): shown in lineage.
alter table portfolios   add column written_by text;
alter table instruments  add column written_by text;
alter table transactions add column written_by text;
alter table prices       add column written_by text;
alter table fx_rates     add column written_by text;
alter table benchmarks   add column written_by text;

-- Where the last applied record of each transaction id came from in the raw log: a batch delivered
-- again does not count its corrections twice (see PgInputStore, `version`).
alter table transactions add column source_partition int;
alter table transactions add column source_offset bigint;
