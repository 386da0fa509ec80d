/* test_fields.c — lib/fields.h: record shaping (select, metadata, parent
 * fields, renames), each alone and combined, and the list parser. */
#include <stdlib.h>

#include "check.h"
#include "fields.h"

#define S(lit) (struct ts_span){(lit), sizeof(lit) - 1}

/* The metadata ts-extract --cwl --meta adds, in its order. */
static const char *const cwl_keys[] = {"logGroup", "logStream", "owner", "id", "timestamp"};
#define NMETA (sizeof(cwl_keys) / sizeof(cwl_keys[0]))

/* A payload's envelope and one event, as spans into it. */
static const struct ts_span cwl_vals[NMETA] = {
	{"\"g\"", 3}, {"\"s\"", 3}, {"\"o\"", 3}, {"\"1\"", 3}, {"7", 1}};

/* The same, with whitespace inside values (a payload may have it). */
static const struct ts_span spaced_vals[NMETA] = {
	{"[ \"g\" ]", 7}, {"\"s\"", 3}, {"{ }", 3}, {"\"1\"", 3}, {"7", 1}};

struct req {
	const char *select, *parents, *renames;
	int meta;
	const char *names[4]; /* KEY=NAME */
};

/* A shaper for the requests in r; fails the test when one does not parse. */
static void setup(struct ts_fields *f, const struct req *r)
{
	char err[256] = "";

	ts_fields_init(f);
	for (size_t i = 0; i < NMETA; i++)
		CHECK(ts_fields_meta_key(f, cwl_keys[i]) == (int)i);
	if (r->select && !CHECK(ts_fields_add_select(f, r->select, err, sizeof(err)) == 0))
		fprintf(stderr, "    %s\n", err);
	if (r->parents && !CHECK(ts_fields_add_parents(f, r->parents, err, sizeof(err)) == 0))
		fprintf(stderr, "    %s\n", err);
	if (r->renames && !CHECK(ts_fields_add_renames(f, r->renames, err, sizeof(err)) == 0))
		fprintf(stderr, "    %s\n", err);
	if (r->meta)
		ts_fields_meta_on(f);
	for (int i = 0; i < 4 && r->names[i]; i++)
		if (!CHECK(ts_fields_meta_name(f, r->names[i], err, sizeof(err)) == 0))
			fprintf(stderr, "    %s\n", err);
	CHECK(ts_fields_ready(f) == 0);
}

/* Shape one record and compare with want (NULL: not an object). */
static void shaped_(const struct req *r, const char *rec, int message, int with_meta,
		    const char *parent, const char *want, int line)
{
	struct ts_fields f;
	struct ts_buf out;
	struct ts_json_scan sc;
	struct ts_json_keys keys;
	struct ts_span v = {rec, strlen(rec)};
	int rc;

	setup(&f, r);
	ts_buf_init(&out, 0);
	ts_buf_addstr(&out, "before|");
	/* as a scan hands records over: validated, whitespace noted, and with
	 * an index of an object's members */
	if (!message && !check_(ts_json_scan_keys(rec, rec + v.n, 1, 0, &keys, &sc) == TS_JSON_OK,
				__FILE__, line, "the record is JSON"))
		return;
	struct ts_fields_rec fr = {v, message, message ? 0 : sc.has_ws, message ? NULL : &keys};
	struct ts_span p = parent ? (struct ts_span){parent, strlen(parent)} : v;
	ts_fields_set_parent(&f, p);
	rc = ts_fields_write(&f, &out, &fr, with_meta ? cwl_vals : NULL);
	if (!want) {
		check_(rc == TS_FIELDS_NOT_OBJECT, __FILE__, line, "not an object");
		check_mem_(out.data, out.len, "before|", 7, __FILE__, line, "nothing written");
	} else {
		check_(rc == 0, __FILE__, line, "written");
		if (check_(out.len >= 7 && memcmp(out.data, "before|", 7) == 0, __FILE__, line,
			   "appended"))
			check_mem_(out.data + 7, out.len - 7, want, strlen(want), __FILE__, line, rec);
	}
	/* the same without the index of members: the same bytes */
	if (!message && want) {
		ts_buf_reset(&out);
		fr.keys = NULL;
		rc = ts_fields_write(&f, &out, &fr, with_meta ? cwl_vals : NULL);
		check_(rc == 0, __FILE__, line, "written without keys");
		check_mem_(out.data, out.len, want, strlen(want), __FILE__, line, "without keys");
	}
	ts_buf_release(&out);
	ts_fields_release(&f);
}
#define SHAPED(r, rec, want) shaped_((r), (rec), 0, 1, NULL, (want), __LINE__)
#define SHAPED_MSG(r, msg, want) shaped_((r), (msg), 1, 1, NULL, (want), __LINE__)
#define SHAPED_PARENT(r, rec, parent, want) shaped_((r), (rec), 0, 0, (parent), (want), __LINE__)

static void test_copy(void)
{
	static const struct req none = {0};

	SHAPED(&none, "{\"a\":1}", "{\"a\":1}");
	SHAPED(&none, "{ \"a\" : [ 1, 2 ] ,\n\"b\":\" x \" }", "{\"a\":[1,2],\"b\":\" x \"}");
	SHAPED(&none, "{\"k\\u0065y\":\"\\u00e9\"}", "{\"k\\u0065y\":\"\\u00e9\"}");
	/* any value passes through when nothing is asked of it */
	SHAPED(&none, "5", "5");
	SHAPED(&none, "[1, 2]", "[1,2]");
	SHAPED(&none, "null", "null");
	SHAPED_MSG(&none, "\"plain \\\"text\\\"\"", "{\"message\":\"plain \\\"text\\\"\"}");
	/* metadata is not asked for: none is added */
	SHAPED(&none, "{}", "{}");
}

static void test_select(void)
{
	static const struct req r = {.select = "e,b.c,a,zz"};

	SHAPED(&r, "{\"a\":1,\"b\":{\"c\":2,\"d\":3},\"e\":4}", "{\"e\":4,\"c\":2,\"a\":1}");
	SHAPED(&r, "{\"e\":5}", "{\"e\":5}");
	SHAPED(&r, "{}", "{}");
	SHAPED(&r, "{ \"a\" : { \"x\" : [ 1 ] } }", "{\"a\":{\"x\":[1]}}");
	/* a message record has one field: message */
	static const struct req m = {.select = "a,message"};
	SHAPED_MSG(&m, "\"text\"", "{\"message\":\"text\"}");
	SHAPED_MSG(&r, "\"text\"", "{}");
	/* the last of duplicate keys, as jq finds it */
	SHAPED(&r, "{\"a\":1,\"a\":2}", "{\"a\":2}");
	/* quoted keys, with commas and escapes in them */
	static const struct req q = {.select = ".\"a,b\",.[\"c d\"],.\"\\u00e9\""};
	SHAPED(&q, "{\"c d\":2,\"a,b\":1,\"\xc3\xa9\":3}", "{\"a,b\":1,\"c d\":2,\"\xc3\xa9\":3}");
	/* a record key with escapes is found by its decoded name, and written
	 * under the path's name */
	static const struct req e = {.select = "ab"};
	SHAPED(&e, "{\"a\\u0062\":1}", "{\"ab\":1}");
	/* several --fields add up */
	struct ts_fields f;
	char err[256];
	ts_fields_init(&f);
	CHECK(ts_fields_add_select(&f, "a", err, sizeof(err)) == 0);
	CHECK(ts_fields_add_select(&f, "b,c", err, sizeof(err)) == 0);
	CHECK(f.nselect == 3);
	ts_fields_release(&f);
}

static void test_meta(void)
{
	static const struct req r = {.meta = 1};

	/* after the record's own fields, in the declared order */
	SHAPED(&r, "{\"x\":1}", "{\"x\":1,\"logGroup\":\"g\",\"logStream\":\"s\",\"owner\":\"o\","
				"\"id\":\"1\",\"timestamp\":7}");
	SHAPED(&r, "{}", "{\"logGroup\":\"g\",\"logStream\":\"s\",\"owner\":\"o\","
			 "\"id\":\"1\",\"timestamp\":7}");
	SHAPED(&r, "{ \"x\" : [ 1 ]\n}", "{\"x\":[1],\"logGroup\":\"g\",\"logStream\":\"s\","
					 "\"owner\":\"o\",\"id\":\"1\",\"timestamp\":7}");
	SHAPED_MSG(&r, "\"m\"", "{\"message\":\"m\",\"logGroup\":\"g\",\"logStream\":\"s\","
				"\"owner\":\"o\",\"id\":\"1\",\"timestamp\":7}");
	/* the record's own field wins, however its key is written */
	SHAPED(&r, "{\"id\":\"mine\",\"x\":1}",
	       "{\"id\":\"mine\",\"x\":1,\"logGroup\":\"g\",\"logStream\":\"s\",\"owner\":\"o\","
	       "\"timestamp\":7}");
	SHAPED(&r, "{\"o\\u0077ner\":0,\"logGroup\":1,\"logStream\":2,\"id\":3,\"timestamp\":4}",
	       "{\"o\\u0077ner\":0,\"logGroup\":1,\"logStream\":2,\"id\":3,\"timestamp\":4}");
	/* renamed, left out */
	static const struct req n = {.names = {"owner=", "logGroup=group", "id=a\"b\xc3\xa9"}};
	SHAPED(&n, "{\"x\":1}", "{\"x\":1,\"group\":\"g\",\"logStream\":\"s\","
				"\"a\\\"b\xc3\xa9\":\"1\",\"timestamp\":7}");
	/* ... and the record's own field of the new name wins */
	SHAPED(&n, "{\"group\":1}", "{\"group\":1,\"logStream\":\"s\",\"a\\\"b\xc3\xa9\":\"1\","
				    "\"timestamp\":7}");
	static const struct req all_out = {.names = {"owner=", "logGroup=", "logStream=", "id="}};
	static const struct req ts_out = {.names = {"timestamp="}};
	SHAPED(&all_out, "{\"x\":1}", "{\"x\":1,\"timestamp\":7}");
	SHAPED_MSG(&ts_out, "\"m\"", "{\"message\":\"m\",\"logGroup\":\"g\",\"logStream\":\"s\","
				     "\"owner\":\"o\",\"id\":\"1\"}");
	/* a metadata field named message: a message record's own one wins */
	static const struct req msg = {.names = {"id=message"}};
	SHAPED_MSG(&msg, "\"m\"", "{\"message\":\"m\",\"logGroup\":\"g\",\"logStream\":\"s\","
				  "\"owner\":\"o\",\"timestamp\":7}");
	SHAPED(&msg, "{}", "{\"logGroup\":\"g\",\"logStream\":\"s\",\"owner\":\"o\","
			   "\"message\":\"1\",\"timestamp\":7}");
	/* a record that comes without metadata gets none */
	shaped_(&r, "{ \"x\": 1 }", 0, 0, NULL, "{\"x\":1}", __LINE__);
	/* values the record lacks are left out */
	struct ts_fields f;
	struct ts_buf out;
	const struct ts_span some[NMETA] = {{"\"g\"", 3}, {0}, {0}, {"\"1\"", 3}, {0}};
	setup(&f, &r);
	ts_buf_init(&out, 0);
	CHECK(ts_fields_write(&f, &out, &(struct ts_fields_rec){.v = S("{\"x\":1}")}, some) == 0);
	CHECK_STR(out.data, "{\"x\":1,\"logGroup\":\"g\",\"id\":\"1\"}");
	ts_buf_reset(&out);
	CHECK(ts_fields_write(&f, &out, &(struct ts_fields_rec){.v = S("{}")}, some) == 0);
	CHECK_STR(out.data, "{\"logGroup\":\"g\",\"id\":\"1\"}");
	/* values are written compact, whatever their whitespace */
	const struct ts_span spaced[NMETA] = {{"[ 1, 2 ]", 8}, {0}, {0}, {"{ \"a\" : 1 }", 11}, {0}};
	ts_buf_reset(&out);
	CHECK(ts_fields_write(&f, &out, &(struct ts_fields_rec){.v = S("{}")}, spaced) == 0);
	CHECK_STR(out.data, "{\"logGroup\":[1,2],\"id\":{\"a\":1}}");
	/* not an object, with metadata or without */
	ts_buf_reset(&out);
	CHECK(ts_fields_write(&f, &out, &(struct ts_fields_rec){.v = S("[1]")}, NULL) ==
	      TS_FIELDS_NOT_OBJECT);
	CHECK(ts_fields_write(&f, &out, &(struct ts_fields_rec){.v = S("\"a\"")}, some) ==
	      TS_FIELDS_NOT_OBJECT);
	CHECK(out.len == 0);
	ts_buf_release(&out);
	ts_fields_release(&f);
}

/* The splice of metadata alone writes what rebuilding the record writes
 * (metadata values with whitespace too). */
static void test_meta_splice_agrees(void)
{
	static const char *const recs[] = {
		"{}", "{ }", "{\"a\":1}", "{\"id\":2}", "{ \"owner\" : { \"x\" : 1 } , \"b\" : [ ] }",
		"{\"logGroup\":1,\"logStream\":2,\"owner\":3,\"id\":4,\"timestamp\":5}",
		"{\"\\u0069d\":1}", "{\"message\":\"x\",\"a\":\"\\n\"}", "{\"i\":1,\"d\":2}",
	};
	static const struct req splice = {.meta = 1, .names = {"owner=", "id=eventId"}};
	/* a rename of a field no record has makes the shaper rebuild */
	static const struct req rebuild = {.meta = 1, .names = {"owner=", "id=eventId"},
					   .renames = "nosuch=x"};
	struct ts_fields a, b;
	struct ts_buf oa, ob;

	setup(&a, &splice);
	setup(&b, &rebuild);
	CHECK(a.meta_only && !b.meta_only);
	ts_buf_init(&oa, 0);
	ts_buf_init(&ob, 0);
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		struct ts_json_scan sc;
		struct ts_json_keys keys;
		struct ts_span v = {recs[i], strlen(recs[i])};
		CHECK(ts_json_scan_keys(v.p, v.p + v.n, 1, 0, &keys, &sc) == TS_JSON_OK);
		for (int msg = 0; msg < 2; msg++) {
			struct ts_fields_rec r = {v, 0, sc.has_ws, &keys};
			struct ts_span sv = S("\"{\\\"a\\\":1}\"");
			if (msg)
				r = (struct ts_fields_rec){sv, 1, 0, NULL};
			ts_buf_reset(&oa);
			ts_buf_reset(&ob);
			CHECK(ts_fields_write(&a, &oa, &r, cwl_vals) == 0);
			CHECK(ts_fields_write(&b, &ob, &r, cwl_vals) == 0);
			CHECK_MEM(oa.data, oa.len, ob.data, ob.len);
			ts_buf_reset(&oa);
			ts_buf_reset(&ob);
			CHECK(ts_fields_write(&a, &oa, &r, spaced_vals) == 0);
			CHECK(ts_fields_write(&b, &ob, &r, spaced_vals) == 0);
			CHECK_MEM(oa.data, oa.len, ob.data, ob.len);
		}
	}
	ts_buf_release(&oa);
	ts_buf_release(&ob);
	ts_fields_release(&a);
	ts_fields_release(&b);
}

static const struct req r_acct = {.parents = "acct"};

static void test_parents(void)
{
	static const struct req r = {.parents = "acct,region,absent,deep.k"};
	static const char parent[] =
		"{\"acct\":\"1\",\"region\":\"eu\",\"deep\":{\"k\":[1, 2]},\"R\":[{\"a\":1}]}";

	SHAPED_PARENT(&r, "{\"a\":1}", parent, "{\"a\":1,\"acct\":\"1\",\"region\":\"eu\",\"k\":[1,2]}");
	/* the record's own field wins */
	SHAPED_PARENT(&r, "{\"a\":2,\"region\":\"own\"}", parent,
		      "{\"a\":2,\"region\":\"own\",\"acct\":\"1\",\"k\":[1,2]}");
	SHAPED_PARENT(&r, "{\"r\\u0065gion\":\"own\"}", parent,
		      "{\"r\\u0065gion\":\"own\",\"acct\":\"1\",\"k\":[1,2]}");
	/* a parent that is not an object gives nothing */
	SHAPED_PARENT(&r, "{\"a\":1}", "[1]", "{\"a\":1}");
	SHAPED_PARENT(&r, "5", parent, NULL);
	/* a message record's own field is message */
	static const struct req m = {.parents = "message,acct"};
	shaped_(&m, "\"text\"", 1, 0, "{\"message\":\"p\",\"acct\":\"1\"}",
		"{\"message\":\"text\",\"acct\":\"1\"}", __LINE__);
	/* with the selection: own fields are the selected ones only */
	static const struct req s = {.select = "a", .parents = "region"};
	SHAPED_PARENT(&s, "{\"a\":1,\"region\":\"own\"}", parent, "{\"a\":1,\"region\":\"eu\"}");

	/* one parent for many records, until the next; none before the first
	 * and after {NULL, 0} */
	struct ts_fields f;
	struct ts_buf out;
	struct ts_fields_rec one = {.v = S("{\"a\":1}")};
	setup(&f, &r_acct);
	ts_buf_init(&out, 0);
	CHECK(ts_fields_write(&f, &out, &one, NULL) == 0);
	ts_fields_set_parent(&f, S("{\"acct\":\"1\",\"R\":[]}"));
	CHECK(ts_fields_write(&f, &out, &one, NULL) == 0);
	CHECK(ts_fields_write(&f, &out, &one, NULL) == 0);
	ts_fields_set_parent(&f, S("{\"acct\":\"2\"}"));
	CHECK(ts_fields_write(&f, &out, &one, NULL) == 0);
	ts_fields_set_parent(&f, S("{\"other\":3}"));
	CHECK(ts_fields_write(&f, &out, &one, NULL) == 0);
	ts_fields_set_parent(&f, (struct ts_span){NULL, 0});
	CHECK(ts_fields_write(&f, &out, &one, NULL) == 0);
	CHECK_STR(out.data, "{\"a\":1}{\"a\":1,\"acct\":\"1\"}{\"a\":1,\"acct\":\"1\"}"
			    "{\"a\":1,\"acct\":\"2\"}{\"a\":1}{\"a\":1}");
	ts_buf_release(&out);
	ts_fields_release(&f);
}

static void test_renames(void)
{
	static const struct req r = {.parents = "p", .renames = "a=A,p=parent,nosuch=y"};

	SHAPED_PARENT(&r, "{\"a\":1,\"b\":2}", "{\"p\":\"x\"}", "{\"A\":1,\"b\":2,\"parent\":\"x\"}");
	/* the decoded name is matched; the new name is escaped */
	static const struct req e = {.renames = "ab=x\"y"};
	SHAPED(&e, "{\"a\\u0062\":1,\"ab\":2}", "{\"x\\\"y\":1,\"ab\":2}");
	/* onto a name already there: both stay, as written */
	static const struct req onto = {.renames = "a=b"};
	SHAPED(&onto, "{\"a\":1,\"b\":2}", "{\"b\":1,\"b\":2}");
	/* renames apply in order, to the first field of the name */
	static const struct req chain = {.renames = "a=b,b=c"};
	SHAPED(&chain, "{\"a\":1,\"b\":2}", "{\"c\":1,\"b\":2}");
	/* after the selection: a field not selected is not renamed */
	static const struct req sel = {.select = "b", .renames = "b=beta,a=alpha"};
	SHAPED(&sel, "{\"a\":1,\"b\":2}", "{\"beta\":2}");
	SHAPED(&sel, "{\"a\":1}", "{}");
	/* metadata renamed by --rename too */
	static const struct req meta = {.meta = 1, .renames = "owner=acct,message=msg"};
	SHAPED_MSG(&meta, "\"m\"", "{\"msg\":\"m\",\"logGroup\":\"g\",\"logStream\":\"s\","
				   "\"acct\":\"o\",\"id\":\"1\",\"timestamp\":7}");
	/* not an object */
	SHAPED(&onto, "[1,2]", NULL);
	SHAPED(&onto, "\"s\"", NULL);
	SHAPED(&onto, "null", NULL);
}

static void test_combined(void)
{
	/* every request at once: selected, metadata, parent, renamed */
	static const struct req r = {.select = "eventName,userIdentity.accountId,id",
				     .parents = "digest,logGroup",
				     .renames = "accountId=acct,logGroup=group",
				     .names = {"logStream=", "owner=", "timestamp=ts"}};
	/* added fields are not checked against each other (logGroup twice),
	 * and a rename takes the first of a name */
	shaped_(&r, "{\"eventName\":\"Run\",\"userIdentity\":{\"accountId\":\"1\"},\"id\":\"own\"}",
		0, 1, "{\"digest\":\"d\",\"logGroup\":\"pg\"}",
		"{\"eventName\":\"Run\",\"acct\":\"1\",\"id\":\"own\",\"group\":\"g\",\"ts\":7,"
		"\"digest\":\"d\",\"logGroup\":\"pg\"}", __LINE__);
}

struct seen {
	const char *items[8];
	size_t n;
	int stop_at;
};

static int collect(void *ud, const char *item)
{
	struct seen *s = ud;

	if (s->n < 8)
		s->items[s->n] = strdup(item);
	return (int)++s->n == s->stop_at ? -7 : 0;
}

static void split_(const char *list, int want_rc, int stop_at, const char *const *want, int line)
{
	struct seen s = {.stop_at = stop_at};
	size_t n = 0;
	int rc = ts_fields_split(list, collect, &s);

	check_(rc == want_rc, __FILE__, line, "split status");
	while (want[n])
		n++;
	check_(s.n == n, __FILE__, line, "as many items");
	for (size_t i = 0; i < s.n && i < 8; i++) {
		if (i < n)
			check_str_(s.items[i], want[i], __FILE__, line, list);
		free((char *)s.items[i]);
	}
}
#define SPLIT(list, ...) split_((list), 0, 0, (const char *const[]){__VA_ARGS__, NULL}, __LINE__)

static void test_split(void)
{
	SPLIT("a", "a");
	SPLIT("a,b.c,d", "a", "b.c", "d");
	SPLIT(",a,,b,", "a", "b");
	SPLIT("", NULL);
	SPLIT(",", NULL);
	/* quoted keys keep their commas */
	SPLIT(".\"a,b\",c", ".\"a,b\"", "c");
	SPLIT(".[\"x,y,z\"].w,v", ".[\"x,y,z\"].w", "v");
	SPLIT("\"a,b\"=c,d=\"e,f\"", "\"a,b\"=c", "d=\"e,f\"");
	/* an escaped quote does not end the quoted part */
	SPLIT(".\"a\\\",b\",c", ".\"a\\\",b\"", "c");
	/* an unterminated quote runs to the end */
	SPLIT("\"a,b", "\"a,b");
	/* the callback stops it */
	split_("a,b,c", -7, 2, (const char *const[]){"a", "b", NULL}, __LINE__);
}

static void fails_(int rc, const char *err, const char *want, int line)
{
	check_(rc == -1, __FILE__, line, "fails");
	if (!check_(strstr(err, want) != NULL, __FILE__, line, "message"))
		fprintf(stderr, "    got '%s', want '%s' in it\n", err, want);
}

static void test_errors(void)
{
	struct ts_fields f;
	char err[256];

	ts_fields_init(&f);
	for (size_t i = 0; i < NMETA; i++)
		ts_fields_meta_key(&f, cwl_keys[i]);
	fails_(ts_fields_add_select(&f, "a[]", err, sizeof(err)), err,
	       "'a[]': a field path must end in a key and have no []", __LINE__);
	fails_(ts_fields_add_select(&f, "a,.b[]", err, sizeof(err)), err,
	       "'.b[]': a field path must end in a key", __LINE__);
	CHECK(f.nselect == 1); /* a before it */
	fails_(ts_fields_add_select(&f, ".", err, sizeof(err)), err, "must end in a key", __LINE__);
	fails_(ts_fields_add_parents(&f, ".a[", err, sizeof(err)), err, "'.a['", __LINE__);
	CHECK(f.nparents == 0);
	fails_(ts_fields_add_renames(&f, "a", err, sizeof(err)), err, "wants OLD=NEW, got 'a'", __LINE__);
	fails_(ts_fields_add_renames(&f, "=b", err, sizeof(err)), err, "got '=b'", __LINE__);
	fails_(ts_fields_add_renames(&f, "a=", err, sizeof(err)), err, "got 'a='", __LINE__);
	/* a new name that is not UTF-8 would make records that are not JSON */
	fails_(ts_fields_add_renames(&f, "a=\xff", err, sizeof(err)), err, "is not UTF-8", __LINE__);
	CHECK(ts_fields_add_renames(&f, "a=b=c", err, sizeof(err)) == 0);
	CHECK(f.nrenames == 1 && strcmp(f.renames[0].from, "a") == 0 &&
	      strcmp(f.renames[0].to, "b=c") == 0);
	fails_(ts_fields_meta_name(&f, "nosuch=x", err, sizeof(err)), err,
	       "wants KEY=NAME with KEY one of logGroup, logStream, owner, id, timestamp; "
	       "got 'nosuch=x'", __LINE__);
	fails_(ts_fields_meta_name(&f, "owner", err, sizeof(err)), err, "got 'owner'", __LINE__);
	fails_(ts_fields_meta_name(&f, "ownerx=y", err, sizeof(err)), err, "got 'ownerx=y'", __LINE__);
	fails_(ts_fields_meta_name(&f, "owner=\xc3", err, sizeof(err)), err, "is not UTF-8", __LINE__);
	CHECK(!f.add_meta);
	/* a small err buffer is cut, not overrun */
	char tiny[12];
	CHECK(ts_fields_meta_name(&f, "nosuch=x", tiny, sizeof(tiny)) == -1);
	CHECK(strlen(tiny) == sizeof(tiny) - 1);
	/* the last name given wins */
	CHECK(ts_fields_meta_name(&f, "owner=a", err, sizeof(err)) == 0);
	CHECK(ts_fields_meta_name(&f, "owner=b", err, sizeof(err)) == 0);
	CHECK(f.add_meta && strcmp(f.meta[2].name, "b") == 0);
	ts_fields_release(&f);

	/* no more metadata keys than room for */
	ts_fields_init(&f);
	for (int i = 0; i < TS_FIELDS_META_MAX; i++)
		CHECK(ts_fields_meta_key(&f, "k") == i);
	CHECK(ts_fields_meta_key(&f, "k") == -1);
	ts_fields_release(&f);
}

static void test_limit(void)
{
	static const struct req reqs[] = {{0}, {.meta = 1}, {.select = "a,message"}};
	struct ts_buf small;

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		struct ts_fields f;
		setup(&f, &reqs[i]);
		ts_buf_init(&small, 16);
		ts_buf_addstr(&small, "keep");
		struct ts_fields_rec r = {.v = S("{\"a\":\"0123456789abcdef\"}")};
		CHECK(ts_fields_write(&f, &small, &r, cwl_vals) == -1);
		CHECK_STR(small.data, "keep");
		r = (struct ts_fields_rec){S("\"0123456789abcdef\""), 1, 0, NULL};
		CHECK(ts_fields_write(&f, &small, &r, cwl_vals) == -1);
		CHECK_STR(small.data, "keep");
		ts_buf_release(&small);
		ts_fields_release(&f);
	}
}

int main(void)
{
	test_copy();
	test_select();
	test_meta();
	test_meta_splice_agrees();
	test_parents();
	test_renames();
	test_combined();
	test_split();
	test_errors();
	test_limit();
	return check_done();
}
