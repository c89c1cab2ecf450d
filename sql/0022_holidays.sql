-- Holiday calendars (issue 14): a portfolio whose `calendar` names one of these is valued on
-- weekdays that are not its holidays (src/domain/dates.ts). A row per calendar and day; a
-- holiday sent again with `cancelled: true` goes, and either way the calendar's portfolios are
-- revalued from that day.
create table holidays (
  calendar_id text not null,
  date        date not null,
  name        text,
  written_by  text not null default 'open',
  updated_at  timestamptz not null default now(),
  primary key (calendar_id, date)
);
