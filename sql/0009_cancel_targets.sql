-- A transaction that arrives after a CANCEL naming it: persist finds the CANCEL through this
-- index to recompute from the CANCEL's date (src/adapters/pg-input-store.ts, #transactions).
create index transactions_cancel_targets on transactions ((record->>'cancels')) where type = 'CANCEL';
