/* Tests for imap/fetch.c: FETCH items of RFC 3501 7.4.2 / RFC 9051
 * 7.5.2 (ENVELOPE with groups, BODY and BODYSTRUCTURE with extension
 * data, multipart and message/rfc822 nesting), RFC 3516 BINARY, RFC 7162
 * MODSEQ, streamed literals, and malformed values with exact errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "../../imap/imap_p.h"
#include "../../lib/buf.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct imap_parser *parser;

static int sk_begin(void *ctx, uint32_t n, const char *item, uint64_t size,
		    bool binary)
{
	(void)ctx, (void)n, (void)item, (void)size, (void)binary;
	return 0;
}

static int sk_data(void *ctx, const char *d, size_t n)
{
	(void)ctx, (void)d, (void)n;
	return 0;
}

static int sk_end(void *ctx)
{
	(void)ctx;
	return 0;
}

static const struct imap_response *P(const char *s, size_t len)
{
	const struct imap_response *r = NULL;
	struct pn_error err;
	size_t used;

	if (!len)
		len = strlen(s);
	imap_parser_reset(parser);
	if (imap_parser_feed(parser, s, len, &used, &r, &err) !=
	    IMAP_PARSE_DONE)
		fail_msg("parse failed: %s: %s", s, err.msg);
	return r;
}

static int setup(void **state)
{
	struct imap_limits lim = { .max_inline_literal = 16 };
	static const struct imap_literal_sink s = {
		NULL, sk_begin, sk_data, sk_end
	};

	(void)state;
	parser = imap_parser_new(&lim);
	imap_parser_set_sink(parser, &s);
	return parser ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	imap_parser_free(&parser);
	return 0;
}

/* ---- a compact text form of decoded structures ---- */

static void s_(struct pn_buf *o, const char *s)
{
	assert_int_equal(pn_buf_adds(o, s ? s : "NIL"), 0);
}

static void addr_list(struct pn_buf *o, const struct imap_address *a,
		      size_t n)
{
	s_(o, "[");
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(pn_buf_printf(o, "%s%s|%s|%s|%s", i ? "," : "",
				 a[i].name ? a[i].name : "-",
				 a[i].adl ? a[i].adl : "-",
				 a[i].mailbox ? a[i].mailbox : "-",
				 a[i].host ? a[i].host : "-"), 0);
	}
	s_(o, "]");
}

static void env_str(struct pn_buf *o, const struct imap_envelope *e)
{
	s_(o, "{");
	s_(o, e->date);
	s_(o, ";");
	s_(o, e->subject);
	s_(o, ";");
	addr_list(o, e->from, e->nfrom);
	addr_list(o, e->sender, e->nsender);
	addr_list(o, e->reply_to, e->nreply_to);
	addr_list(o, e->to, e->nto);
	addr_list(o, e->cc, e->ncc);
	addr_list(o, e->bcc, e->nbcc);
	s_(o, ";");
	s_(o, e->in_reply_to);
	s_(o, ";");
	s_(o, e->message_id);
	s_(o, "}");
}

static void params_str(struct pn_buf *o, const struct imap_body_param *p,
		       size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(pn_buf_printf(o, ";%s=%s", p[i].name,
				 p[i].value ? p[i].value : "NIL"), 0);
}

static void body_str(struct pn_buf *o, const struct imap_body *b)
{
	if (strcmp(b->type, "MULTIPART") == 0) {
		s_(o, "(");
		for (size_t i = 0; i < b->nparts; i++) {
			if (i)
				s_(o, " ");
			body_str(o, &b->parts[i]);
		}
		assert_int_equal(pn_buf_printf(o, ")/%s", b->subtype), 0);
		params_str(o, b->params, b->nparams);
	} else {
		assert_int_equal(pn_buf_printf(o, "%s/%s", b->type,
					       b->subtype), 0);
		params_str(o, b->params, b->nparams);
		assert_int_equal(pn_buf_printf(o, " id=%s desc=%s enc=%s "
				 "%llu", b->id ? b->id : "NIL",
				 b->description ? b->description : "NIL",
				 b->encoding ? b->encoding : "NIL",
				 (unsigned long long)b->size), 0);
		if (b->lines)
			assert_int_equal(pn_buf_printf(o, " L%u", b->lines),
					 0);
		if (b->envelope) {
			s_(o, " ");
			env_str(o, b->envelope);
			assert_int_equal(b->nparts, 1);
			s_(o, " [");
			body_str(o, b->parts);
			s_(o, "]");
		}
	}
	if (b->has_ext) {
		assert_int_equal(pn_buf_printf(o, " ext(md5=%s disp=%s",
				 b->md5 ? b->md5 : "NIL",
				 b->disposition ? b->disposition : "NIL"), 0);
		params_str(o, b->disp_params, b->ndisp_params);
		assert_int_equal(pn_buf_printf(o, " lang=%s loc=%s next=%zu)",
				 !b->language ? "NIL" :
				 b->language->type == IMAP_ARG_LIST ? "list" :
				 b->language->str,
				 b->location ? b->location : "NIL",
				 b->nextension), 0);
	}
}

/* ---- the RFC 3501 7.4.2 example ---- */

static void test_rfc3501_example(void **state)
{
	const struct imap_response *r = P(
		"* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 "
		"02:44:25 -0700\" RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul "
		"1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and "
		"minutes\" ((\"Terry Gray\" NIL \"gray\" "
		"\"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" "
		"\"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" "
		"\"cac.washington.edu\")) ((NIL NIL \"imap\" "
		"\"cac.washington.edu\")) ((NIL NIL \"minutes\" "
		"\"CNRI.Reston.VA.US\") (\"John Klensin\" NIL \"KLENSIN\" "
		"\"MIT.EDU\")) NIL NIL \"<B27397-0100000@cac.washington.edu>\")"
		" BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL "
		"\"7BIT\" 3028 92))\r\n", 0);
	struct imap_fetch f;
	struct pn_error err;
	struct pn_buf o = { 0 };
	struct tm tm = { .tm_year = 96, .tm_mon = 6, .tm_mday = 17,
			 .tm_hour = 9, .tm_min = 44, .tm_sec = 25 };

	(void)state;
	assert_int_equal(imap_fetch_decode(r, &f, &err), 0);
	assert_int_equal(f.seq, 12);
	assert_int_equal(f.has, IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
			 IMAP_FETCH_SIZE | IMAP_FETCH_ENVELOPE |
			 IMAP_FETCH_BODYSTRUCTURE);
	assert_int_equal(f.nflags, 1);
	assert_string_equal(f.flags[0], "\\Seen");
	assert_int_equal(f.internaldate, timegm(&tm));
	assert_int_equal(f.internaldate_tz, -420);
	assert_int_equal(f.size, 4286);
	env_str(&o, f.envelope);
	assert_string_equal(pn_buf_cstr(&o),
		"{Wed, 17 Jul 1996 02:23:25 -0700 (PDT);IMAP4rev1 WG mtg "
		"summary and minutes;[Terry Gray|-|gray|cac.washington.edu]"
		"[Terry Gray|-|gray|cac.washington.edu][Terry Gray|-|gray|"
		"cac.washington.edu][-|-|imap|cac.washington.edu][-|-|minutes|"
		"CNRI.Reston.VA.US,John Klensin|-|KLENSIN|MIT.EDU][];NIL;"
		"<B27397-0100000@cac.washington.edu>}");
	pn_buf_reset(&o);
	body_str(&o, f.body);
	assert_string_equal(pn_buf_cstr(&o), "TEXT/PLAIN;CHARSET=US-ASCII "
			    "id=NIL desc=NIL enc=7BIT 3028 L92");
	assert_false(f.body->has_ext);
	assert_int_equal(f.nbodies, 0);
	pn_buf_free(&o);
}

/* ---- table: BODYSTRUCTURE / ENVELOPE shapes and errors ---- */

struct fcase {
	const char *in;
	const char *want;	/* body_str, "env:" env_str, or "error: " */
};

#define TXT(n) "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL " \
	"\"7BIT\" " #n " 1)"

static const struct fcase shapes[] = {
	/* RFC 3501 7.4.2 multipart example */
	{ "* 1 FETCH (BODY ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") "
	  "NIL NIL \"7BIT\" 1152 23)(\"TEXT\" \"PLAIN\" (\"CHARSET\" "
	  "\"US-ASCII\" \"NAME\" \"cc.diff\") \"<960723163407.20117h@cac."
	  "washington.edu>\" \"Compiler diff\" \"BASE64\" 4554 73) "
	  "\"MIXED\"))\r\n",
	  "(TEXT/PLAIN;CHARSET=US-ASCII id=NIL desc=NIL enc=7BIT 1152 L23 "
	  "TEXT/PLAIN;CHARSET=US-ASCII;NAME=cc.diff id=<960723163407.20117h"
	  "@cac.washington.edu> desc=Compiler diff enc=BASE64 4554 L73)/"
	  "MIXED" },
	/* extension data of both kinds */
	{ "* 1 FETCH (BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" "
	  "\"utf-8\") NIL NIL \"quoted-printable\" 10 2 NIL NIL NIL NIL)"
	  "(\"application\" \"pdf\" (\"name\" \"a.pdf\") NIL NIL "
	  "\"base64\" 4096 \"Q2hlY2s=\" (\"attachment\" (\"filename\" "
	  "\"a.pdf\")) (\"en\" \"de\") \"http://x/a.pdf\" 1 (2 3)) "
	  "\"mixed\" (\"boundary\" \"b1\") (\"inline\" NIL) \"fr\" NIL))\r\n",
	  "(text/plain;charset=utf-8 id=NIL desc=NIL enc=quoted-printable "
	  "10 L2 ext(md5=NIL disp=NIL lang=NIL loc=NIL next=0) "
	  "application/pdf;name=a.pdf id=NIL desc=NIL enc=base64 4096 "
	  "ext(md5=Q2hlY2s= disp=attachment;filename=a.pdf lang=list "
	  "loc=http://x/a.pdf next=2))/mixed;boundary=b1 ext(md5=NIL "
	  "disp=inline lang=fr loc=NIL next=0)" },
	/* only the first extension field */
	{ "* 1 FETCH (BODYSTRUCTURE (\"IMAGE\" \"PNG\" NIL NIL NIL "
	  "\"BASE64\" 30 NIL))\r\n",
	  "IMAGE/PNG id=NIL desc=NIL enc=BASE64 30 ext(md5=NIL disp=NIL "
	  "lang=NIL loc=NIL next=0)" },
	{ "* 1 FETCH (BODYSTRUCTURE (" TXT(5) " \"ALTERNATIVE\" NIL))\r\n",
	  "(TEXT/PLAIN;CHARSET=US-ASCII id=NIL desc=NIL enc=7BIT 5 L1)/"
	  "ALTERNATIVE ext(md5=NIL disp=NIL lang=NIL loc=NIL next=0)" },
	/* message/rfc822 nesting a multipart */
	{ "* 1 FETCH (BODYSTRUCTURE (" TXT(5) "(\"MESSAGE\" \"RFC822\" NIL "
	  "NIL NIL \"7BIT\" 342 (NIL \"Fwd\" ((\"A\" NIL \"a\" \"x.org\")) "
	  "NIL NIL NIL NIL NIL NIL NIL) ((" TXT(6) TXT(7) " \"MIXED\") "
	  "\"RELATED\") 10) \"MIXED\"))\r\n",
	  "(TEXT/PLAIN;CHARSET=US-ASCII id=NIL desc=NIL enc=7BIT 5 L1 "
	  "MESSAGE/RFC822 id=NIL desc=NIL enc=7BIT 342 L10 {NIL;Fwd;"
	  "[A|-|a|x.org][][][][][];NIL;NIL} [((TEXT/PLAIN;CHARSET=US-ASCII "
	  "id=NIL desc=NIL enc=7BIT 6 L1 TEXT/PLAIN;CHARSET=US-ASCII id=NIL "
	  "desc=NIL enc=7BIT 7 L1)/MIXED)/RELATED])/MIXED" },
	/* message/rfc822 with its extension data */
	{ "* 1 FETCH (BODYSTRUCTURE (\"MESSAGE\" \"RFC822\" NIL NIL NIL "
	  "\"7BIT\" 3 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) " TXT(1)
	  " 1 NIL (\"inline\" NIL) NIL NIL))\r\n",
	  "MESSAGE/RFC822 id=NIL desc=NIL enc=7BIT 3 L1 {NIL;NIL;[][][][][]"
	  "[];NIL;NIL} [TEXT/PLAIN;CHARSET=US-ASCII id=NIL desc=NIL "
	  "enc=7BIT 1 L1] ext(md5=NIL disp=inline lang=NIL loc=NIL "
	  "next=0)" },
	/* message/rfc822 without envelope and body: read as basic */
	{ "* 1 FETCH (BODYSTRUCTURE (\"message\" \"rfc822\" NIL NIL NIL "
	  "\"7bit\" 3))\r\n",
	  "message/rfc822 id=NIL desc=NIL enc=7bit 3" },
	/* a literal inside the structure */
	{ "* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"NAME\" {5}\r\n"
	  "a b c) NIL NIL \"8BIT\" 5 1))\r\n",
	  "TEXT/PLAIN;NAME=a b c id=NIL desc=NIL enc=8BIT 5 L1" },
	/* groups (RFC 3501 7.4.2 / RFC 5322 3.4) */
	{ "* 1 FETCH (ENVELOPE (\"d\" \"s\" NIL NIL NIL ((NIL NIL "
	  "\"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) ((NIL NIL "
	  "\"team\" NIL)(\"B\" \"@r1:\" \"b\" \"y.org\")(NIL NIL NIL NIL)"
	  "(NIL NIL \"c\" \"z.org\")) NIL \"<p@x>\" \"<m@x>\"))\r\n",
	  "env:{d;s;[][][][-|-|undisclosed-recipients|-,-|-|-|-]"
	  "[-|-|team|-,B|@r1:|b|y.org,-|-|-|-,-|-|c|z.org][];<p@x>;<m@x>}" },
	/* an empty address list sent as "" (tolerated) */
	{ "* 1 FETCH (ENVELOPE (NIL NIL \"\" NIL NIL NIL NIL NIL NIL "
	  "NIL))\r\n",
	  "env:{NIL;NIL;[][][][][][];NIL;NIL}" },
	/* malformed */
	{ "* 1 FETCH (ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL))\r\n",
	  "error: FETCH: ENVELOPE has 9 fields, not 10" },
	{ "* 1 FETCH (ENVELOPE NIL)\r\n",
	  "error: FETCH: ENVELOPE is NIL, not a list" },
	{ "* 1 FETCH (ENVELOPE (NIL NIL ((NIL NIL \"a\")) NIL NIL NIL NIL "
	  "NIL NIL NIL))\r\n",
	  "error: FETCH: ENVELOPE address is not a list of 4 fields" },
	{ "* 1 FETCH (ENVELOPE (NIL NIL x NIL NIL NIL NIL NIL NIL NIL))\r\n",
	  "error: FETCH: ENVELOPE address list is an atom" },
	{ "* 1 FETCH (ENVELOPE ((x) NIL NIL NIL NIL NIL NIL NIL NIL NIL))"
	  "\r\n", "error: FETCH: ENVELOPE date is a list, not a string" },
	{ "* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" "
	  "5))\r\n", "error: FETCH: BODYSTRUCTURE part (top): text part "
	  "without a line count" },
	{ "* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL "
	  "\"7BIT\"))\r\n", "error: FETCH: BODYSTRUCTURE part (top): fewer "
	  "than 7 fields" },
	{ "* 1 FETCH (BODYSTRUCTURE (" TXT(1) "(\"A\" \"B\" NIL NIL NIL "
	  "\"7BIT\" x) \"MIXED\"))\r\n", "error: FETCH: BODYSTRUCTURE part "
	  "2: size is not a number" },
	{ "* 1 FETCH (BODYSTRUCTURE (" TXT(1) "))\r\n", "error: FETCH: "
	  "BODYSTRUCTURE part (top): multipart without a subtype" },
	{ "* 1 FETCH (BODYSTRUCTURE (NIL \"B\" NIL NIL NIL \"7BIT\" 1))\r\n",
	  "error: FETCH: BODYSTRUCTURE part (top): media type is NIL" },
	{ "* 1 FETCH (BODYSTRUCTURE (\"A\" \"B\" (\"x\") NIL NIL \"7BIT\" "
	  "1))\r\n", "error: FETCH: BODYSTRUCTURE part (top): parameters "
	  "are not name/value pairs" },
	{ "* 1 FETCH (BODYSTRUCTURE (\"A\" \"B\" NIL NIL NIL \"7BIT\" 1 NIL "
	  "(\"inline\")))\r\n", "error: FETCH: BODYSTRUCTURE part (top): "
	  "disposition is not (type params)" },
	{ "* 1 FETCH (BODYSTRUCTURE ())\r\n", "error: FETCH: BODYSTRUCTURE "
	  "part (top): is not a list" },
	{ "* 1 FETCH (BODY \"x\")\r\n", "error: FETCH: BODYSTRUCTURE part "
	  "(top): is not a list" },
	{ "* 1 FETCH (BODYSTRUCTURE ((" TXT(1) TXT(2) " \"A\") (\"MESSAGE\" "
	  "\"RFC822\" NIL NIL NIL \"7BIT\" 3 (NIL NIL NIL NIL NIL NIL NIL NIL "
	  "NIL NIL) (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1) 1) "
	  "\"MIXED\"))\r\n",
	  "error: FETCH: BODYSTRUCTURE part 2: text part without a line "
	  "count" },
};

static void test_shapes(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(shapes); i++) {
		struct imap_fetch f;
		struct pn_error err;
		struct pn_buf o = { 0 };

		if (imap_fetch_decode(P(shapes[i].in, 0), &f, &err) < 0) {
			assert_int_equal(pn_buf_printf(&o, "error: %s",
						       err.msg), 0);
		} else if (f.has & IMAP_FETCH_ENVELOPE) {
			s_(&o, "env:");
			env_str(&o, f.envelope);
		} else {
			body_str(&o, f.body);
		}
		if (strcmp(pn_buf_cstr(&o), shapes[i].want) != 0)
			print_error("case %zu\n", i);
		assert_string_equal(pn_buf_cstr(&o), shapes[i].want);
		pn_buf_free(&o);
	}
}

/* ---- body sections, BINARY, MODSEQ, UID ---- */

static void test_sections(void **state)
{
	static const char in[] =
		"* 4 FETCH (UID 77 MODSEQ (12121231000) BODY[]<0> {5}\r\n"
		"Hello BODY[HEADER.FIELDS (FROM SUBJECT)] {14}\r\n"
		"From: a\r\n\r\nxyz BODY[1.2] NIL BINARY[2] ~{4}\r\n"
		"a\0bc BINARY.SIZE[2] 4 RFC822.HEADER \"H\" RFC822 {40}\r\n"
		"0123456789012345678901234567890123456789 RFC822.TEXT \"\" "
		"BODY[TEXT]<100> \"t\" X-GM-MSGID 123)\r\n";
	const struct imap_response *r = P(in, sizeof(in) - 1);
	const struct imap_fetch_body *b;
	struct imap_fetch f;
	struct pn_error err;

	(void)state;
	assert_int_equal(imap_fetch_decode(r, &f, &err), 0);
	assert_int_equal(f.seq, 4);
	assert_int_equal(f.has, IMAP_FETCH_UID | IMAP_FETCH_MODSEQ |
			 IMAP_FETCH_BINARY_SIZE);
	assert_int_equal(f.uid, 77);
	assert_int_equal(f.modseq, 12121231000ull);
	assert_string_equal(f.binary_size_section, "2");
	assert_int_equal(f.binary_size, 4);
	assert_int_equal(f.nbodies, 8);
	b = f.bodies;
	assert_string_equal(b[0].item, "BODY[]");
	assert_string_equal(b[0].section, "");
	assert_true(b[0].has_origin);
	assert_int_equal(b[0].origin, 0);
	assert_memory_equal(b[0].data, "Hello", 5);
	assert_int_equal(b[0].len, 5);
	assert_int_equal(b[0].size, 5);
	assert_false(b[0].binary);
	assert_string_equal(b[1].item, "BODY[HEADER.FIELDS (FROM SUBJECT)]");
	assert_string_equal(b[1].section, "HEADER.FIELDS (FROM SUBJECT)");
	assert_false(b[1].has_origin);
	assert_int_equal(b[1].len, 14);
	assert_string_equal(b[2].item, "BODY[1.2]");
	assert_null(b[2].data);
	assert_false(b[2].streamed);
	assert_string_equal(b[3].item, "BINARY[2]");
	assert_true(b[3].binary);
	assert_int_equal(b[3].len, 4);
	assert_memory_equal(b[3].data, "a\0bc", 4);
	assert_string_equal(b[4].item, "RFC822.HEADER");
	assert_string_equal(b[4].section, "HEADER");
	assert_string_equal(b[4].data, "H");
	/* 40 bytes: above this parser's 16-byte inline limit */
	assert_string_equal(b[5].item, "RFC822");
	assert_string_equal(b[5].section, "");
	assert_true(b[5].streamed);
	assert_null(b[5].data);
	assert_int_equal(b[5].size, 40);
	assert_string_equal(b[6].item, "RFC822.TEXT");
	assert_string_equal(b[6].section, "TEXT");
	assert_non_null(b[6].data);
	assert_int_equal(b[6].len, 0);
	assert_string_equal(b[7].item, "BODY[TEXT]");
	assert_int_equal(b[7].origin, 100);
}

struct ecase {
	const char *in;
	const char *err;
};

static const struct ecase errors[] = {
	{ "* 1 FETCH (UID)\r\n", "FETCH: 1 items, not name/value pairs" },
	{ "* 1 FETCH (UID x)\r\n", "FETCH: UID is not a number" },
	{ "* 1 FETCH (UID 4294967296)\r\n", "FETCH: UID is not a number" },
	{ "* 1 FETCH (RFC822.SIZE -1)\r\n",
	  "FETCH: RFC822.SIZE is not a number" },
	{ "* 1 FETCH (MODSEQ 5)\r\n",
	  "FETCH: MODSEQ is not a list of one number" },
	{ "* 1 FETCH (MODSEQ (x))\r\n", "FETCH: MODSEQ is not a number" },
	{ "* 1 FETCH (FLAGS \\Seen)\r\n", "FLAGS: an atom, not a list" },
	{ "* 1 FETCH (INTERNALDATE 5)\r\n",
	  "FETCH: INTERNALDATE is an atom, not a string" },
	{ "* 1 FETCH (BINARY.SIZE[1] x)\r\n",
	  "FETCH: BINARY.SIZE is not a number" },
	{ "* 1 FETCH (BODY[]<x> \"a\")\r\n", "FETCH: bad origin in BODY[]<x>" },
	{ "* 1 FETCH (BODY[]<1 \"a\")\r\n", "FETCH: bad origin in BODY[]<1" },
	{ "* 1 FETCH (BODY[]x \"a\")\r\n", "FETCH: bad origin in BODY[]x" },
	{ "* 1 FETCH (BODY[] (a))\r\n", "FETCH: BODY[] value is a list" },
	{ "* 1 FETCH (\"UID\" 1)\r\n", "FETCH: item 1 name is a string" },
	{ "* 1 FETCH UID 1\r\n", "FETCH: expected one list" },
	{ "* 1 EXPUNGE\r\n", "FETCH: not a FETCH response" },
	{ "* FETCH (UID 1)\r\n", "FETCH: not a FETCH response" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(errors); i++) {
		struct imap_fetch f;
		struct pn_error err;

		if (imap_fetch_decode(P(errors[i].in, 0), &f, &err) == 0)
			fail_msg("case %zu decoded", i);
		assert_string_equal(err.msg, errors[i].err);
	}
}

static void test_internaldate_bad(void **state)
{
	struct imap_fetch f;
	struct pn_error err;

	(void)state;
	assert_int_equal(imap_fetch_decode(P("* 1 FETCH (INTERNALDATE "
		"\"31-Foo-2020 00:00:00 +0000\")\r\n", 0), &f, &err), -1);
	assert_true(strncmp(err.msg, "FETCH: INTERNALDATE: ", 21) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3501_example),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_internaldate_bad),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
