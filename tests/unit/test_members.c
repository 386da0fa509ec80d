/* test_members.c — lib/members.h: assembling objects from spans. */
#include "check.h"
#include "members.h"

#define S(lit) (struct ts_span){(lit), sizeof(lit) - 1}

static void test_members(void)
{
	struct ts_members l;
	struct ts_buf out;

	ts_members_init(&l);
	ts_buf_init(&out, 0);

	/* an empty list is {} */
	CHECK(ts_members_write(&l, &out) == 0);
	CHECK_STR(out.data, "{}");

	/* a record's own members keep their quoted keys; whitespace goes */
	CHECK(ts_members_add_object(&l, S("{ \"a\" : 1 ,\n \"b\\u0062\" : [ 1, 2 ],"
					  "\"s\":\" x \" }")) == 0);
	CHECK(l.n == 3);
	/* plain names are escaped on output */
	CHECK(ts_members_add(&l, S("x\"y"), 0, S("\"v\"")) == 0);
	CHECK(ts_members_add(&l, S("logGroup"), 0, S("{ \"n\" : null }")) == 0);
	ts_buf_reset(&out);
	CHECK(ts_members_write(&l, &out) == 0);
	CHECK_STR(out.data, "{\"a\":1,\"b\\u0062\":[1,2],\"s\":\" x \",\"x\\\"y\":\"v\","
			    "\"logGroup\":{\"n\":null}}");

	/* lookups by decoded name, quoted or plain */
	CHECK(ts_members_find(&l, "a", 1) == 0);
	CHECK(ts_members_find(&l, "bb", 2) == 1);
	CHECK(ts_members_find(&l, "b\\u0062", 7) == -1);
	CHECK(ts_members_find(&l, "x\"y", 3) == 3);
	CHECK(ts_members_find(&l, "logGroup", 8) == 4);
	CHECK(ts_members_find(&l, "nope", 4) == -1);
	CHECK(ts_member_is(&l.m[1], "bb", 2));
	CHECK(!ts_member_is(&l.m[3], "x\\\"y", 4));

	/* growth past the first allocation, then reuse after reset */
	ts_members_reset(&l);
	CHECK(l.n == 0);
	for (int i = 0; i < 100; i++)
		ts_members_add(&l, S("k"), 0, S("1"));
	CHECK(l.n == 100 && l.cap >= 100);
	ts_buf_reset(&out);
	CHECK(ts_members_write(&l, &out) == 0);
	CHECK(out.len == 2 + 100 * 5 + 99);
	CHECK(ts_members_find(&l, "k", 1) == 0);

	/* the output limit */
	struct ts_buf small;
	ts_buf_init(&small, 50);
	CHECK(ts_members_write(&l, &small) == -1);
	ts_buf_release(&small);

	/* a plain name that is not UTF-8 cannot be written */
	ts_members_reset(&l);
	ts_members_add(&l, S("\xff"), 0, S("1"));
	ts_buf_reset(&out);
	CHECK(ts_members_write(&l, &out) == -1);

	ts_members_release(&l);
	CHECK(l.m == NULL && l.n == 0 && l.cap == 0);
	ts_buf_release(&out);
}

int main(void)
{
	test_members();
	return check_done();
}
