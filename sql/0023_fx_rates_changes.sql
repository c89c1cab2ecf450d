-- Every statement that writes fx_rates adds a row here (a statement trigger, so any writer counts:
-- persist, a migration, an operator's fix). The positions and valuation stages keep the rates in
-- memory and read them again only when the count moved (src/adapters/pg-fx.ts): ten years of
-- three pairs are 7,800 rates, which every load read again. A count, not a version row: rows are
-- inserted without taking a lock, and a count moves when any of them commits, in whatever order.
create table fx_rates_changes (
  id bigint generated always as identity primary key,
  at timestamptz not null default now()
);

create function fx_rates_changed() returns trigger language plpgsql as $$
begin
  insert into fx_rates_changes default values;
  return null;
end
$$;

create trigger fx_rates_changed after insert or update or delete or truncate on fx_rates
  for each statement execute function fx_rates_changed();
