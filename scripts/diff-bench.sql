-- scripts/diff-bench.sql — what ts-diff --key id reports, as DuckDB computes
-- it: records only in the source (missing), only in the target (extra), in
-- both but different in some field (changed) or equal (matched), by a full
-- outer join on id.  Every field scripts/gen-diff writes is compared; a
-- nested object is compared as a whole (a struct).  'SOURCE' and 'TARGET'
-- are placeholders:
--   scripts/duckdb -D SOURCE=s.ndjson -D TARGET=t.ndjson -f scripts/diff-bench.sql
-- Keys must be distinct on each side (a repeated key multiplies the rows of
-- the join): this is the oracle of gen-diff's data without --dups.
with s as (
	select * from read_json('SOURCE', format='newline_delimited', columns={
		id:'BIGINT', name:'VARCHAR', email:'VARCHAR', country:'VARCHAR', status:'VARCHAR',
		amount:'DOUBLE', rate:'DOUBLE', qty:'BIGINT', active:'BOOLEAN', note:'VARCHAR',
		created:'VARCHAR',
		address:'STRUCT(street VARCHAR, city VARCHAR, zip VARCHAR, geo STRUCT(lat DOUBLE, lon DOUBLE))'})
), t as (
	select * from read_json('TARGET', format='newline_delimited', columns={
		id:'BIGINT', name:'VARCHAR', email:'VARCHAR', country:'VARCHAR', status:'VARCHAR',
		amount:'DOUBLE', rate:'DOUBLE', qty:'BIGINT', active:'BOOLEAN', note:'VARCHAR',
		created:'VARCHAR',
		address:'STRUCT(street VARCHAR, city VARCHAR, zip VARCHAR, geo STRUCT(lat DOUBLE, lon DOUBLE))'})
)
select count(*) filter (where t.id is null) as missing,
       count(*) filter (where s.id is null) as extra,
       count(*) filter (where s.id is not null and t.id is not null and
           (s.name, s.email, s.country, s.status, s.amount, s.rate, s.qty, s.active, s.note,
            s.created, s.address)
           is distinct from
           (t.name, t.email, t.country, t.status, t.amount, t.rate, t.qty, t.active, t.note,
            t.created, t.address)) as changed,
       count(*) filter (where s.id is not null and t.id is not null and
           (s.name, s.email, s.country, s.status, s.amount, s.rate, s.qty, s.active, s.note,
            s.created, s.address)
           is not distinct from
           (t.name, t.email, t.country, t.status, t.amount, t.rate, t.qty, t.active, t.note,
            t.created, t.address)) as matched
from s full outer join t on s.id = t.id;
