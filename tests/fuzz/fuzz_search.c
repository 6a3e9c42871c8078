/* fuzz_search.c - libFuzzer target for store/'s IMAP SEARCH evaluator
 * (the Maildir back end's search).
 *
 * The input is a search program, a NUL, then a message (or a built-in
 * one when there is no NUL).  Properties checked for any input: a
 * program that compiles evaluates to 0 or 1 without failing (the
 * callbacks never fail), and "NOT (program)" compiles too and evaluates
 * to the opposite.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../store/store_p.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const char default_msg[] =
	"From: =?utf-8?q?Ann_B=C3=A9?= <ann@example.org>\r\n"
	"To: bob@example.org,\r\n carol@example.org\r\n"
	"Subject: quarterly report\r\n"
	"Date: Wed, 25 Nov 2026 23:30:00 -0800\r\n"
	"\r\n"
	"Crane uptime 97.4%\r\n";

struct msg {
	const char *data;
	size_t len, header_len;
};

static int get_header(void *ctx, const char **data, size_t *len,
		      struct pn_error *err)
{
	struct msg *m = ctx;

	(void)err;
	*data = m->data;
	*len = m->header_len;
	return 0;
}

static int get_text(void *ctx, const char **data, size_t *len,
		    struct pn_error *err)
{
	struct msg *m = ctx;

	(void)err;
	*data = m->data;
	*len = m->len;
	return 0;
}

static size_t header_length(const char *d, size_t n)
{
	const char *e = memmem(d, n, "\n\n", 2);
	const char *f = memmem(d, n, "\n\r\n", 3);

	if (f && (!e || f < e))
		return (size_t)(f - d) + 3;
	return e ? (size_t)(e - d) + 2 : n;
}

static int match(const char *program, struct store_search_msg *sm)
{
	struct store_search_prog *p;
	int r;

	if (store_search_compile(program, &p, NULL) < 0)
		return -2;
	r = store_search_match(p, sm, 7, 100, NULL);
	store_search_free(&p);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const flags[] = { "\\Seen", "$Forwarded", "work" };
	const char *nul = memchr(data, 0, size);
	size_t plen = nul ? (size_t)(nul - (const char *)data) : size;
	struct store_search_msg sm;
	struct msg m;
	char *program, *negated;
	int a, b;

	if (plen > 4096)
		return 0;
	program = malloc(plen + 1);
	negated = malloc(plen + 16);
	if (!program || !negated)
		abort();
	memcpy(program, data, plen);
	program[plen] = 0;
	snprintf(negated, plen + 16, "NOT (%s)", program);
	if (nul) {
		m.data = nul + 1;
		m.len = size - plen - 1;
	} else {
		m.data = default_msg;
		m.len = sizeof(default_msg) - 1;
	}
	m.header_len = header_length(m.data, m.len);
	memset(&sm, 0, sizeof(sm));
	sm.uid = 42;
	sm.seq = 3;
	sm.flags = flags;
	sm.nflags = 3;
	sm.internaldate = 1795000000;
	sm.internaldate_tz = 60;
	sm.size = m.len;
	sm.ctx = &m;
	sm.header = get_header;
	sm.text = get_text;
	a = match(program, &sm);
	CHECK(a == -2 || a == 0 || a == 1);
	/* A CHARSET prefix cannot be wrapped; nor can a program that is
	 * at the nesting limit already. */
	if (a >= 0 && strncasecmp(program, "CHARSET", 7) != 0) {
		b = match(negated, &sm);
		CHECK(b == -2 || b == !a);
	}
	free(program);
	free(negated);
	return 0;
}
