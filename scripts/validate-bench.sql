-- scripts/validate-bench.sql — what the benchmark ruleset of ts-validate
-- (RowCount, IsComplete on four fields, IsUnique "eventID", ColumnLength
-- "eventID") needs, as DuckDB computes it: rows, non-null values of each
-- field, distinct eventIDs, shortest and longest eventID.  'FILE' is a
-- placeholder: scripts/duckdb -D FILE=data.ndjson -f scripts/validate-bench.sql
select count(*), count(eventID), count(eventTime), count(eventName), count(awsRegion),
       count(distinct eventID), min(length(eventID)), max(length(eventID))
from read_json('FILE', format='newline_delimited',
               columns={eventID:'VARCHAR', eventTime:'VARCHAR', eventName:'VARCHAR', awsRegion:'VARCHAR'});
