/* Tests for imap/response.c: capabilities, response codes (RFC 3501,
 * 4315, 5530, 7162, 7889), flags, LIST (RFC 5258, 6154, 9051), STATUS,
 * SEARCH/SORT/ESEARCH (RFC 4731), NAMESPACE (RFC 2342), QUOTA (RFC
 * 9208) and VANISHED (RFC 7162), valid and malformed side by side. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../imap/imap_p.h"
#include "../../lib/buf.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct imap_parser *parser;

/* Parse one whole response (valid until the next call). */
static const struct imap_response *P(const char *s)
{
	const struct imap_response *r = NULL;
	struct pn_error err;
	size_t used;

	imap_parser_reset(parser);
	if (imap_parser_feed(parser, s, strlen(s), &used, &r, &err) !=
	    IMAP_PARSE_DONE)
		fail_msg("parse failed: %s: %s", s, err.msg);
	assert_int_equal(used, strlen(s));
	return r;
}

static char *fmt_set(const struct imap_seqset *s)
{
	struct pn_buf b = { 0 };

	assert_int_equal(imap_seqset_format(s, &b), 0);
	return pn_buf_take(&b, NULL);
}

static void assert_set(const struct imap_seqset *s, const char *want)
{
	char *got = fmt_set(s);

	assert_string_equal(got, want);
	free(got);
}

static int setup(void **state)
{
	(void)state;
	parser = imap_parser_new(NULL);
	return parser ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	imap_parser_free(&parser);
	return 0;
}

/* ---- capabilities ---- */

static void test_caps(void **state)
{
	struct imap_caps *c = imap_caps_new();
	const struct imap_response *r;
	struct pn_error err;

	(void)state;
	r = P("* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI auth=plain "
	      "APPENDLIMIT=35651584 LITERAL+\r\n");
	assert_int_equal(imap_caps_set(c, r->args, r->nargs, &err), 0);
	assert_true(imap_caps_has(c, "imap4rev1"));
	assert_true(imap_caps_has(c, "LITERAL+"));
	assert_false(imap_caps_has(c, "IDLE"));
	assert_true(imap_caps_auth(c, "PLAIN"));
	assert_true(imap_caps_auth(c, "gssapi"));
	assert_false(imap_caps_auth(c, "LOGIN"));
	assert_false(imap_caps_auth(c, "STARTTLS"));
	assert_int_equal(imap_caps_appendlimit(c), 35651584);
	assert_string_equal(imap_caps_get(c, 3), "AUTH=PLAIN");
	assert_null(imap_caps_get(c, 6));
	/* a code replaces the set */
	r = P("* OK [CAPABILITY IMAP4rev1 IDLE APPENDLIMIT] Ready\r\n");
	assert_int_equal(imap_caps_set(c, r->code_args, r->ncode_args, &err),
			 0);
	assert_true(imap_caps_has(c, "IDLE"));
	assert_false(imap_caps_has(c, "STARTTLS"));
	assert_int_equal(imap_caps_appendlimit(c), 0);
	r = P("* CAPABILITY IMAP4rev1 (X)\r\n");
	assert_int_equal(imap_caps_set(c, r->args, r->nargs, &err), -1);
	assert_string_equal(err.msg, "CAPABILITY: item 2 is a list, not an "
			    "atom");
	assert_null(imap_caps_get(c, 0));
	imap_caps_free(&c);
	assert_null(c);
	imap_caps_free(&c);
}

/* ---- response codes ---- */

struct ccase {
	const char *in;
	const char *code;
	const char *want;	/* "number N", "uid V src dst", "list a b",
				   "" for a plain code, or "error: ..." */
};

static const struct ccase codes[] = {
	{ "* OK [UIDNEXT 4392] x\r\n", "UIDNEXT", "number 4392" },
	{ "* OK [UIDVALIDITY 3857529045] x\r\n", "UIDVALIDITY",
	  "number 3857529045" },
	{ "* OK [UNSEEN 17] x\r\n", "UNSEEN", "number 17" },
	{ "* OK [HIGHESTMODSEQ 715194045007] x\r\n", "HIGHESTMODSEQ",
	  "number 715194045007" },
	{ "a1 NO [APPENDLIMIT 1024] x\r\n", "APPENDLIMIT", "number 1024" },
	{ "a1 OK [APPENDUID 38505 3955] x\r\n", "APPENDUID",
	  "uid 38505  3955" },
	{ "a1 OK [APPENDUID 38505 3955:3957,3960] x\r\n", "APPENDUID",
	  "uid 38505  3955:3957,3960" },
	{ "a1 OK [COPYUID 38505 304,319:320 3956:3958] x\r\n", "COPYUID",
	  "uid 38505 304,319:320 3956:3958" },
	{ "a1 OK [MODIFIED 7,9] x\r\n", "MODIFIED", "uid 0 7,9 " },
	{ "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] x\r\n",
	  "PERMANENTFLAGS", "list \\Deleted \\Seen \\*" },
	{ "* OK [PERMANENTFLAGS ()] x\r\n", "PERMANENTFLAGS", "list" },
	{ "a1 NO [BADCHARSET (UTF-8 \"US-ASCII\")] x\r\n", "BADCHARSET",
	  "list UTF-8 US-ASCII" },
	{ "a1 NO [BADCHARSET] x\r\n", "BADCHARSET", "" },
	{ "* OK [CAPABILITY IMAP4rev1 IDLE] x\r\n", "CAPABILITY",
	  "list IMAP4rev1 IDLE" },
	{ "* OK [alert] x\r\n", "ALERT", "" },
	{ "* OK [READ-ONLY] x\r\n", "READ-ONLY", "" },
	{ "a1 NO [TRYCREATE] x\r\n", "TRYCREATE", "" },
	{ "* OK [XFOO 1 (2)] x\r\n", "XFOO", "" },
	{ "a1 OK x\r\n", NULL, "" },
	/* malformed */
	{ "* OK [UIDNEXT abc] x\r\n", "UIDNEXT", "error: response code "
	  "UIDNEXT: argument is not a number" },
	{ "* OK [UIDNEXT] x\r\n", "UIDNEXT", "error: response code "
	  "UIDNEXT: argument is not a number" },
	{ "a1 OK [APPENDUID 0 5] x\r\n", "APPENDUID", "error: response code "
	  "APPENDUID: bad UIDVALIDITY" },
	{ "a1 OK [COPYUID 1 2] x\r\n", "COPYUID", "error: response code "
	  "COPYUID: 2 arguments, not 3" },
	{ "a1 OK [APPENDUID 1 x] x\r\n", "APPENDUID", "error: response code "
	  "APPENDUID: sequence set: bad number at byte 0" },
	/* a set that fails after its first range (leaked once) */
	{ "a1 OK [APPENDUID 1 2XT] x\r\n", "APPENDUID", "error: response "
	  "code APPENDUID: sequence set: unexpected 'X' at byte 1" },
	{ "a1 OK [APPENDUID 1 (2)] x\r\n", "APPENDUID", "error: response "
	  "code APPENDUID: sequence set is a list" },
	{ "* OK [PERMANENTFLAGS \\Seen] x\r\n", "PERMANENTFLAGS",
	  "error: response code PERMANENTFLAGS: expected one list" },
	{ "* OK [PERMANENTFLAGS (\\Seen (x))] x\r\n", "PERMANENTFLAGS",
	  "error: response code PERMANENTFLAGS: item 2 is a list" },
	{ "a1 OK [MODIFIED] x\r\n", "MODIFIED", "error: response code "
	  "MODIFIED: expected one sequence set" },
};

static void code_string(const struct imap_code_info *c, struct pn_buf *o)
{
	char *s, *d;

	if (c->has_number) {
		assert_int_equal(pn_buf_printf(o, "number %llu",
				 (unsigned long long)c->number), 0);
	} else if (c->uidvalidity || c->src_uids.n || c->dst_uids.n) {
		s = fmt_set(&c->src_uids);
		d = fmt_set(&c->dst_uids);
		assert_int_equal(pn_buf_printf(o, "uid %u %s %s",
				 c->uidvalidity, s, d), 0);
		free(s);
		free(d);
	} else if (c->list) {
		assert_int_equal(pn_buf_adds(o, "list"), 0);
		for (size_t i = 0; i < c->nlist; i++)
			assert_int_equal(pn_buf_printf(o, " %s", c->list[i]),
					 0);
		assert_null(c->list[c->nlist]);
	}
}

static void test_codes(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(codes); i++) {
		const struct imap_response *r = P(codes[i].in);
		struct imap_code_info c;
		struct pn_buf o = { 0 };
		struct pn_error err;

		if (imap_code_decode(r, &c, &err) < 0)
			assert_int_equal(pn_buf_printf(&o, "error: %s",
						       err.msg), 0);
		else
			code_string(&c, &o);
		if (codes[i].code)
			assert_string_equal(c.code, codes[i].code);
		else
			assert_null(c.code);
		assert_string_equal(pn_buf_cstr(&o), codes[i].want);
		imap_code_info_free(&c);
		pn_buf_free(&o);
	}
}

/* RFC 5530 3: every code is a plain code */
static void test_codes_rfc5530(void **state)
{
	static const char *const c5530[] = {
		"UNAVAILABLE", "AUTHENTICATIONFAILED", "AUTHORIZATIONFAILED",
		"EXPIRED", "PRIVACYREQUIRED", "CONTACTADMIN", "NOPERM",
		"INUSE", "EXPUNGEISSUED", "CORRUPTION", "SERVERBUG",
		"CLIENTBUG", "CANNOT", "LIMIT", "OVERQUOTA", "ALREADYEXISTS",
		"NONEXISTENT",
	};

	(void)state;
	for (size_t i = 0; i < NELEM(c5530); i++) {
		char line[128];
		struct imap_code_info c;
		struct pn_error err;

		snprintf(line, sizeof(line), "a1 NO [%s] text\r\n", c5530[i]);
		assert_int_equal(imap_code_decode(P(line), &c, &err), 0);
		assert_string_equal(c.code, c5530[i]);
		assert_false(c.has_number);
		assert_null(c.list);
		assert_int_equal(c.src_uids.n + c.dst_uids.n, 0);
		imap_code_info_free(&c);
	}
}

/* ---- flags ---- */

static void test_flags(void **state)
{
	const struct imap_response *r;
	const char *const *f;
	struct pn_error err;
	size_t n;

	(void)state;
	r = P("* FLAGS (\\Answered \\Flagged $Junk \\Seen)\r\n");
	assert_int_equal(imap_flags_decode(r, &r->args[0], &f, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_string_equal(f[0], "\\Answered");
	assert_string_equal(f[2], "$Junk");
	assert_null(f[4]);
	r = P("* FLAGS ()\r\n");
	assert_int_equal(imap_flags_decode(r, &r->args[0], &f, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(f[0]);
	r = P("* FLAGS \\Seen\r\n");
	assert_int_equal(imap_flags_decode(r, &r->args[0], &f, &n, &err), -1);
	assert_string_equal(err.msg, "FLAGS: an atom, not a list");
	r = P("* FLAGS (\\Seen \"x\")\r\n");
	assert_int_equal(imap_flags_decode(r, &r->args[0], &f, &n, &err), -1);
	assert_string_equal(err.msg, "FLAGS: item 2 is a string, not a flag");
}

/* ---- LIST ---- */

struct lcase {
	const char *in;
	bool utf8;
	const char *want;	/* attrs|delim|name|raw|childinfo|oldname */
};

static const struct lcase lists[] = {
	{ "* LIST (\\Noselect) \"/\" ~/Mail/foo\r\n", false,
	  "\\Noselect|/|~/Mail/foo|~/Mail/foo|-|-" },
	{ "* LSUB () \".\" #news.comp.mail.misc\r\n", false,
	  "|.|#news.comp.mail.misc|#news.comp.mail.misc|-|-" },
	{ "* LIST (\\Noselect) NIL \"\"\r\n", false, "\\Noselect|NIL|||-|-" },
	{ "* LIST (\\HasNoChildren \\Sent) \"/\" {4}\r\nSent\r\n", false,
	  "\\HasNoChildren \\Sent|/|Sent|Sent|-|-" },
	{ "* LIST () \"/\" \"~peter/mail/&U,BTFw-/&ZeVnLIqe-\"\r\n", false,
	  "|/|~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac"
	  "\xe8\xaa\x9e|~peter/mail/&U,BTFw-/&ZeVnLIqe-|-|-" },
	/* under UTF8=ACCEPT names are UTF-8 as sent */
	{ "* LIST () \"/\" \"&ZeVnLIqe-\"\r\n", true,
	  "|/|&ZeVnLIqe-|&ZeVnLIqe-|-|-" },
	/* not valid modified UTF-7: shown as sent */
	{ "* LIST () \"/\" \"a&b\"\r\n", false, "|/|a&b|a&b|-|-" },
	{ "* LIST (\\Marked \\NoInferiors) \"/\" \"inbox\"\r\n", false,
	  "\\Marked \\NoInferiors|/|inbox|inbox|-|-" },
	{ "* LIST () \"/\" \"Fruit/Peach\" (\"CHILDINFO\" "
	  "(\"SUBSCRIBED\"))\r\n", false,
	  "|/|Fruit/Peach|Fruit/Peach|SUBSCRIBED|-" },
	{ "* LIST (\\Subscribed) \"/\" \"NewName\" (\"OLDNAME\" "
	  "(\"&ZeVnLIqe-\"))\r\n", false,
	  "\\Subscribed|/|NewName|NewName|-|\xe6\x97\xa5\xe6\x9c\xac"
	  "\xe8\xaa\x9e" },
	{ "* LIST () \"\\\\\" x\r\n", false, "|\\|x|x|-|-" },
	/* malformed */
	{ "* LIST () \"/\"\r\n", false, "error: LIST: 2 arguments, not 3 "
	  "or 4" },
	{ "* LIST () \"ab\" x\r\n", false, "error: LIST: delimiter is not "
	  "one character or NIL" },
	{ "* LIST () \"/\" (x)\r\n", false, "error: LIST: mailbox name is "
	  "a list" },
	{ "* LIST x \"/\" y\r\n", false, "error: LIST attributes: FLAGS: an "
	  "atom, not a list" },
	{ "* LIST () \"/\" y (\"CHILDINFO\")\r\n", false, "error: LIST: "
	  "extended items are not tag/value pairs" },
	{ "* STATUS x ()\r\n", false, "error: LIST: not a LIST response" },
};

static void test_list(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(lists); i++) {
		struct imap_list_entry e;
		struct pn_buf o = { 0 };
		struct pn_error err;

		if (imap_list_decode(P(lists[i].in), lists[i].utf8, &e,
				     &err) < 0) {
			assert_int_equal(pn_buf_printf(&o, "error: %s",
						       err.msg), 0);
		} else {
			for (size_t k = 0; k < e.nattrs; k++)
				assert_int_equal(pn_buf_printf(&o, "%s%s",
						 k ? " " : "", e.attrs[k]), 0);
			if (e.delimiter)
				assert_int_equal(pn_buf_printf(&o, "|%c|",
						 e.delimiter), 0);
			else
				assert_int_equal(pn_buf_adds(&o, "|NIL|"), 0);
			assert_int_equal(pn_buf_printf(&o, "%s|%s|%s|%s",
					 e.name, e.raw_name,
					 e.childinfo ? e.childinfo : "-",
					 e.oldname ? e.oldname : "-"), 0);
		}
		if (strcmp(pn_buf_cstr(&o), lists[i].want) != 0)
			print_error("case %zu\n", i);
		assert_string_equal(pn_buf_cstr(&o), lists[i].want);
		pn_buf_free(&o);
	}
}

/* ---- STATUS ---- */

static void test_status(void **state)
{
	struct imap_status_info s;
	struct pn_error err;

	(void)state;
	assert_int_equal(imap_status_decode(P("* STATUS blurdybloop "
		"(MESSAGES 231 UIDNEXT 44292)\r\n"), false, &s, &err), 0);
	assert_string_equal(s.name, "blurdybloop");
	assert_int_equal(s.has, IMAP_STATUS_MESSAGES | IMAP_STATUS_UIDNEXT);
	assert_int_equal(s.messages, 231);
	assert_int_equal(s.uidnext, 44292);
	assert_int_equal(imap_status_decode(P("* STATUS \"&ZeVnLIqe-\" "
		"(RECENT 1 UIDVALIDITY 4294967295 UNSEEN 0 DELETED 2 "
		"HIGHESTMODSEQ 90060115205545359 SIZE 8589934592 "
		"MAILBOXID (F2212ea87))\r\n"), false, &s, &err), 0);
	assert_string_equal(s.name, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	assert_int_equal(s.has, IMAP_STATUS_RECENT | IMAP_STATUS_UIDVALIDITY |
			 IMAP_STATUS_UNSEEN | IMAP_STATUS_DELETED |
			 IMAP_STATUS_HIGHESTMODSEQ | IMAP_STATUS_SIZE);
	assert_int_equal(s.uidvalidity, 4294967295u);
	assert_int_equal(s.deleted, 2);
	assert_int_equal(s.highestmodseq, 90060115205545359ull);
	assert_int_equal(s.size, 8589934592ull);
	assert_int_equal(imap_status_decode(P("* STATUS x ()\r\n"), false,
					    &s, &err), 0);
	assert_int_equal(s.has, 0);
	assert_int_equal(imap_status_decode(P("* STATUS x (MESSAGES)\r\n"),
					    false, &s, &err), -1);
	assert_string_equal(err.msg, "STATUS: 1 items, not name/value pairs");
	assert_int_equal(imap_status_decode(P("* STATUS x (MESSAGES "
		"4294967296)\r\n"), false, &s, &err), -1);
	assert_string_equal(err.msg, "STATUS: MESSAGES is not a number");
	assert_int_equal(imap_status_decode(P("* STATUS x\r\n"), false, &s,
					    &err), -1);
	assert_string_equal(err.msg, "STATUS: expected a mailbox and a list");
}

/* ---- SEARCH / SORT / ESEARCH ---- */

struct scase {
	const char *in;
	const char *want;	/* "set|uid|tag|min|max|count|modseq" */
};

static const struct scase searches[] = {
	{ "* SEARCH 2 3 6\r\n", "2:3,6|0|-|-|-|-|0" },
	{ "* SEARCH\r\n", "|0|-|-|-|-|0" },
	{ "* SORT 9 1 5 2 84 882 3 4\r\n", "1:5,9,84,882|0|-|-|-|-|0" },
	{ "* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)\r\n",
	  "2,5:7,11:12,18:20,23|0|-|-|-|-|917162500" },
	{ "* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n",
	  "|0|A282|2|-|3|0" },
	{ "* ESEARCH (TAG \"A283\") ALL 2,10:11\r\n",
	  "2,10:11|0|A283|-|-|-|0" },
	{ "* ESEARCH (TAG \"A285\") UID MIN 7 MAX 3800\r\n",
	  "|1|A285|7|3800|-|0" },
	{ "* ESEARCH (TAG \"A286\") COUNT 15\r\n", "|0|A286|-|-|15|0" },
	{ "* ESEARCH UID ALL 4:19,21,28 MODSEQ 8 PARTIAL (1:5 1:3)\r\n",
	  "4:19,21,28|1|-|-|-|-|8" },
	{ "* ESEARCH\r\n", "|0|-|-|-|-|0" },
	/* malformed */
	{ "* SEARCH 1 x\r\n", "error: SEARCH: item 2 is not a number" },
	{ "* SEARCH 0\r\n", "error: SEARCH: item 1 is not a number" },
	{ "* SEARCH 1 (MODSEQ)\r\n", "error: SEARCH: list is not (MODSEQ n)" },
	{ "* ESEARCH (TAG) MIN 1\r\n", "error: ESEARCH: correlator is not "
	  "(TAG string)" },
	{ "* ESEARCH MIN\r\n", "error: ESEARCH: return data 1 is not a name "
	  "and a value" },
	{ "* ESEARCH COUNT x\r\n", "error: ESEARCH: COUNT is not a number" },
	{ "* ESEARCH ALL 1:x\r\n", "error: ESEARCH ALL: sequence set: bad "
	  "number at byte 2" },
	{ "* ESEARCH MODSEQ -1\r\n", "error: ESEARCH: MODSEQ is not a "
	  "number" },
	{ "* FLAGS ()\r\n", "error: SEARCH: not a SEARCH response" },
};

static void test_search(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(searches); i++) {
		struct imap_search_result s = { 0 };
		struct pn_buf o = { 0 };
		struct pn_error err;

		if (imap_search_decode(P(searches[i].in), &s, &err) < 0) {
			assert_int_equal(pn_buf_printf(&o, "error: %s",
						       err.msg), 0);
		} else {
			char *set = fmt_set(&s.set), mn[16] = "-",
			     mx[16] = "-", ct[16] = "-";

			if (s.has_min)
				snprintf(mn, sizeof(mn), "%u", s.min);
			if (s.has_max)
				snprintf(mx, sizeof(mx), "%u", s.max);
			if (s.has_count)
				snprintf(ct, sizeof(ct), "%u", s.count);
			assert_int_equal(pn_buf_printf(&o, "%s|%d|%s|%s|%s|%s|"
					 "%llu", set, s.uid,
					 s.tag ? s.tag : "-", mn, mx, ct,
					 (unsigned long long)s.modseq), 0);
			free(set);
		}
		if (strcmp(pn_buf_cstr(&o), searches[i].want) != 0)
			print_error("case %zu\n", i);
		assert_string_equal(pn_buf_cstr(&o), searches[i].want);
		imap_search_result_free(&s);
		pn_buf_free(&o);
	}
}

/* Several SEARCH responses add up; a reversed SORT of 200000 numbers
 * is not quadratic. */
static void test_search_accumulates(void **state)
{
	struct imap_search_result s = { 0 };
	struct pn_buf line = { 0 };
	struct pn_error err;

	(void)state;
	assert_int_equal(imap_search_decode(P("* SEARCH 1 2\r\n"), &s, &err),
			 0);
	assert_int_equal(imap_search_decode(P("* SEARCH 4 3\r\n"), &s, &err),
			 0);
	assert_set(&s.set, "1:4");
	imap_seqset_clear(&s.set);
	assert_int_equal(pn_buf_adds(&line, "* SORT"), 0);
	for (unsigned i = 200000; i > 0; i--)
		assert_int_equal(pn_buf_printf(&line, " %u", i), 0);
	assert_int_equal(pn_buf_adds(&line, "\r\n"), 0);
	{
		struct imap_limits lim = { .max_line = 4 << 20 };
		struct imap_parser *big = imap_parser_new(&lim);
		const struct imap_response *r;
		size_t used;

		assert_int_equal(imap_parser_feed(big, line.data, line.len,
						  &used, &r, &err),
				 IMAP_PARSE_DONE);
		assert_int_equal(imap_search_decode(r, &s, &err), 0);
		assert_int_equal(s.set.n, 1);
		assert_int_equal(imap_seqset_count(&s.set, 0), 200000);
		/* SORT keeps the server's order as well. */
		assert_int_equal(s.norder, 200000);
		assert_int_equal(s.order[0], 200000);
		assert_int_equal(s.order[199999], 1);
		imap_parser_free(&big);
	}
	imap_search_result_free(&s);
	assert_null(s.order);
	pn_buf_free(&line);
}

/* SORT answers in order, across responses; SEARCH has no order. */
static void test_sort_order(void **state)
{
	struct imap_search_result s = { 0 };
	struct pn_error err;
	static const uint32_t want[] = { 9, 1, 5, 2, 84, 882, 3, 4, 7 };

	(void)state;
	assert_int_equal(imap_search_decode(P("* SORT 9 1 5 2 84 882 3 4\r\n"),
					    &s, &err), 0);
	assert_int_equal(imap_search_decode(P("* SORT 7\r\n"), &s, &err), 0);
	assert_int_equal(s.norder, 9);
	assert_memory_equal(s.order, want, sizeof(want));
	imap_search_result_free(&s);
	assert_int_equal(imap_search_decode(P("* SEARCH 3 1\r\n"), &s, &err), 0);
	assert_null(s.order);
	imap_search_result_free(&s);
}

/* ---- NAMESPACE ---- */

static void test_namespace(void **state)
{
	struct imap_namespaces ns;
	struct pn_error err;

	(void)state;
	assert_int_equal(imap_namespace_decode(P("* NAMESPACE ((\"\" \"/\")) "
		"NIL NIL\r\n"), &ns, &err), 0);
	assert_int_equal(ns.npersonal, 1);
	assert_string_equal(ns.personal[0].prefix, "");
	assert_int_equal(ns.personal[0].delimiter, '/');
	assert_int_equal(ns.nother + ns.nshared, 0);
	assert_null(ns.other);
	assert_int_equal(imap_namespace_decode(P("* NAMESPACE ((\"\" \"/\")"
		"(\"#mh/\" \"/\" \"X-PARAM\" (\"FLAG1\" \"FLAG2\"))) "
		"((\"~\" \"/\")) ((\"#shared/\" \"/\")(\"#public/\" \"/\")"
		"(\"#ftp/\" NIL))\r\n"), &ns, &err), 0);
	assert_int_equal(ns.npersonal, 2);
	assert_string_equal(ns.personal[1].prefix, "#mh/");
	assert_int_equal(ns.nother, 1);
	assert_string_equal(ns.other[0].prefix, "~");
	assert_int_equal(ns.nshared, 3);
	assert_string_equal(ns.shared[1].prefix, "#public/");
	assert_int_equal(ns.shared[2].delimiter, 0);
	assert_int_equal(imap_namespace_decode(P("* NAMESPACE NIL NIL\r\n"),
					       &ns, &err), -1);
	assert_string_equal(err.msg, "NAMESPACE: 2 arguments, not 3");
	assert_int_equal(imap_namespace_decode(P("* NAMESPACE ((\"\")) NIL "
		"NIL\r\n"), &ns, &err), -1);
	assert_string_equal(err.msg, "NAMESPACE: personal entry 1 is not "
			    "(prefix delimiter)");
	assert_int_equal(imap_namespace_decode(P("* NAMESPACE NIL x NIL\r\n"),
					       &ns, &err), -1);
	assert_string_equal(err.msg, "NAMESPACE: other users' namespaces are "
			    "an atom");
}

/* ---- QUOTA ---- */

static void test_quota(void **state)
{
	struct imap_quota q;
	struct pn_error err;

	(void)state;
	assert_int_equal(imap_quota_decode(P("* QUOTA \"\" (STORAGE 10 512 "
		"MESSAGE 3 1000)\r\n"), &q, &err), 0);
	assert_string_equal(q.root, "");
	assert_int_equal(q.nres, 2);
	assert_string_equal(q.res[0].name, "STORAGE");
	assert_int_equal(q.res[0].usage, 10);
	assert_int_equal(q.res[0].limit, 512);
	assert_string_equal(q.res[1].name, "MESSAGE");
	assert_int_equal(q.res[1].limit, 1000);
	assert_int_equal(imap_quota_decode(P("* QUOTA INBOX ()\r\n"), &q,
					   &err), 0);
	assert_int_equal(q.nres, 0);
	assert_int_equal(imap_quota_decode(P("* QUOTA \"\" (STORAGE 10)\r\n"),
					   &q, &err), -1);
	assert_string_equal(err.msg, "QUOTA: 2 items, not name/usage/limit "
			    "triples");
	assert_int_equal(imap_quota_decode(P("* QUOTA \"\" (STORAGE x 1)\r\n"),
					   &q, &err), -1);
	assert_string_equal(err.msg, "QUOTA: resource 1 is not name usage "
			    "limit");
	assert_int_equal(imap_quota_decode(P("* QUOTAROOT INBOX \"\"\r\n"),
					   &q, &err), -1);
	assert_string_equal(err.msg, "QUOTA: not a QUOTA response");
}

/* ---- VANISHED ---- */

static void test_vanished(void **state)
{
	struct imap_seqset s = { 0 };
	struct pn_error err;
	bool earlier;

	(void)state;
	assert_int_equal(imap_vanished_decode(P("* VANISHED (EARLIER) "
		"300:310,405,411\r\n"), &earlier, &s, &err), 0);
	assert_true(earlier);
	assert_set(&s, "300:310,405,411");
	imap_seqset_clear(&s);
	assert_int_equal(imap_vanished_decode(P("* VANISHED 405,407,410,"
		"425\r\n"), &earlier, &s, &err), 0);
	assert_false(earlier);
	assert_set(&s, "405,407,410,425");
	assert_int_equal(imap_vanished_decode(P("* VANISHED (EARLIER)\r\n"),
					      &earlier, &s, &err), -1);
	assert_string_equal(err.msg, "VANISHED: sequence set is a list");
	assert_int_equal(imap_vanished_decode(P("* VANISHED (LATER) 1\r\n"),
					      &earlier, &s, &err), -1);
	assert_string_equal(err.msg, "VANISHED: expected [(EARLIER)] and a "
			    "UID set");
	assert_int_equal(imap_vanished_decode(P("* 3 EXPUNGE\r\n"), &earlier,
					      &s, &err), -1);
	assert_string_equal(err.msg, "VANISHED: not a VANISHED response");
	imap_seqset_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_codes_rfc5530),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_search),
		cmocka_unit_test(test_search_accumulates),
		cmocka_unit_test(test_sort_order),
		cmocka_unit_test(test_namespace),
		cmocka_unit_test(test_quota),
		cmocka_unit_test(test_vanished),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
