-- The portfolio series keeps what its own stage computes: each day's flows, fees and income. A
-- day's market value (emv), the day before's (bmv) and whether every position was valued
-- (complete) are the day sums' (portfolio_value_months), which the series repeated. A correction
-- ten years back changed the sum of every day since, so the series stage rewrote every month of
-- the series after the valuation stage had rewritten every month of the sums (about 20 ms of the
-- 42 the series stage took per correction on the decade workload), and a late price rewrote the
-- series month of each of its holders' revalued days. Now the series stage writes only the months
-- whose flows changed, which a price never changes and a correction rarely does.
--
-- The readers join the two (src/query/pg-reads.ts portfolioSeries; the view below for SQL that
-- reads a day at a time): a series day's emv is that day's sum (0 with no sum), its bmv the emv of
-- the series day before (0 on the first), its completeness the sum's (complete with no sum).
drop view portfolio_series;

alter table portfolio_series_months drop column bmv_base, drop column emv_base, drop column complete;

create view portfolio_series as
select f.portfolio_id, f.date,
       lag(coalesce(v.emv_base, 0), 1, 0::numeric) over (partition by f.portfolio_id order by f.date) as bmv_base,
       coalesce(v.emv_base, 0) as emv_base,
       f.sod_flow_base, f.eod_flow_base, f.fees_base, f.income_base,
       coalesce(v.complete, true) as complete, f.month, f.version
from (select m.portfolio_id, m.month, m.xmin::text as version, d.date, d.sod_flow_base, d.eod_flow_base,
             d.fees_base, d.income_base
      from portfolio_series_months m
      cross join lateral unnest(m.dates, m.sod_flow_base, m.eod_flow_base, m.fees_base, m.income_base)
        as d(date, sod_flow_base, eod_flow_base, fees_base, income_base)) as f
left join portfolio_values v on v.portfolio_id = f.portfolio_id and v.month = f.month and v.date = f.date;
