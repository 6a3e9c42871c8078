/* Tests for imap/parser.c: every response shape of RFC 3501 section 7,
 * RFC 9051 and the extensions, malformed input with exact errors, limits,
 * and a 100 MB literal streamed through a sink.  Each case is fed whole,
 * one byte at a time and in pseudo-random chunks; the results must be
 * identical. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <cmocka.h>

#include "../../imap/imap_p.h"
#include "../../lib/buf.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- a canonical text form of a response ---- */

static void dump_str(struct pn_buf *o, const char *s, size_t n)
{
	assert_int_equal(pn_buf_addc(o, '"'), 0);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			assert_int_equal(pn_buf_printf(o, "\\%c", c), 0);
		else if (c < 0x20 || c >= 0x7f)
			assert_int_equal(pn_buf_printf(o, "\\x%02x", c), 0);
		else
			assert_int_equal(pn_buf_addc(o, (char)c), 0);
	}
	assert_int_equal(pn_buf_addc(o, '"'), 0);
}

static void dump_args(struct pn_buf *o, const struct imap_arg *a, size_t n);

static void dump_arg(struct pn_buf *o, const struct imap_arg *a)
{
	switch (a->type) {
	case IMAP_ARG_NIL:
		assert_int_equal(pn_buf_adds(o, "NIL"), 0);
		break;
	case IMAP_ARG_ATOM:
		assert_int_equal(pn_buf_add(o, a->str, a->len), 0);
		break;
	case IMAP_ARG_STRING:
		if (a->literal)
			assert_int_equal(pn_buf_printf(o, "%s{%zu}",
					 a->binary ? "~" : "", a->len), 0);
		dump_str(o, a->str, a->len);
		break;
	case IMAP_ARG_LITERAL_SINK:
		assert_int_equal(pn_buf_printf(o, "<sink%s %llu>",
				 a->binary ? "~" : "",
				 (unsigned long long)a->literal_size), 0);
		break;
	case IMAP_ARG_LIST:
		assert_int_equal(pn_buf_addc(o, '('), 0);
		dump_args(o, a->list, a->nlist);
		assert_int_equal(pn_buf_addc(o, ')'), 0);
		break;
	}
}

static void dump_args(struct pn_buf *o, const struct imap_arg *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			assert_int_equal(pn_buf_addc(o, ' '), 0);
		dump_arg(o, &a[i]);
	}
}

static const char *const status_names[] = {
	"", " OK", " NO", " BAD", " PREAUTH", " BYE"
};

static void dump(struct pn_buf *o, const struct imap_response *r)
{
	if (r->kind == IMAP_RESP_TAGGED)
		assert_int_equal(pn_buf_adds(o, r->tag), 0);
	else
		assert_int_equal(pn_buf_adds(o, r->kind == IMAP_RESP_UNTAGGED ?
					     "*" : "+"), 0);
	assert_int_equal(pn_buf_adds(o, status_names[r->status]), 0);
	if (r->has_number)
		assert_int_equal(pn_buf_printf(o, " %u", r->number), 0);
	if (r->name)
		assert_int_equal(pn_buf_printf(o, " %s", r->name), 0);
	if (r->code) {
		assert_int_equal(pn_buf_printf(o, " [%s", r->code), 0);
		if (r->ncode_args)
			assert_int_equal(pn_buf_addc(o, ' '), 0);
		dump_args(o, r->code_args, r->ncode_args);
		assert_int_equal(pn_buf_addc(o, ']'), 0);
	}
	if (r->text) {
		assert_int_equal(pn_buf_adds(o, " text="), 0);
		dump_str(o, r->text, strlen(r->text));
	}
	if (r->nargs) {
		assert_int_equal(pn_buf_adds(o, " args: "), 0);
		dump_args(o, r->args, r->nargs);
	}
}

/* ---- feeding ---- */

enum mode { WHOLE, BYTEWISE, RANDOM };

struct sink_log {
	struct pn_buf log;
	uint64_t bytes;
};

static int sk_begin(void *ctx, uint32_t number, const char *item,
		    uint64_t size, bool binary)
{
	struct sink_log *s = ctx;

	return pn_buf_printf(&s->log, "[begin %u %s %llu%s]", number,
			     item ? item : "-", (unsigned long long)size,
			     binary ? " binary" : "");
}

static int sk_data(void *ctx, const char *d, size_t n)
{
	struct sink_log *s = ctx;

	s->bytes += n;
	if (s->log.len < 4096)
		return pn_buf_add(&s->log, d, n);
	return 0;
}

static int sk_end(void *ctx)
{
	struct sink_log *s = ctx;

	return pn_buf_adds(&s->log, "[end]");
}

/* Parse all of in; responses' dumps one per line, "raw|" lines for raw
 * when want_raw, then "error: ..." if one happened. */
static char *parse_all(const char *in, size_t len, enum mode m,
		       const struct imap_limits *lim, bool sink,
		       bool want_raw)
{
	struct imap_parser *p = imap_parser_new(lim);
	struct sink_log sl = { 0 };
	struct imap_literal_sink s = { &sl, sk_begin, sk_data, sk_end };
	struct pn_buf o = { 0 };
	uint32_t seed = (uint32_t)len * 2654435761u + 7;
	size_t pos = 0;

	assert_non_null(p);
	if (sink)
		imap_parser_set_sink(p, &s);
	while (pos < len) {
		size_t chunk = len - pos, used;
		const struct imap_response *r;
		struct pn_error err;
		enum imap_parse_result res;

		if (m == BYTEWISE)
			chunk = 1;
		if (m == RANDOM) {
			seed = seed * 1103515245u + 12345u;
			chunk = 1 + (seed >> 16) % 17;
			if (chunk > len - pos)
				chunk = len - pos;
		}
		res = imap_parser_feed(p, in + pos, chunk, &used, &r, &err);
		if (res == IMAP_PARSE_ERROR) {
			assert_int_equal(pn_buf_printf(&o, "error: %s",
						       err.msg), 0);
			break;
		}
		assert_true(used <= chunk);
		pos += used;
		if (res == IMAP_PARSE_MORE) {
			assert_int_equal(used, chunk);
			continue;
		}
		dump(&o, r);
		if (want_raw) {
			assert_int_equal(pn_buf_adds(&o, "\nraw|"), 0);
			assert_int_equal(pn_buf_add(&o, r->raw, r->raw_len),
					 0);
		}
		assert_int_equal(pn_buf_addc(&o, '\n'), 0);
	}
	if (sl.log.len)
		assert_int_equal(pn_buf_printf(&o, "sink: %s", sl.log.data),
				 0);
	pn_buf_free(&sl.log);
	imap_parser_free(&p);
	assert_null(p);
	return pn_buf_take(&o, NULL);
}

/* Whole, bytewise and random chunks must agree; returns the result. */
static char *parse3(const char *in, size_t len, const struct imap_limits *lim,
		    bool sink, bool want_raw)
{
	char *a = parse_all(in, len, WHOLE, lim, sink, want_raw);
	char *b = parse_all(in, len, BYTEWISE, lim, sink, want_raw);
	char *c = parse_all(in, len, RANDOM, lim, sink, want_raw);

	assert_string_equal(a, b);
	assert_string_equal(a, c);
	free(b);
	free(c);
	return a;
}

struct pcase {
	const char *in;
	const char *want;	/* dump lines, or "error: ..." */
	size_t len;		/* 0: strlen(in) */
};

static void run_cases(const struct pcase *c, size_t n,
		      const struct imap_limits *lim, bool sink)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = c[i].len ? c[i].len : strlen(c[i].in);
		char *got = parse3(c[i].in, len, lim, sink, false);

		if (strcmp(got, c[i].want) != 0)
			print_error("case %zu: %s\n", i, c[i].in);
		assert_string_equal(got, c[i].want);
		free(got);
	}
}

static char *repeat(const char *head, const char *unit, size_t n,
		    const char *tail);

/* ---- RFC 3501 section 7 and RFC 9051 ---- */

static const struct pcase rfc3501[] = {
	/* 7.1 status responses */
	{ "* OK IMAP4rev1 server ready\r\n",
	  "* OK text=\"IMAP4rev1 server ready\"\n", 0 },
	{ "A001 OK LOGIN completed\r\n",
	  "A001 OK text=\"LOGIN completed\"\n", 0 },
	{ "* NO Disk is 98% full, please delete unnecessary data\r\n",
	  "* NO text=\"Disk is 98% full, please delete unnecessary data\"\n", 0 },
	{ "* NO [ALERT] System shutdown in 10 minutes\r\n",
	  "* NO [ALERT] text=\"System shutdown in 10 minutes\"\n", 0 },
	{ "A222 NO COPY failed: disk is full\r\n",
	  "A222 NO text=\"COPY failed: disk is full\"\n", 0 },
	{ "* BAD Command line too long\r\n",
	  "* BAD text=\"Command line too long\"\n", 0 },
	{ "* PREAUTH IMAP4rev1 server logged in as Smith\r\n",
	  "* PREAUTH text=\"IMAP4rev1 server logged in as Smith\"\n", 0 },
	{ "* BYE Autologout; idle for too long\r\n",
	  "* BYE text=\"Autologout; idle for too long\"\n", 0 },
	{ "* OK [UNSEEN 17] Message 17 is the first unseen message\r\n",
	  "* OK [UNSEEN 17] text=\"Message 17 is the first unseen "
	  "message\"\n", 0 },
	{ "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n",
	  "* OK [UIDVALIDITY 3857529045] text=\"UIDs valid\"\n", 0 },
	{ "* OK [UIDNEXT 4392] Predicted next UID\r\n",
	  "* OK [UIDNEXT 4392] text=\"Predicted next UID\"\n", 0 },
	{ "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n",
	  "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] text=\"Limited\"\n", 0 },
	{ "A142 OK [READ-WRITE] SELECT completed\r\n",
	  "A142 OK [READ-WRITE] text=\"SELECT completed\"\n", 0 },
	{ "A932 OK [READ-ONLY] EXAMINE completed\r\n",
	  "A932 OK [READ-ONLY] text=\"EXAMINE completed\"\n", 0 },
	{ "A003 NO [TRYCREATE] No such mailbox\r\n",
	  "A003 NO [TRYCREATE] text=\"No such mailbox\"\n", 0 },
	{ "a1 NO [BADCHARSET (UTF-8 US-ASCII)] charset\r\n",
	  "a1 NO [BADCHARSET (UTF-8 US-ASCII)] text=\"charset\"\n", 0 },
	{ "* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE "
	  "AUTH=PLAIN] Dovecot ready.\r\n",
	  "* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE "
	  "AUTH=PLAIN] text=\"Dovecot ready.\"\n", 0 },
	/* 7.2 server and mailbox status */
	{ "* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI XPIG-LATIN\r\n",
	  "* CAPABILITY args: IMAP4rev1 STARTTLS AUTH=GSSAPI XPIG-LATIN\n", 0 },
	{ "* LIST (\\Noselect) \"/\" ~/Mail/foo\r\n",
	  "* LIST args: (\\Noselect) \"/\" ~/Mail/foo\n", 0 },
	{ "* LIST (\\Noselect) NIL \"\"\r\n",
	  "* LIST args: (\\Noselect) NIL \"\"\n", 0 },
	{ "* LSUB () \".\" #news.comp.mail.misc\r\n",
	  "* LSUB args: () \".\" #news.comp.mail.misc\n", 0 },
	{ "* LIST () \"/\" {4}\r\nblah\r\n",
	  "* LIST args: () \"/\" {4}\"blah\"\n", 0 },
	{ "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n",
	  "* STATUS args: blurdybloop (MESSAGES 231 UIDNEXT 44292)\n", 0 },
	{ "* SEARCH 2 3 6\r\n", "* SEARCH args: 2 3 6\n", 0 },
	{ "* SEARCH\r\n", "* SEARCH\n", 0 },
	{ "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
	  "* FLAGS args: (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\n", 0 },
	/* 7.3 mailbox size, 7.4 message status */
	{ "* 23 EXISTS\r\n", "* 23 EXISTS\n", 0 },
	{ "* 5 RECENT\r\n", "* 5 RECENT\n", 0 },
	{ "* 44 EXPUNGE\r\n", "* 44 EXPUNGE\n", 0 },
	{ "* 23 FETCH (FLAGS (\\Seen) RFC822.SIZE 44827)\r\n",
	  "* 23 FETCH args: (FLAGS (\\Seen) RFC822.SIZE 44827)\n", 0 },
	{ "* 12 FETCH (BODY[HEADER] {21}\r\nSubject: hi\r\nX: y\r\n\r\n)\r\n",
	  "* 12 FETCH args: (BODY[HEADER] {21}\"Subject: hi\\x0d\\x0aX: "
	  "y\\x0d\\x0a\\x0d\\x0a\")\n", 0 },
	{ "* 2 FETCH (BODY[HEADER.FIELDS (DATE FROM)]<0> {3}\r\nabc "
	  "BINARY.PEEK[1.2] NIL)\r\n",
	  "* 2 FETCH args: (BODY[HEADER.FIELDS (DATE FROM)]<0> {3}\"abc\" "
	  "BINARY.PEEK[1.2] NIL)\n", 0 },
	{ "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 "
	  "-0700\" RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 "
	  "-0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" ((\"Terry "
	  "Gray\" NIL \"gray\" \"cac.washington.edu\")) NIL NIL NIL NIL NIL "
	  "NIL \"<B27397-0100000@cac.washington.edu>\") BODY (\"TEXT\" "
	  "\"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 "
	  "92))\r\n",
	  "* 12 FETCH args: (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 "
	  "02:44:25 -0700\" RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 "
	  "02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" "
	  "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) NIL NIL "
	  "NIL NIL NIL NIL \"<B27397-0100000@cac.washington.edu>\") BODY "
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" "
	  "3028 92))\n", 0 },
	/* 7.5 continuation */
	{ "+ Ready for additional command text\r\n",
	  "+ text=\"Ready for additional command text\"\n", 0 },
	{ "+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0f"
	  "AQAgAAQEBAQ=\r\n",
	  "+ text=\"YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0"
	  "SR0fAQAgAAQEBAQ=\"\n", 0 },
	{ "+\r\n", "+ text=\"\"\n", 0 },
	{ "+ \r\n", "+ text=\"\"\n", 0 },
	{ "+ [ALERT] careful\r\n", "+ [ALERT] text=\"careful\"\n", 0 },
	/* RFC 9051 7.1 and 6.4.4 */
	{ "* OK [CLOSED] Previous mailbox closed.\r\n",
	  "* OK [CLOSED] text=\"Previous mailbox closed.\"\n", 0 },
	{ "a1 NO [NONEXISTENT] Unknown mailbox\r\n",
	  "a1 NO [NONEXISTENT] text=\"Unknown mailbox\"\n", 0 },
	{ "* 3 FETCH (UID 9 BINARY[1] ~{5}\r\na\0\r\nb)\r\n",
	  "* 3 FETCH args: (UID 9 BINARY[1] ~{5}\"a\\x00\\x0d\\x0ab\")\n",
	  sizeof("* 3 FETCH (UID 9 BINARY[1] ~{5}\r\na\0\r\nb)\r\n") - 1 },
	{ "* 3 FETCH (BINARY.SIZE[1] 1023)\r\n",
	  "* 3 FETCH args: (BINARY.SIZE[1] 1023)\n", 0 },
	{ "* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n",
	  "* LIST args: (\\HasNoChildren \\Sent) \"/\" Sent\n", 0 },
	/* tolerated: lower-case words, bare LF, doubled and trailing SP */
	{ "a2 ok done\n", "a2 OK text=\"done\"\n", 0 },
	{ "* 1  exists \r\n", "* 1 EXISTS\n", 0 },
	{ "* SEARCH 1  2 \r\n", "* SEARCH args: 1 2\n", 0 },
	{ "a1 OK\r\n", "a1 OK text=\"\"\n", 0 },
	{ "a1 OK [ALERT]\r\n", "a1 OK [ALERT] text=\"\"\n", 0 },
	{ "a1 OK [ALERT]x\r\n", "a1 OK [ALERT] text=\"x\"\n", 0 },
	{ "* 1 FETCH (X nil \"NIL\" Nil)\r\n",
	  "* 1 FETCH args: (X NIL \"NIL\" NIL)\n", 0 },
	{ "* X \"a\\\"b\\\\c\"\r\n", "* X args: \"a\\\"b\\\\c\"\n", 0 },
	{ "* X {0}\r\n\r\n", "* X args: {0}\"\"\n", 0 },
	{ "* X {3+}\r\nabc\r\n", "* X args: {3}\"abc\"\n", 0 },
	{ "* X ~x {3}\r\n(()\r\n", "* X args: ~x {3}\"(()\"\n", 0 },
	{ "* X ((((a))))\r\n", "* X args: ((((a))))\n", 0 },
	{ "* X a[b c]d(e) f\r\n", "* X args: a[b c]d (e) f\n", 0 },
	{ "* X ]\r\n", "* X args: ]\n", 0 },
	{ "* OK text with \"quote and {5}\r\n",
	  "* OK text=\"text with \\\"quote and {5}\"\n", 0 },
	/* one atom: '[' to the matching ']' */
	{ "* 1 FETCH (BODY[HEADER.FIELDS.NOT (X-A [X-B])] \"\")\r\n",
	  "* 1 FETCH args: (BODY[HEADER.FIELDS.NOT (X-A [X-B])] \"\")\n", 0 },
};

static void test_rfc3501(void **state)
{
	(void)state;
	run_cases(rfc3501, NELEM(rfc3501), NULL, false);
}

/* ---- extensions ---- */

static const struct pcase extensions[] = {
	/* RFC 4731 ESEARCH */
	{ "* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n",
	  "* ESEARCH args: (TAG \"A282\") MIN 2 COUNT 3\n", 0 },
	{ "* ESEARCH (TAG \"A283\") ALL 2,10:11\r\n",
	  "* ESEARCH args: (TAG \"A283\") ALL 2,10:11\n", 0 },
	{ "* ESEARCH (TAG \"A285\") UID MIN 7 MAX 3800\r\n",
	  "* ESEARCH args: (TAG \"A285\") UID MIN 7 MAX 3800\n", 0 },
	{ "* ESEARCH (TAG \"A286\") COUNT 15\r\n",
	  "* ESEARCH args: (TAG \"A286\") COUNT 15\n", 0 },
	{ "* ESEARCH (TAG \"a\") UID ALL 1:3 MODSEQ 917162500\r\n",
	  "* ESEARCH args: (TAG \"a\") UID ALL 1:3 MODSEQ 917162500\n", 0 },
	/* RFC 7162 CONDSTORE / QRESYNC */
	{ "* OK [HIGHESTMODSEQ 715194045007] Highest\r\n",
	  "* OK [HIGHESTMODSEQ 715194045007] text=\"Highest\"\n", 0 },
	{ "* OK [NOMODSEQ] Sorry, modsequences have not been enabled\r\n",
	  "* OK [NOMODSEQ] text=\"Sorry, modsequences have not been "
	  "enabled\"\n", 0 },
	{ "* 1 FETCH (UID 4 MODSEQ (65402) FLAGS (\\Seen))\r\n",
	  "* 1 FETCH args: (UID 4 MODSEQ (65402) FLAGS (\\Seen))\n", 0 },
	{ "d105 OK [MODIFIED 7,9] Conditional STORE failed\r\n",
	  "d105 OK [MODIFIED 7,9] text=\"Conditional STORE failed\"\n", 0 },
	{ "* VANISHED (EARLIER) 300:310,405,411\r\n",
	  "* VANISHED args: (EARLIER) 300:310,405,411\n", 0 },
	{ "* VANISHED 405,407,410,425\r\n",
	  "* VANISHED args: 405,407,410,425\n", 0 },
	/* RFC 9208 QUOTA */
	{ "* QUOTAROOT INBOX \"\"\r\n", "* QUOTAROOT args: INBOX \"\"\n", 0 },
	{ "* QUOTA \"\" (STORAGE 10 512)\r\n",
	  "* QUOTA args: \"\" (STORAGE 10 512)\n", 0 },
	/* RFC 2342 NAMESPACE */
	{ "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n",
	  "* NAMESPACE args: ((\"\" \"/\")) NIL NIL\n", 0 },
	{ "* NAMESPACE ((\"\" \"/\")(\"#mh/\" \"/\" \"X-PARAM\" "
	  "(\"FLAG1\" \"FLAG2\"))) ((\"~\" \"/\")) ((\"#shared/\" \"/\")"
	  "(\"#public/\" \"/\"))\r\n",
	  "* NAMESPACE args: ((\"\" \"/\") (\"#mh/\" \"/\" \"X-PARAM\" "
	  "(\"FLAG1\" \"FLAG2\"))) ((\"~\" \"/\")) ((\"#shared/\" \"/\") "
	  "(\"#public/\" \"/\"))\n", 0 },
	/* RFC 5258 LIST-EXTENDED, RFC 9051 OLDNAME */
	{ "* LIST () \"/\" \"Fruit/Peach\" (\"CHILDINFO\" "
	  "(\"SUBSCRIBED\"))\r\n",
	  "* LIST args: () \"/\" \"Fruit/Peach\" (\"CHILDINFO\" "
	  "(\"SUBSCRIBED\"))\n", 0 },
	{ "* LIST (\\Subscribed) \"/\" \"NewName\" (\"OLDNAME\" "
	  "(\"OldName\"))\r\n",
	  "* LIST args: (\\Subscribed) \"/\" \"NewName\" (\"OLDNAME\" "
	  "(\"OldName\"))\n", 0 },
	/* RFC 4315 UIDPLUS */
	{ "A003 OK [APPENDUID 38505 3955] APPEND completed\r\n",
	  "A003 OK [APPENDUID 38505 3955] text=\"APPEND completed\"\n", 0 },
	{ "A004 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n",
	  "A004 OK [COPYUID 38505 304,319:320 3956:3958] text=\"Done\"\n", 0 },
	/* RFC 5161 ENABLE, RFC 2971 ID, RFC 7889 APPENDLIMIT */
	{ "* ENABLED CONDSTORE QRESYNC\r\n",
	  "* ENABLED args: CONDSTORE QRESYNC\n", 0 },
	{ "* ID (\"name\" \"Cyrus\" \"version\" \"1.5\" \"os\" \"sunos\")\r\n",
	  "* ID args: (\"name\" \"Cyrus\" \"version\" \"1.5\" \"os\" "
	  "\"sunos\")\n", 0 },
	{ "* ID NIL\r\n", "* ID args: NIL\n", 0 },
	{ "a1 NO [TOOBIG] too big\r\n", "a1 NO [TOOBIG] text=\"too big\"\n", 0 },
	/* RFC 5530 */
	{ "a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
	  "a1 NO [AUTHENTICATIONFAILED] text=\"Authentication failed.\"\n", 0 },
	{ "a1 NO [OVERQUOTA] Sorry\r\n", "a1 NO [OVERQUOTA] text=\"Sorry\"\n", 0 },
	/* RFC 4314 ACL, RFC 5464 METADATA, RFC 5256 SORT/THREAD */
	{ "* ACL INBOX Fred rwipslxetad\r\n",
	  "* ACL args: INBOX Fred rwipslxetad\n", 0 },
	{ "* METADATA \"\" (/shared/comment \"Shared comment\")\r\n",
	  "* METADATA args: \"\" (/shared/comment \"Shared comment\")\n", 0 },
	{ "* SORT 2 84 882\r\n", "* SORT args: 2 84 882\n", 0 },
	{ "* THREAD (2)(3 6 (4 23)(44 7 96))\r\n",
	  "* THREAD args: (2) (3 6 (4 23) (44 7 96))\n", 0 },
};

static void test_extensions(void **state)
{
	(void)state;
	run_cases(extensions, NELEM(extensions), NULL, false);
}

/* ---- malformed input: exact errors ---- */

static const struct pcase malformed[] = {
	{ "\r\n", "error: response: empty line at byte 0", 0 },
	{ " a1 OK\r\n", "error: response: response starts with a space at "
	  "byte 0", 0 },
	{ "a1\r\n", "error: response: line ends after the tag at byte 2", 0 },
	{ "*\r\n", "error: response: line ends after the tag at byte 1", 0 },
	{ "* \r\n", "error: response: line ends after '*' at byte 2", 0 },
	{ "a1 \r\n", "error: response: line ends after 'a1' at byte 3", 0 },
	{ "a1 FOO bar\r\n", "error: response: tagged status 'FOO' is not OK, "
	  "NO or BAD at byte 6", 0 },
	{ "a1 BYE x\r\n", "error: response: tagged status 'BYE' is not OK, "
	  "NO or BAD at byte 6", 0 },
	{ "* 12\r\n", "error: response: number without a name at byte 4", 0 },
	{ "* 1 FETCH (FLAGS (\\Seen)\r\n",
	  "error: response: 1 unclosed list at end of line at byte 25", 0 },
	{ "* 1 FETCH ((\r\n",
	  "error: response: 2 unclosed lists at end of line at byte 13", 0 },
	{ "* 1 FETCH (FLAGS ()))\r\n",
	  "error: response: unbalanced ')' at byte 20", 0 },
	{ "* LIST () \"/\" \"foo\r\n",
	  "error: response: unterminated quoted string at byte 18", 0 },
	{ "* X \"a\\\r\n",
	  "error: response: unterminated quoted string at byte 7", 0 },
	{ "* OK [ALERT\r\n",
	  "error: response: unterminated response code at byte 11", 0 },
	{ "* OK [UIDNEXT 5\r\n",
	  "error: response: unterminated response code at byte 16", 0 },
	{ "* OK [] x\r\n", "error: response: empty response code at byte 6", 0 },
	{ "* OK [X (a]b)] x\r\n", "error: response: ']' inside a list in a "
	  "response code at byte 10", 0 },
	{ "* 1 FETCH (BODY[1 x)\r\n",
	  "error: response: unterminated '[' in atom at byte 20", 0 },
	{ "* 1 FETCH (BODY[] {5x}\r\n",
	  "error: response: bad literal size at byte 20", 0 },
	{ "* 1 FETCH (BODY[] {}\r\n",
	  "error: response: bad literal size at byte 19", 0 },
	{ "* 1 FETCH (BODY[] {+5}\r\n",
	  "error: response: bad literal size at byte 19", 0 },
	{ "* 1 FETCH (BODY[] {5++}\r\n",
	  "error: response: bad literal size at byte 21", 0 },
	{ "* 1 FETCH (BODY[] {5} \r\n",
	  "error: response: literal size not followed by CRLF at byte 21", 0 },
	{ "* 1 FETCH (BODY[] {5}\rx",
	  "error: response: CR not followed by LF at byte 22", 0 },
	{ "* 1 EXISTS\rX", "error: response: CR not followed by LF at "
	  "byte 11", 0 },
	{ "a1 OK done\r\r\n", "error: response: CR not followed by LF at "
	  "byte 11", 0 },
	{ "* 1 FETCH (BODY[] {99999999999999999999}\r\n",
	  "error: response: literal size does not fit in 64 bits at byte 38", 0 },
	{ "* 1 FETCH (BODY[] {5000000000}\r\n",
	  "error: response: literal of 5000000000 bytes exceeds the "
	  "4294967296-byte limit (max_literal) at byte 18", 0 },
	{ "* 1 FETCH (BODY[] {300000}\r\n",
	  "error: response: literal of 300000 bytes exceeds the 262144-byte "
	  "inline limit (max_inline_literal) and no literal sink is set at "
	  "byte 18", 0 },
	/* a complete first response, then the error in the second */
	{ "* 1 EXISTS\r\n* 2\r\n",
	  "* 1 EXISTS\nerror: response: number without a name at byte 3", 0 },
};

static void test_malformed(void **state)
{
	(void)state;
	run_cases(malformed, NELEM(malformed), NULL, false);
}

/* ---- streams, raw, used_out ---- */

static void test_stream_and_raw(void **state)
{
	static const char in[] =
		"* 1 EXISTS\r\n"
		"* 1 FETCH (BODY[] {5}\r\nHello FLAGS ())\r\n"
		"a1 OK [READ-WRITE] done\n"
		"+ go\r\n";
	char *got;

	(void)state;
	got = parse3(in, sizeof(in) - 1, NULL, false, true);
	assert_string_equal(got,
		"* 1 EXISTS\nraw|* 1 EXISTS\r\n\n"
		"* 1 FETCH args: (BODY[] {5}\"Hello\" FLAGS ())\n"
		"raw|* 1 FETCH (BODY[] {5}\r\nHello FLAGS ())\r\n\n"
		"a1 OK [READ-WRITE] text=\"done\"\nraw|a1 OK [READ-WRITE] "
		"done\n\n"
		"+ text=\"go\"\nraw|+ go\r\n\n");
	free(got);
}

static void test_used_out(void **state)
{
	static const char in[] = "* 2 EXISTS\r\n* 3 RECENT\r\n";
	struct imap_parser *p = imap_parser_new(NULL);
	const struct imap_response *r;
	struct pn_error err;
	size_t used;

	(void)state;
	assert_false(imap_parser_in_literal(p));
	assert_int_equal(imap_parser_feed(p, in, 5, &used, &r, &err),
			 IMAP_PARSE_MORE);
	assert_int_equal(used, 5);
	assert_null(r);
	assert_true(imap_parser_in_literal(p));
	assert_int_equal(imap_parser_feed(p, in + 5, sizeof(in) - 6, &used,
					  &r, &err), IMAP_PARSE_DONE);
	assert_int_equal(used, 7);
	assert_int_equal(r->number, 2);
	assert_string_equal(r->name, "EXISTS");
	assert_non_null(imap_response_alloc(r, 10));
	assert_false(imap_parser_in_literal(p));
	assert_int_equal(imap_parser_feed(p, in + 12, sizeof(in) - 13, &used,
					  &r, &err), IMAP_PARSE_DONE);
	assert_int_equal(used, 12);
	assert_string_equal(r->name, "RECENT");
	/* after an error the parser wants a reset */
	assert_int_equal(imap_parser_feed(p, "\r\n", 2, &used, &r, &err),
			 IMAP_PARSE_ERROR);
	assert_int_equal(imap_parser_feed(p, "* 1 X\r\n", 7, &used, &r, &err),
			 IMAP_PARSE_ERROR);
	assert_string_equal(err.msg, "response: parser must be reset after "
			    "an error");
	imap_parser_reset(p);
	assert_int_equal(imap_parser_feed(p, "* 1 X\r\n", 7, &used, &r, &err),
			 IMAP_PARSE_DONE);
	/* half a response, then reset: the next starts clean */
	assert_int_equal(imap_parser_feed(p, "* 1 FETCH (A {3}\r\na", 19,
					  &used, &r, &err), IMAP_PARSE_MORE);
	assert_true(imap_parser_in_literal(p));
	imap_parser_reset(p);
	assert_int_equal(imap_parser_feed(p, "a1 OK x\r\n", 9, &used, &r,
					  &err), IMAP_PARSE_DONE);
	assert_string_equal(r->tag, "a1");
	imap_parser_free(&p);
	imap_parser_free(&p);
}

/* ---- the sink ---- */

static const struct pcase sinks[] = {
	{ "* 7 FETCH (UID 3 BODY[]<0> {12}\r\nHello world! FLAGS ())\r\n",
	  "* 7 FETCH args: (UID 3 BODY[]<0> <sink 12> FLAGS ())\n"
	  "sink: [begin 7 BODY[]<0> 12]Hello world![end]", 0 },
	{ "* 7 FETCH (BINARY[2] ~{11}\r\nab\0cdefghij)\r\n",
	  "* 7 FETCH args: (BINARY[2] <sink~ 11>)\n"
	  "sink: [begin 7 BINARY[2] 11 binary]ab",
	  sizeof("* 7 FETCH (BINARY[2] ~{11}\r\nab\0cdefghij)\r\n") - 1 },
	/* not a FETCH value: no item */
	{ "* LIST () \"/\" {11}\r\nhello world\r\n",
	  "* LIST args: () \"/\" <sink 11>\nsink: [begin 0 - 11]hello "
	  "world[end]", 0 },
	{ "* 1 FETCH (X ({11}\r\nhello world))\r\n",
	  "* 1 FETCH args: (X (<sink 11>))\nsink: [begin 1 - 11]hello "
	  "world[end]", 0 },
	/* small literals stay inline */
	{ "* 1 FETCH (BODY[1] {10}\r\n0123456789)\r\n",
	  "* 1 FETCH args: (BODY[1] {10}\"0123456789\")\n", 0 },
};

static void test_sink(void **state)
{
	struct imap_limits lim = { .max_inline_literal = 10 };

	(void)state;
	run_cases(sinks, NELEM(sinks), &lim, true);
}

static int refuse_begin(void *ctx, uint32_t n, const char *item,
			uint64_t size, bool binary)
{
	(void)ctx, (void)n, (void)item, (void)size, (void)binary;
	return -1;
}

static void test_sink_refuses(void **state)
{
	struct imap_limits lim = { .max_inline_literal = 1 };
	struct imap_literal_sink s = { NULL, refuse_begin, NULL, NULL };
	struct imap_parser *p = imap_parser_new(&lim);
	const struct imap_response *r;
	struct pn_error err;
	size_t used;

	(void)state;
	imap_parser_set_sink(p, &s);
	assert_int_equal(imap_parser_feed(p, "* 1 FETCH (A {5}\r\nhello)\r\n",
					  26, &used, &r, &err),
			 IMAP_PARSE_ERROR);
	assert_string_equal(err.msg, "response: literal sink refused a "
			    "5-byte literal at byte 17");
	imap_parser_free(&p);
}

static int refuse_data(void *ctx, const char *d, size_t n)
{
	(void)ctx, (void)d, (void)n;
	return -1;
}

static int ok_data(void *ctx, const char *d, size_t n)
{
	(void)ctx, (void)d, (void)n;
	return 0;
}

static int refuse_end(void *ctx)
{
	(void)ctx;
	return -1;
}

static int ok_begin(void *ctx, uint32_t n, const char *item, uint64_t size,
		    bool binary)
{
	(void)ctx, (void)n, (void)item, (void)size, (void)binary;
	return 0;
}

/* A sink that fails mid-way stops the parse with an error naming where. */
static void test_sink_fails(void **state)
{
	static const char in[] = "* 1 FETCH (A {5}\r\nhello)\r\n";
	struct imap_limits lim = { .max_inline_literal = 1 };
	struct imap_literal_sink s1 = { NULL, ok_begin, refuse_data, NULL };
	struct imap_literal_sink s2 = { NULL, ok_begin, ok_data, refuse_end };
	const struct imap_response *r;
	struct imap_parser *p;
	struct pn_error err;
	size_t used;

	(void)state;
	p = imap_parser_new(&lim);
	imap_parser_set_sink(p, &s1);
	assert_int_equal(imap_parser_feed(p, in, sizeof(in) - 1, &used, &r,
					  &err), IMAP_PARSE_ERROR);
	assert_string_equal(err.msg, "response: literal sink refused the "
			    "data at byte 18");
	assert_int_equal(err.code, PN_EIO);
	imap_parser_reset(p);
	imap_parser_set_sink(p, &s2);
	assert_int_equal(imap_parser_feed(p, in, sizeof(in) - 1, &used, &r,
					  &err), IMAP_PARSE_ERROR);
	assert_string_equal(err.msg, "response: literal sink failed at the "
			    "end of a 5-byte literal at byte 23");
	/* without a sink again: large literals are refused */
	imap_parser_reset(p);
	imap_parser_set_sink(p, NULL);
	assert_int_equal(imap_parser_feed(p, in, sizeof(in) - 1, &used, &r,
					  &err), IMAP_PARSE_ERROR);
	assert_string_equal(err.msg, "response: literal of 5 bytes exceeds "
			    "the 1-byte inline limit (max_inline_literal) and "
			    "no literal sink is set at byte 13");
	assert_int_equal(err.code, PN_ELIMIT);
	imap_parser_free(&p);
}

/* Work is linear in the input: a full 1 MiB line of small items fed
 * one byte at a time, and 100000 nested-and-closed lists. */
static void test_linear(void **state)
{
	char *a = repeat("* SEARCH", " 4294967295", 95000, "\r\n");
	char *b = repeat("* X ", "(a)", 99000, "\r\n");
	struct imap_parser *p = imap_parser_new(NULL);
	const struct imap_response *r;
	struct pn_error err;
	clock_t t0 = clock();
	size_t used, i;

	(void)state;
	for (i = 0; a[i]; i++) {
		enum imap_parse_result res =
			imap_parser_feed(p, a + i, 1, &used, &r, &err);

		assert_int_equal(res, a[i + 1] ? IMAP_PARSE_MORE :
				 IMAP_PARSE_DONE);
	}
	assert_int_equal(r->nargs, 95000);
	assert_int_equal(imap_parser_feed(p, b, strlen(b), &used, &r, &err),
			 IMAP_PARSE_DONE);
	assert_int_equal(r->nargs, 99000);
	assert_int_equal(r->args[98999].nlist, 1);
	/* generous: sanitizers are slow, quadratic would take minutes */
	assert_true(clock() - t0 < 20 * CLOCKS_PER_SEC);
	imap_parser_free(&p);
	free(a);
	free(b);
}

static long rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* 100 MB through the sink in 64 KiB reads: memory stays flat. */
static void test_sink_100mb(void **state)
{
	const uint64_t size = 100u << 20;
	struct sink_log sl = { 0 };
	struct imap_literal_sink s = { &sl, sk_begin, sk_data, sk_end };
	struct imap_parser *p = imap_parser_new(NULL);
	const struct imap_response *r = NULL;
	static char chunk[65536];
	char head[64];
	struct pn_error err;
	uint64_t left = size;
	long before;
	size_t used;

	(void)state;
	memset(chunk, 'x', sizeof(chunk));
	imap_parser_set_sink(p, &s);
	snprintf(head, sizeof(head), "* 9 FETCH (BODY[] {%llu}\r\n",
		 (unsigned long long)size);
	before = rss_kb();
	assert_int_equal(imap_parser_feed(p, head, strlen(head), &used, &r,
					  &err), IMAP_PARSE_MORE);
	while (left) {
		size_t n = left < sizeof(chunk) ? (size_t)left : sizeof(chunk);

		assert_int_equal(imap_parser_feed(p, chunk, n, &used, &r,
						  &err), IMAP_PARSE_MORE);
		assert_int_equal(used, n);
		assert_true(imap_parser_in_literal(p));
		left -= n;
	}
	assert_int_equal(imap_parser_feed(p, ")\r\n", 3, &used, &r, &err),
			 IMAP_PARSE_DONE);
	assert_int_equal(sl.bytes, size);
	assert_int_equal(r->args[0].list[1].type, IMAP_ARG_LITERAL_SINK);
	assert_int_equal(r->args[0].list[1].literal_size, size);
	/* raw leaves the contents out */
	assert_int_equal(r->raw_len, strlen(head) + 3);
	assert_true(rss_kb() - before < 16 * 1024);
	pn_buf_free(&sl.log);
	imap_parser_free(&p);
}

/* ---- limits ---- */

static char *repeat(const char *head, const char *unit, size_t n,
		    const char *tail)
{
	struct pn_buf b = { 0 };

	assert_int_equal(pn_buf_adds(&b, head), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(pn_buf_adds(&b, unit), 0);
	assert_int_equal(pn_buf_adds(&b, tail), 0);
	return pn_buf_take(&b, NULL);
}

static void expect(const char *in, const struct imap_limits *lim,
		   const char *want)
{
	char *got = parse3(in, strlen(in), lim, false, false);

	assert_string_equal(got, want);
	free(got);
}

static void test_limits(void **state)
{
	struct imap_limits lim = { .max_line = 20 };
	char *in;

	(void)state;
	/* depth: 64 lists are fine, the 65th is not */
	in = repeat("* X ", "(", 64, "");
	free(in);
	in = repeat("* X ", "(", 65, "\r\n");
	expect(in, NULL, "error: response: list nesting deeper than 64 "
	       "(max_depth) at byte 68");
	free(in);
	/* the example of the brief: deep nesting at byte 140 */
	in = repeat("* 1 FETCH (BODYSTRUCTURE ", "(", 116, "\r\n");
	expect(in, NULL, "error: response: list nesting deeper than 64 "
	       "(max_depth) at byte 88");
	free(in);
	/* max_line counts the line, not literal contents */
	expect("* 1 FETCH (A B C D E F)\r\n", &lim,
	       "error: response: line longer than 20 bytes (max_line) "
	       "at byte 20");
	expect("* X {30}\r\n012345678901234567890123456789\r\n", &lim,
	       "* X args: {30}\"012345678901234567890123456789\"\n");
	lim = (struct imap_limits){ .max_items = 3 };
	expect("* X a b c\r\n", &lim, "* X args: a b c\n");
	expect("* X (a b) c\r\n", &lim,
	       "error: response: more than 3 arguments (max_items) at "
	       "byte 11");
	lim = (struct imap_limits){ .max_list = 2 };
	expect("* X (a b) (c d)\r\n", &lim, "* X args: (a b) (c d)\n");
	expect("* X (a b c)\r\n", &lim,
	       "error: response: list of more than 2 items (max_list) at "
	       "byte 10");
	lim = (struct imap_limits){ .max_literal = 4, .max_depth = 1 };
	expect("* X ({4}\r\nabcd)\r\n", &lim, "* X args: ({4}\"abcd\")\n");
	expect("* X ({5}\r\nabcde)\r\n", &lim,
	       "error: response: literal of 5 bytes exceeds the 4-byte "
	       "limit (max_literal) at byte 5");
	expect("* X (())\r\n", &lim, "error: response: list nesting deeper "
	       "than 1 (max_depth) at byte 5");
}

static void test_limits_resolve(void **state)
{
	struct imap_limits in = { .max_depth = 3 }, out;

	(void)state;
	imap_limits_resolve(&in, &out);
	assert_int_equal(out.max_depth, 3);
	assert_int_equal(out.max_line, IMAP_DEFAULT_MAX_LINE);
	assert_int_equal(out.max_literal, IMAP_DEFAULT_MAX_LITERAL);
	assert_int_equal(out.max_inline_literal,
			 IMAP_DEFAULT_MAX_INLINE_LITERAL);
	assert_int_equal(out.max_items, IMAP_DEFAULT_MAX_ITEMS);
	assert_int_equal(out.max_list, IMAP_DEFAULT_MAX_LIST);
	imap_limits_resolve(NULL, &out);
	assert_int_equal(out.max_depth, IMAP_DEFAULT_MAX_DEPTH);
}

/* ---- the arg helpers (args.c) ---- */

static void test_args(void **state)
{
	struct imap_arg a = { .type = IMAP_ARG_ATOM, .str = "4294967295",
			      .len = 10 };
	struct imap_arg s = { .type = IMAP_ARG_STRING, .str = "12", .len = 2 };
	struct imap_arg nil = { .type = IMAP_ARG_NIL, .str = "NIL", .len = 3 };
	uint32_t u;
	uint64_t v;

	(void)state;
	assert_true(imap_arg_u32(&a, &u));
	assert_int_equal(u, 4294967295u);
	a.str = "4294967296";
	assert_false(imap_arg_u32(&a, &u));
	assert_true(imap_arg_u64(&a, &v));
	assert_int_equal(v, 4294967296ull);
	a.str = "18446744073709551615";
	a.len = 20;
	assert_true(imap_arg_u64(&a, &v));
	a.str = "18446744073709551616";
	assert_false(imap_arg_u64(&a, &v));
	a.str = "-1";
	a.len = 2;
	assert_false(imap_arg_u64(&a, &v));
	a.len = 0;
	assert_false(imap_arg_u64(&a, &v));
	assert_false(imap_arg_u32(&s, &u));	/* strings are not numbers */
	assert_false(imap_arg_u32(NULL, &u));
	a.str = "Seen";
	a.len = 4;
	assert_true(imap_arg_is_atom(&a, "SEEN"));
	assert_false(imap_arg_is_atom(&a, "SEE"));
	assert_false(imap_arg_is_atom(&s, "12"));
	assert_null(imap_arg_nstring(&nil));
	assert_string_equal(imap_arg_nstring(&s), "12");
	assert_string_equal(imap_arg_nstring(&a), "Seen");
	assert_null(imap_arg_nstring(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3501),
		cmocka_unit_test(test_extensions),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_stream_and_raw),
		cmocka_unit_test(test_used_out),
		cmocka_unit_test(test_sink),
		cmocka_unit_test(test_sink_refuses),
		cmocka_unit_test(test_sink_fails),
		cmocka_unit_test(test_sink_100mb),
		cmocka_unit_test(test_linear),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_limits_resolve),
		cmocka_unit_test(test_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
