/* test_show.c - what the console prints of a server's response: the wire
 * text exactly in raw mode; on a terminal nothing that could drive the
 * terminal (escape sequences from a hostile server), literals summarised
 * when binary or long, and kept for .save either way. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../imap/imap.h"
#include "../../repl/repl_p.h"

struct out {
	char *buf;
	size_t len;
	struct repl r;
	struct repl_opts o;
};

static void start(struct out *o, bool pretty)
{
	memset(o, 0, sizeof(*o));
	o->r.o = &o->o;
	o->r.out = open_memstream(&o->buf, &o->len);
	o->r.spool = -1;
	o->r.pretty = pretty;
	o->r.color = false;
	assert_non_null(o->r.out);
}

static const char *finish(struct out *o)
{
	fclose(o->r.out);
	o->r.out = NULL;
	return o->buf;
}

static void done(struct out *o)
{
	if (o->r.spool >= 0)
		close(o->r.spool);
	free(o->r.lits);
	free(o->buf);
}

static struct imap_response resp(const char *raw, size_t len)
{
	struct imap_response r;

	memset(&r, 0, sizeof(r));
	r.kind = IMAP_RESP_UNTAGGED;
	r.raw = raw;
	r.raw_len = len;
	return r;
}

static void test_raw_is_the_wire(void **state)
{
	static const char wire[] = "* 1 FETCH (BODY[] {5}\r\nhe\033]0\007)\r\n";
	struct imap_response r = resp(wire, sizeof(wire) - 1);
	struct out o;

	(void)state;
	start(&o, false);
	repl_show_response(&o.r, &r, -1);
	assert_memory_equal(finish(&o), wire, sizeof(wire) - 1);
	assert_int_equal(o.len, sizeof(wire) - 1);
	assert_int_equal(o.r.nlits, 1);
	assert_int_equal(o.r.lits[0].len, 5);
	done(&o);
}

static void test_terminal_never_sees_escapes(void **state)
{
	/* A server trying to retitle the window and clear the screen. */
	static const char wire[] = "* OK [ALERT] \033]2;pwned\007\033[2J hi\r\n";
	struct imap_response r = resp(wire, sizeof(wire) - 1);
	struct out o;
	const char *got;

	(void)state;
	start(&o, true);
	repl_show_response(&o.r, &r, -1);
	got = finish(&o);
	assert_null(strchr(got, '\033'));
	assert_null(strchr(got, '\007'));
	assert_non_null(strstr(got, "[ALERT]"));
	assert_non_null(strstr(got, " hi\n"));
	assert_null(strchr(got, '\r'));
	done(&o);
}

static void test_text_literal_shown(void **state)
{
	static const char wire[] =
		"* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {15}\r\n"
		"Subject: hi\r\n\r\n)\r\n";
	struct imap_response r = resp(wire, sizeof(wire) - 1);
	struct out o;
	const char *got;

	(void)state;
	start(&o, true);
	repl_show_response(&o.r, &r, 1.5);
	got = finish(&o);
	assert_non_null(strstr(got, "{15}\nSubject: hi\n"));
	assert_non_null(strstr(got, ")"));
	done(&o);
}

static void test_binary_literal_summarised(void **state)
{
	char wire[256];
	size_t n;
	struct imap_response r;
	struct out o;
	const char *got;

	(void)state;
	n = (size_t)snprintf(wire, sizeof(wire), "* 3 FETCH (BINARY[2] ~{8}\r\n");
	memcpy(wire + n, "\x89PNG\r\n\x1a\x00", 8);
	n += 8;
	memcpy(wire + n, ")\r\n", 3);
	n += 3;
	r = resp(wire, n);
	start(&o, true);
	repl_show_response(&o.r, &r, -1);
	got = finish(&o);
	assert_non_null(strstr(got, "{8 bytes, "));
	assert_null(strstr(got, "PNG"));
	/* kept whole for .save */
	assert_int_equal(o.r.nlits, 1);
	assert_int_equal(o.r.lits[0].len, 8);
	done(&o);
}

static void test_long_base64_summarised_unless_full(void **state)
{
	struct pn_buf;
	size_t body = 6000, n, i;
	char *wire = malloc(body + 64);
	struct imap_response r;
	struct out o;
	const char *got;

	(void)state;
	assert_non_null(wire);
	n = (size_t)sprintf(wire, "* 4 FETCH (BODY[2] {%zu}\r\n", body);
	for (i = 0; i < body; i++)
		wire[n + i] = (i % 77 == 76) ? '\n' : "QUJD"[i % 4];
	n += body;
	memcpy(wire + n, ")\r\n", 3);
	n += 3;
	r = resp(wire, n);
	start(&o, true);
	repl_show_response(&o.r, &r, -1);
	got = finish(&o);
	assert_non_null(strstr(got, "{6000 bytes, base64"));
	done(&o);
	start(&o, true);
	o.r.show_full = true;
	repl_show_response(&o.r, &r, -1);
	got = finish(&o);
	assert_non_null(strstr(got, "{6000}\nQUJD"));
	done(&o);
	free(wire);
}

static void test_describe(void **state)
{
	struct repl r;
	char what[128];

	(void)state;
	memset(&r, 0, sizeof(r));
	repl_describe(&r, "SGVsbG8sIHdvcmxkIQ==SGVsbG8=", 28, what, sizeof(what));
	assert_string_equal(what, "base64");
	repl_describe(&r, "plain words", 11, what, sizeof(what));
	assert_string_equal(what, "data");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_is_the_wire),
		cmocka_unit_test(test_terminal_never_sees_escapes),
		cmocka_unit_test(test_text_literal_shown),
		cmocka_unit_test(test_binary_literal_summarised),
		cmocka_unit_test(test_long_base64_summarised_unless_full),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
