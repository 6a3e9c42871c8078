/* Tests for mime/fold.c: exact output for a table of fields, then
 * round trips (format, unfold, parse back) over random non-ASCII subjects,
 * address lists and filenames, checking that no line passes 78.
 *
 * Python's email (policy.default) encodes the same words but prefers Q
 * where it is not longer and may pick other fold points; both decode to
 * the same text, which is what the round trips check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../mime/mime_p.h"

static const struct {
	const char *name;
	const char *value;
	const char *out;	/* NULL: refused */
} cases[] = {
	{ "Subject", "Hello world", "Subject: Hello world\n" },
	{ "Subject", "", "Subject: \n" },
	{ "Subject", "This is a rather long subject line that will need to be "
	  "folded somewhere around here, yes",
	  "Subject: This is a rather long subject line that will need to be "
	  "folded\n somewhere around here, yes\n" },
	/* B when shorter; Python writes =?utf-8?q?caf=C3=A9?= */
	{ "Subject", "caf\xc3\xa9", "Subject: =?utf-8?b?Y2Fmw6k=?=\n" },
	{ "Subject", "a \xc3\xa9 \xc3\xa9 b",
	  "Subject: a =?utf-8?b?w6kgw6k=?= b\n" },
	{ "Subject", "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln",
	  "Subject: =?utf-8?b?R3LDvMOfZQ==?= aus =?utf-8?b?S8O2bG4=?=\n" },
	/* text that would decode as an encoded word is encoded */
	{ "Subject", "a =?utf-8?q?x?= b",
	  "Subject: a =?utf-8?b?PT91dGYtOD9xP3g/PQ==?= b\n" },
	{ "Subject", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c"
	  "\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5"
	  "\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	  "Subject: =?utf-8?b?5pel5pys6Kqe5pel5pys6Kqe5pel5pys6Kqe5pel5pys6Kqe"
	  "5pel5pys?=\n =?utf-8?b?6Kqe?=\n" },
	{ "From", "J\xc3\xb6hn Doe <j@x.org>, \"Smith, Anna\" <a@x.org>, "
	  "p@x.org",
	  "From: =?utf-8?b?SsO2aG4gRG9l?= <j@x.org>, \"Smith, Anna\" "
	  "<a@x.org>, p@x.org\n" },
	{ "To", "Team: a@x, b@y;, undisclosed-recipients:;",
	  "To: Team: a@x, b@y;, undisclosed-recipients:;\n" },
	{ "Cc", "John Q. Public <jq@x>", "Cc: \"John Q. Public\" <jq@x>\n" },
	{ "Reply-To", "\xc3\xa9@x.org", "Reply-To: \xc3\xa9@x.org\n" },
	{ "Content-Type", "text/plain; charset=utf-8; format=flowed; delsp=yes;"
	  " name=\"a very long file name.txt\"",
	  "Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes;"
	  "\n name=\"a very long file name.txt\"\n" },
	{ "Content-Disposition", "attachment; filename=\"\xe2\x82\xac.txt\"",
	  "Content-Disposition: attachment; filename*=utf-8''%E2%82%AC.txt\n" },
	/* injection and bad names are refused */
	{ "Subject", "bad\r\nBcc: x", NULL },
	{ "Subject", "bad\nBcc: x", NULL },
	{ "Sub ject", "x", NULL },
	{ "Sub:ject", "x", NULL },
	{ "", "x", NULL },
};

static void test_format_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pn_buf out = { 0 };
		int r = mime_header_format(cases[i].name, cases[i].value, "\n",
					   &out);

		if (!cases[i].out) {
			if (r != -1)
				fail_msg("case %zu: not refused", i);
		} else if (r != 0 || strcmp(pn_buf_cstr(&out),
					    cases[i].out) != 0) {
			fail_msg("case %zu: r %d got \"%s\"", i, r,
				 pn_buf_cstr(&out));
		}
		pn_buf_free(&out);
	}
}

static const struct {
	const char *name;
	const char *value;
	const char *out;
} pcases[] = {
	{ "filename", "report.pdf", "; filename=report.pdf" },
	{ "filename", "my report.pdf", "; filename=\"my report.pdf\"" },
	{ "filename", "a\"b\\c", "; filename=\"a\\\"b\\\\c\"" },
	{ "filename", "", "; filename=\"\"" },
	{ "filename", "\xc3\x9c" "bersicht \xe2\x82\xac.pdf",
	  "; filename*=utf-8''%C3%9Cbersicht%20%E2%82%AC.pdf" },
	{ "filename", "=?utf-8?q?x?=",
	  "; filename*=utf-8''%3D%3Futf-8%3Fq%3Fx%3F%3D" },
	{ "filename", "a very long ascii file name that will surely not fit on "
	  "one line of the header ok.pdf",
	  "; filename*0=\"a very long ascii file name that will surely not fit"
	  " on one li\"; filename*1=\"ne of the header ok.pdf\"" },
	{ "bad name", "x", NULL },
	{ "n*", "x", NULL },
	{ "", "x", NULL },
	{ "filename", "a\r\nb", NULL },
};

static void test_param_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
		struct pn_buf out = { 0 };
		int r = mime_param_format(pcases[i].name, pcases[i].value,
					  &out);

		if (!pcases[i].out) {
			if (r != -1)
				fail_msg("case %zu: not refused", i);
		} else if (r != 0 || strcmp(pn_buf_cstr(&out),
					    pcases[i].out) != 0) {
			fail_msg("case %zu: r %d got \"%s\"", i, r,
				 pn_buf_cstr(&out));
		}
		pn_buf_free(&out);
	}
}

static unsigned seed = 12345;

static unsigned rnd(unsigned n)
{
	seed = seed * 1103515245 + 12345;
	return (seed >> 16) % n;
}

/* Random UTF-8 text from pieces that stress the encoder. */
static void random_text(struct pn_buf *b, const char *const *pool,
			size_t npool, unsigned maxlen)
{
	unsigned n = 1 + rnd(maxlen);

	pn_buf_reset(b);
	for (unsigned i = 0; i < n; i++) {
		const char *p = pool[rnd((unsigned)npool)];

		if (i == 0 && (p[0] == ' ' || p[0] == '\t'))
			p = "x";
		assert_int_equal(pn_buf_adds(b, p), 0);
	}
}

/* Every line at most 78 characters, and the value unfolded back. */
static char *unfold_checked(const char *field)
{
	const char *v = strchr(field, ':') + 1, *line = field;
	struct pn_buf out = { 0 };

	for (const char *p = field; *p; p++) {
		if (*p != '\n')
			continue;
		if (p - line > 78)
			fail_msg("line of %d: \"%.*s\"", (int)(p - line),
				 (int)(p - line), line);
		line = p + 1;
	}
	while (*v == ' ')
		v++;
	for (; *v; v++)
		if (*v != '\n')
			assert_int_equal(pn_buf_addc(&out, *v), 0);
	return pn_buf_take(&out, NULL);
}

static const char *const text_pool[] = {
	"a", "word", "Subject", " ", " ", " ", "  ", "\t", "\xc3\xa9",
	"\xe2\x82\xac", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80", "_",
	"=", "?", "=?", "?=", "=?utf-8?q?x?=", "\"", "(", ")", ",", ";", "<",
	"longerwordwithoutspaces", "\xd0\x9f\xd1\x80\xd0\xb8",
};

static void test_roundtrip_subject(void **state)
{
	struct pn_buf v = { 0 }, f = { 0 }, d = { 0 };

	(void)state;
	for (int round = 0; round < 2000; round++) {
		char *unfolded;

		random_text(&v, text_pool, sizeof(text_pool) /
			    sizeof(text_pool[0]), 40);
		pn_buf_reset(&f);
		pn_buf_reset(&d);
		assert_int_equal(mime_header_format("Subject", v.data, "\n",
						    &f), 0);
		unfolded = unfold_checked(f.data);
		assert_int_equal(mime_decode_header(unfolded, strlen(unfolded),
						    &d, NULL), 0);
		if (strcmp(d.data, v.data) != 0)
			fail_msg("\"%s\" -> \"%s\" -> \"%s\"", v.data, f.data,
				 d.data);
		free(unfolded);
	}
	pn_buf_free(&v);
	pn_buf_free(&f);
	pn_buf_free(&d);
}

static const char *const name_pool[] = {
	"a", "Bob", " ", "\xc3\xa9", "\xe2\x82\xac", "\xe6\x97\xa5", ".",
	",", "\"", "\\", "(", "@", "<", ":", ";", "O'Neil",
};

static void test_roundtrip_addresses(void **state)
{
	struct pn_buf name = { 0 }, v = { 0 }, f = { 0 };

	(void)state;
	for (int round = 0; round < 500; round++) {
		unsigned n = 1 + rnd(4);
		struct mime_address *l, *want;
		size_t got, nwant;
		char *unfolded;

		pn_buf_reset(&v);
		pn_buf_reset(&f);
		for (unsigned i = 0; i < n; i++) {
			random_text(&name, name_pool, sizeof(name_pool) /
				    sizeof(name_pool[0]), 12);
			assert_int_equal(pn_buf_adds(&v, i ? ", \"" : "\""), 0);
			for (size_t k = 0; k < name.len; k++) {
				if ((name.data[k] == '"' ||
				     name.data[k] == '\\') &&
				    pn_buf_addc(&v, '\\') < 0)
					fail();
				assert_int_equal(pn_buf_addc(&v, name.data[k]),
						 0);
			}
			assert_int_equal(pn_buf_printf(&v, "\" <u%u@example.org>",
						       i), 0);
		}
		assert_int_equal(mime_header_format("To", v.data, "\n", &f), 0);
		unfolded = unfold_checked(f.data);
		assert_int_equal(mime_parse_addresses(v.data, &want, &nwant,
						      NULL), 0);
		assert_int_equal(mime_parse_addresses(unfolded, &l, &got, NULL),
				 0);
		if (got != n || nwant != n)
			fail_msg("\"%s\" -> \"%s\": %zu entries", v.data,
				 f.data, got);
		for (size_t i = 0; i < n; i++)
			if (strcmp(l[i].name, want[i].name) != 0 ||
			    strcmp(l[i].addr, want[i].addr) != 0)
				fail_msg("\"%s\" -> \"%s\": entry %zu", v.data,
					 f.data, i);
		free(unfolded);
		mime_addresses_free(&l, got);
		mime_addresses_free(&want, nwant);
	}
	pn_buf_free(&name);
	pn_buf_free(&v);
	pn_buf_free(&f);
}

static const char *const file_pool[] = {
	"a", "report", " ", ".pdf", "\xc3\xa9", "\xe2\x82\xac", "\xe6\x97\xa5",
	"\xf0\x9f\x98\x80", "\"", "\\", ";", "=", "?", "=?", "%", "'", "*",
	"(", "longer-name_part",
};

static void test_roundtrip_filename(void **state)
{
	struct pn_buf v = { 0 }, p = { 0 }, f = { 0 };

	(void)state;
	for (int round = 0; round < 2000; round++) {
		struct mime_param *params;
		char *unfolded, *token;
		const char *back;

		random_text(&v, file_pool, sizeof(file_pool) /
			    sizeof(file_pool[0]), 60);
		pn_buf_reset(&p);
		pn_buf_reset(&f);
		assert_int_equal(pn_buf_adds(&p, "attachment"), 0);
		assert_int_equal(mime_param_format("filename", v.data, &p), 0);
		assert_int_equal(mime_header_format("Content-Disposition",
						    p.data, "\n", &f), 0);
		unfolded = unfold_checked(f.data);
		assert_int_equal(mime_parse_structured(unfolded, &token,
						       &params, NULL), 0);
		back = mime_param_get(params, "filename");
		if (!back || strcmp(back, v.data) != 0)
			fail_msg("\"%s\" -> \"%s\" -> \"%s\"", v.data, f.data,
				 back ? back : "NULL");
		free(unfolded);
		free(token);
		mime_params_free(&params);
	}
	pn_buf_free(&v);
	pn_buf_free(&p);
	pn_buf_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_table),
		cmocka_unit_test(test_param_table),
		cmocka_unit_test(test_roundtrip_subject),
		cmocka_unit_test(test_roundtrip_addresses),
		cmocka_unit_test(test_roundtrip_filename),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
