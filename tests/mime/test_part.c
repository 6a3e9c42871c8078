/* test_part.c - parts and messages: derived fields, CTE tokens, sections
 * both ways, walking, tree surgery, the defects list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../mime/mime_p.h"

static struct mime_message *parse(const char *s)
{
	struct mime_message *msg;
	struct pn_error err;

	assert_int_equal(mime_parse_mem(s, strlen(s), true, NULL, &msg, &err),
			 0);
	return msg;
}

static void test_limits_resolve(void **state)
{
	struct mime_limits in = { .max_depth = 3, .max_headers = 7 }, out;

	(void)state;
	mime_limits_resolve(NULL, &out);
	assert_int_equal(out.max_depth, 64);
	assert_int_equal(out.max_parts, 10000);
	assert_int_equal(out.max_header_line, 256 * 1024);
	assert_int_equal(out.max_header_block, 1024 * 1024);
	assert_int_equal(out.max_headers, 5000);
	mime_limits_resolve(&in, &out);
	assert_int_equal(out.max_depth, 3);
	assert_int_equal(out.max_parts, 10000);
	assert_int_equal(out.max_headers, 7);
}

static void test_cte(void **state)
{
	static const struct {
		const char *in;
		enum mime_cte want;
		bool unknown;
	} t[] = {
		{ NULL, MIME_CTE_7BIT, false },
		{ "", MIME_CTE_7BIT, false },
		{ "7bit", MIME_CTE_7BIT, false },
		{ "8BIT", MIME_CTE_8BIT, false },
		{ "binary", MIME_CTE_BINARY, false },
		{ "base64 ", MIME_CTE_BASE64, false },
		{ " Base64; x", MIME_CTE_BASE64, false },
		{ "\"base64\"", MIME_CTE_BASE64, false },
		{ "quoted-printable (comment)", MIME_CTE_QP, false },
		{ "x-uuencode", MIME_CTE_UUENCODE, false },
		{ "uuencode", MIME_CTE_UUENCODE, false },
		{ "x-uue", MIME_CTE_UUENCODE, false },
		{ "base6", MIME_CTE_UNKNOWN, true },
		{ "base64x", MIME_CTE_UNKNOWN, true },
		{ "x-gzip", MIME_CTE_UNKNOWN, true },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bool unknown = !t[i].unknown;

		assert_int_equal(mime_cte_parse(t[i].in, &unknown), t[i].want);
		assert_int_equal(unknown, t[i].unknown);
	}
	assert_string_equal(mime_cte_name(MIME_CTE_QP), "quoted-printable");
	assert_string_equal(mime_cte_name(MIME_CTE_BASE64), "base64");
	assert_string_equal(mime_cte_name(MIME_CTE_UUENCODE), "x-uuencode");
	assert_string_equal(mime_cte_name(MIME_CTE_UNKNOWN), "unknown");
}

static void test_derived(void **state)
{
	struct mime_message *msg = parse(
		"Content-Type: Text/HTML; Charset=\"UTF-8\"; name=\"n.html\"\n"
		"Content-Disposition: ATTACHMENT; filename=\"f.html\"\n"
		"Content-ID:  <abc@x> \n"
		"Content-Transfer-Encoding: Quoted-Printable\n\nx\n");
	struct mime_part *r = mime_message_root(msg);

	(void)state;
	assert_string_equal(mime_part_type(r), "text/html");
	assert_string_equal(mime_part_maintype(r), "text");
	assert_string_equal(mime_part_subtype(r), "html");
	assert_string_equal(mime_part_charset(r), "utf-8");
	assert_string_equal(mime_part_disposition(r), "attachment");
	assert_true(mime_part_is_attachment(r));
	assert_string_equal(mime_part_filename(r), "f.html");
	assert_string_equal(mime_part_content_id(r), "abc@x");
	assert_string_equal(mime_part_param(r, "name"), "n.html");
	assert_null(mime_part_param(r, "boundary"));
	assert_int_equal(mime_part_cte(r), MIME_CTE_QP);
	assert_false(mime_part_is_multipart(r));
	assert_false(mime_part_is_message(r));
	assert_int_equal(mime_part_raw_size(r), 2);
	mime_message_free(&msg);
	assert_null(msg);

	/* name= as the fallback filename; no charset; inline */
	msg = parse("Content-Type: image/png; name=p.png\n"
		    "Content-Disposition: inline\n\nx");
	r = mime_message_root(msg);
	assert_string_equal(mime_part_filename(r), "p.png");
	assert_null(mime_part_charset(r));
	assert_false(mime_part_is_attachment(r));
	assert_string_equal(mime_part_disposition(r), "inline");
	mime_message_free(&msg);

	/* defaults */
	msg = parse("Subject: x\n\nx");
	r = mime_message_root(msg);
	assert_string_equal(mime_part_type(r), "text/plain");
	assert_null(mime_part_disposition(r));
	assert_null(mime_part_filename(r));
	assert_null(mime_part_content_id(r));
	assert_int_equal(mime_part_cte(r), MIME_CTE_7BIT);
	mime_message_free(&msg);
}

static void test_refresh_after_edit(void **state)
{
	struct mime_message *msg = mime_message_new();
	struct mime_part *r = mime_message_root(msg);
	struct pn_error err;

	(void)state;
	assert_string_equal(mime_part_type(r), "text/plain");
	assert_int_equal(mime_part_header_add(r, "Content-Type",
		"multipart/mixed; boundary=zz", &err), 0);
	assert_int_equal(mime_part_refresh(r, false), 0);
	assert_string_equal(mime_part_type(r), "multipart/mixed");
	assert_true(mime_part_is_multipart(r));
	assert_string_equal(r->boundary, "zz");
	assert_int_equal(mime_message_defect_count(msg), 0);
	assert_string_equal(msg->eol, "\r\n");
	mime_message_free(&msg);
}

static const char nested[] =
	"Content-Type: multipart/mixed; boundary=a\n\n"
	"--a\n\none\n"
	"--a\nContent-Type: multipart/alternative; boundary=b\n\n"
	"--b\n\nplain\n--b\nContent-Type: text/html\n\n<p>\n--b--\n"
	"--a\nContent-Type: message/rfc822\n\nSubject: fwd\n\nfwd body\n"
	"--a\nContent-Type: message/rfc822\n\n"
	"Content-Type: multipart/mixed; boundary=c\n\n"
	"--c\n\nc1\n--c\nContent-Type: message/rfc822\n\nSubject: deep\n\nd\n"
	"--c--\n"
	"--a--\n";

struct walkrec {
	struct pn_buf out;
	int stop_at;
	int n;
};

static int rec(struct mime_part *part, void *ctx)
{
	struct walkrec *w = ctx;
	char sec[64];

	assert_true(mime_part_section(part, sec, sizeof(sec)) >= 0);
	assert_int_equal(pn_buf_printf(&w->out, "%s[%s]%s:%u", w->n ? " " : "",
				       sec, mime_part_type(part),
				       mime_part_depth(part)), 0);
	w->n++;
	return w->n == w->stop_at ? 42 : 0;
}

static void test_walk_and_sections(void **state)
{
	struct mime_message *msg = parse(nested);
	struct mime_part *r = mime_message_root(msg);
	struct walkrec w = { .stop_at = -1 };

	(void)state;
	assert_int_equal(mime_message_defect_count(msg), 0);
	assert_int_equal(mime_walk(r, rec, &w), 0);
	assert_string_equal(pn_buf_cstr(&w.out),
		"[]multipart/mixed:0 [1]text/plain:1 "
		"[2]multipart/alternative:1 [2.1]text/plain:2 "
		"[2.2]text/html:2 [3]message/rfc822:1 [3.1]text/plain:2 "
		"[4]message/rfc822:1 [4]multipart/mixed:2 [4.1]text/plain:3 "
		"[4.2]message/rfc822:3 [4.2.1]text/plain:4");
	pn_buf_reset(&w.out);
	w.n = 0;
	w.stop_at = 3;
	assert_int_equal(mime_walk(r, rec, &w), 42);
	assert_int_equal(w.n, 3);

	pn_buf_reset(&w.out);
	w.n = 0;
	w.stop_at = -1;
	assert_int_equal(mime_iter_parts(r, rec, &w), 0);
	assert_string_equal(pn_buf_cstr(&w.out),
		"[1]text/plain:1 [2]multipart/alternative:1 "
		"[3]message/rfc822:1 [4]message/rfc822:1");
	pn_buf_reset(&w.out);
	w.n = 0;
	assert_int_equal(mime_iter_parts(r->first_child, rec, &w), 0);
	assert_int_equal(w.n, 0);
	pn_buf_free(&w.out);

	assert_int_equal(mime_part_child_count(r), 4);
	assert_null(mime_part_parent(r));
	assert_ptr_equal(mime_part_parent(mime_part_first_child(r)), r);
	assert_true(mime_part_is_message(mime_part_by_section(r, "3")));
	mime_message_free(&msg);
}

static void test_by_section(void **state)
{
	static const struct {
		const char *sec;
		const char *type;	/* NULL: no such part */
		const char *back;	/* its section, when not sec */
	} t[] = {
		{ "", "multipart/mixed", NULL },
		{ "1", "text/plain", NULL },
		{ "2", "multipart/alternative", NULL },
		{ "2.2", "text/html", NULL },
		{ "2.3", NULL, NULL },
		{ "3", "message/rfc822", NULL },
		{ "3.1", "text/plain", NULL },
		{ "3.2", NULL, NULL },
		{ "3.1.1", NULL, NULL },
		{ "4", "message/rfc822", NULL },
		{ "4.1", "text/plain", NULL },
		{ "4.2", "message/rfc822", NULL },
		{ "4.2.1", "text/plain", NULL },
		{ "5", NULL, NULL },
		{ "0", NULL, NULL },
		{ "1.", NULL, NULL },
		{ ".1", NULL, NULL },
		{ "1..1", NULL, NULL },
		{ "x", NULL, NULL },
		{ "99999999999999999999", NULL, NULL },
	};
	struct mime_message *msg = parse(nested);
	struct mime_part *r = mime_message_root(msg);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct mime_part *p = mime_part_by_section(r, t[i].sec);
		char sec[64];

		if (!t[i].type) {
			if (p)
				fail_msg("section %s: want none", t[i].sec);
			continue;
		}
		if (!p)
			fail_msg("section %s: none found", t[i].sec);
		assert_string_equal(mime_part_type(p), t[i].type);
		assert_true(mime_part_section(p, sec, sizeof(sec)) >= 0);
		assert_string_equal(sec, t[i].back ? t[i].back : t[i].sec);
	}
	{
		char small[2];

		assert_int_equal(mime_part_section(mime_part_by_section(r,
						   "4.2.1"), small,
						   sizeof(small)), -1);
	}
	mime_message_free(&msg);

	/* a non-multipart message: its body is part 1 */
	msg = parse("Subject: x\n\nbody\n");
	r = mime_message_root(msg);
	assert_ptr_equal(mime_part_by_section(r, "1"), r);
	assert_ptr_equal(mime_part_by_section(r, ""), r);
	assert_null(mime_part_by_section(r, "2"));
	assert_null(mime_part_by_section(r, "1.1"));
	mime_message_free(&msg);

	/* a message that is a message/rfc822: 1 is its body, 1.1 the
	 * body of the message inside */
	msg = parse("Content-Type: message/rfc822\n\nSubject: in\n\nx\n");
	r = mime_message_root(msg);
	assert_ptr_equal(mime_part_by_section(r, "1"), r);
	assert_ptr_equal(mime_part_by_section(r, "1.1"), r->first_child);
	mime_message_free(&msg);
}

static void test_tree_surgery(void **state)
{
	struct mime_message *a = mime_message_new(), *b = mime_message_new();
	struct mime_part *ra = mime_message_root(a), *c1, *c2, *c3;

	(void)state;
	c1 = mime_part_new(a);
	c2 = mime_part_new(a);
	c3 = mime_part_new(a);
	assert_int_equal(a->nparts, 4);
	mime_part_append_child(ra, c1);
	mime_part_append_child(ra, c2);
	mime_part_append_child(ra, c3);
	assert_int_equal(mime_part_child_count(ra), 3);
	mime_part_detach(c2);
	assert_int_equal(mime_part_child_count(ra), 2);
	assert_ptr_equal(mime_part_next(c1), c3);
	assert_ptr_equal(c3->prev, c1);
	assert_null(mime_part_parent(c2));

	/* move c2 into b */
	mime_part_append_child(mime_message_root(b), c2);
	mime_part_set_message(c2, b);
	assert_int_equal(a->nparts, 3);
	assert_int_equal(b->nparts, 2);

	mime_part_touch(c1, false);
	assert_true(c1->content_dirty);
	assert_true(ra->child_dirty);
	assert_false(ra->content_dirty);
	mime_part_touch(ra, true);
	assert_true(ra->headers_dirty);

	mime_part_detach(c3);
	mime_part_free_tree(c3);
	assert_int_equal(a->nparts, 2);
	mime_message_free(&a);
	mime_message_free(&b);
	assert_null(a);
	mime_message_free(&a);	/* NULL is fine */
}

static void test_defects(void **state)
{
	struct mime_message *msg = mime_message_alloc();
	const struct mime_defect *d;
	int i;

	(void)state;
	assert_null(mime_message_root(msg));
	mime_defect_add(msg, MIME_DEFECT_BAD_QP, 7, NULL, "bad =%s at %d",
			"XY", 3);
	d = mime_message_defect(msg, 0);
	assert_non_null(d);
	assert_int_equal(d->kind, MIME_DEFECT_BAD_QP);
	assert_int_equal(d->offset, 7);
	assert_string_equal(d->msg, "bad =XY at 3");
	assert_null(mime_message_defect(msg, 1));
	for (i = 0; i < 5000; i++)
		mime_defect_add(msg, MIME_DEFECT_LIMIT, (uint64_t)i, NULL, "x");
	assert_int_equal(mime_message_defect_count(msg), 1000);
	assert_string_equal(mime_defect_name(MIME_DEFECT_NO_BOUNDARY),
			    "no-boundary");
	assert_string_equal(mime_defect_name(MIME_DEFECT_MULTIPART_CTE),
			    "multipart-cte");
	assert_string_equal(mime_defect_name((enum mime_defect_kind)999),
			    "unknown");
	mime_message_free(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits_resolve),
		cmocka_unit_test(test_cte),
		cmocka_unit_test(test_derived),
		cmocka_unit_test(test_refresh_after_edit),
		cmocka_unit_test(test_walk_and_sections),
		cmocka_unit_test(test_by_section),
		cmocka_unit_test(test_tree_surgery),
		cmocka_unit_test(test_defects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
