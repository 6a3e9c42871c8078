/* Tests for store/search.c: IMAP SEARCH programs compiled and matched
 * against three synthetic messages (folded fields, RFC 2047 words, two
 * To: fields, Date: in other zones, a body that looks like a header),
 * with the exact error of every invalid program in the same table; that
 * header and text are fetched lazily and at most once per match; '*' in
 * sets; calendar days in the message's own zone; and the limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "../../store/store_p.h"
#include "../../lib/date.h"
#include "../../lib/error.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct msgdef {
	uint32_t uid, seq;
	const char *const *flags;
	size_t nflags;
	bool recent;
	const char *internaldate; /* in the message's own zone */
	uint64_t size;
	const char *hdr, *body;
};

static const char hdr1[] =
    "From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <jorg@example.org>\r\n"
    "To: alice@example.com,\r\n"
    " bob@example.com\r\n"
    "Subject: =?utf-8?q?caf=C3=A9?=\r\n"
    " =?utf-8?q?_au_lait?= meeting\r\n"
    "To: carol@example.net\r\n"
    "Cc: dave@example.com\r\n"
    "Date: Sun, 1 Nov 2026 23:30:00 -0800\r\n"
    "X-Mailer: postern\r\n"
    "X-Empty:\r\n"
    "X-Quote: she said \"hi\" \\back\r\n"
    "\r\n";
static const char body1[] = "Body line one.\r\nThe secret word is Xyzzy.\r\n";

/* LF line ends; the Date: is 23:00 UTC on 1 Nov. */
static const char hdr2[] = "From: \"Bob\" <bob@example.com>\n"
			   "To: team@example.org\n"
			   "Bcc: secret@example.org\n"
			   "Subject: =?iso-8859-1?q?=C9T=C9?= plans\n"
			   "X-Spaced : value\n"
			   "Date: Mon, 02 Nov 2026 08:00:00 +0900\n"
			   "\n";
static const char body2[] = "Subject: fake\nhello\nXYZZY at the end\n";

/* No Date:, no blank line, no body. */
static const char hdr3[] = "Subject: plain\n";

static const char *const flags1[] = {"\\Seen", "\\Answered", "$Forwarded"};
static const char *const flags2[] = {"\\Flagged", "\\Draft", "\\Deleted"};

/* Message 1 is 23:30 -0800 on 1 Nov, 07:30 UTC on 2 Nov; message 2 is
 * 00:15 +0100 on 2 Nov, 23:15 UTC on 1 Nov. */
static const struct msgdef msgs[] = {
    {1, 1, flags1, NELEM(flags1), false, "01-Nov-2026 23:30:00 -0800", 1000,
     hdr1, body1},
    {5, 2, flags2, NELEM(flags2), true, "02-Nov-2026 00:15:00 +0100", 5000,
     hdr2, body2},
    {9, 3, NULL, 0, true, "31-Oct-2026 12:00:00 +0000", 20, hdr3, ""},
};

#define MAX_SEQ 3
#define MAX_UID 9

/* expect: one character per message ('1' matches), or "!" and the exact
 * error. */
static const struct {
	const char *prog;
	const char *expect;
} cases[] = {
    {"ALL", "111"},
    {"all", "111"},
    {"SEEN", "100"},
    {"UNSEEN", "011"},
    {"ANSWERED", "100"},
    {"UNANSWERED", "011"},
    {"DELETED", "010"},
    {"UNDELETED", "101"},
    {"DRAFT", "010"},
    {"UNDRAFT", "101"},
    {"FLAGGED", "010"},
    {"UNFLAGGED", "101"},
    {"NEW", "011"},
    {"OLD", "100"},
    {"RECENT", "011"},
    {"KEYWORD $forwarded", "100"},
    {"KEYWORD \"$Forwarded\"", "100"},
    {"UNKEYWORD $FORWARDED", "011"},
    {"KEYWORD nope", "000"},
    /* decoded, unfolded, every field of the name */
    {"FROM jörg", "100"},
    {"FROM JÖRG", "100"},
    {"FROM \"jörg müller\"", "100"},
    {"FROM utf-8", "000"},
    {"FROM bob", "010"},
    {"from BOB@EXAMPLE.COM", "010"},
    {"TO bob@example.com", "100"},
    {"TO \"example.com, bob\"", "100"},
    {"TO carol", "100"},
    {"TO team", "010"},
    {"CC dave", "100"},
    {"CC \"\"", "100"},
    {"BCC secret", "010"},
    {"SUBJECT \"café au lait meeting\"", "100"},
    {"SUBJECT CAFÉ", "100"},
    {"SUBJECT été", "010"},
    {"SUBJECT plain", "001"},
    {"SUBJECT fake", "000"},
    {"SUBJECT \"\"", "111"},
    {"HEADER X-Mailer postern", "100"},
    {"HEADER x-mailer \"\"", "100"},
    {"HEADER X-Empty \"\"", "100"},
    {"HEADER X-Empty x", "000"},
    {"HEADER X-Nope \"\"", "000"},
    {"HEADER X-Spaced value", "010"},
    {"HEADER X-Quote \"said \\\"hi\\\" \\\\back\"", "100"},
    {"HEADER \"Subject\" plain", "001"},
    /* BODY is after the blank line, TEXT is everything */
    {"BODY fake", "010"},
    {"BODY xyzzy", "110"},
    {"TEXT XYZZY", "110"},
    {"BODY plain", "000"},
    {"TEXT plain", "001"},
    {"TEXT jorg@", "100"},
    {"BODY jorg@", "000"},
    {"BODY \"\"", "111"},
    {"TEXT \"\"", "111"},
    /* internal dates: the message's own zone decides the day */
    {"ON 1-Nov-2026", "100"},
    {"ON 01-Nov-2026", "100"},
    {"ON \"1-Nov-2026\"", "100"},
    {"on 1-nov-2026", "100"},
    {"ON 2-Nov-2026", "010"},
    {"ON 31-Oct-2026", "001"},
    {"SINCE 1-Nov-2026", "110"},
    {"SINCE 2-Nov-2026", "010"},
    {"SINCE 3-Nov-2026", "000"},
    {"BEFORE 1-Nov-2026", "001"},
    {"BEFORE 2-Nov-2026", "101"},
    {"BEFORE 3-Nov-2026", "111"},
    {"SINCE 29-Feb-2028", "000"},
    {"SINCE 1-Nov-2026 BEFORE 2-Nov-2026", "100"},
    /* Date: in its own zone (message 2 is 23:00 UTC on 1 Nov);
     * no Date: matches no SENT key */
    {"SENTON 1-Nov-2026", "100"},
    {"SENTON 2-Nov-2026", "010"},
    {"SENTBEFORE 2-Nov-2026", "100"},
    {"SENTSINCE 2-Nov-2026", "010"},
    {"SENTSINCE 1-Jan-1970", "110"},
    {"NOT SENTON 1-Nov-2026", "011"},
    {"LARGER 1000", "010"},
    {"LARGER 999", "110"},
    {"SMALLER 1000", "001"},
    {"SMALLER 0", "000"},
    {"LARGER 18446744073709551615", "000"},
    /* sets; '*' is the largest number in use */
    {"1", "100"},
    {"2:*", "011"},
    {"*", "001"},
    {"1,3", "101"},
    {"4:*", "001"},
    {"UID 5", "010"},
    {"UID 1,5", "110"},
    {"UID *", "001"},
    {"UID 10:*", "001"},
    {"UID 6:8", "000"},
    {"UID 1:4", "100"},
    {"UID 2,10:*", "001"},
    {"uid 1:*", "111"},
    /* logic */
    {"NOT SEEN", "011"},
    {"NOT NOT SEEN", "100"},
    {"OR SEEN DRAFT", "110"},
    {"or seen (draft flagged)", "110"},
    {"OR NOT SEEN NOT RECENT", "111"},
    {"NOT (SEEN OR DRAFT RECENT)", "111"},
    {"OR (SEEN UNSEEN) (DRAFT UNDRAFT)", "000"},
    {"RECENT UNSEEN FROM bob", "010"},
    {"OR (FROM bob SUBJECT été) UID 1", "110"},
    {"OR OR 1 2 3", "111"},
    {"((((SEEN))))", "100"},
    {"(SEEN)(ANSWERED)", "100"},
    {"  SEEN   ANSWERED ", "100"},
    {"SEEN\tANSWERED", "100"},
    {"NOT (FROM jörg BODY xyzzy)", "011"},
    {"CHARSET UTF-8 FROM jörg", "100"},
    {"charset us-ascii SEEN", "100"},
    {"CHARSET \"utf-8\" SEEN", "100"},
    /* invalid programs */
    {"", "!SEARCH: missing search key at byte 0"},
    {"   ", "!SEARCH: missing search key at byte 3"},
    {"CHARSET UTF-8", "!SEARCH: missing search key at byte 13"},
    {"FORM x", "!SEARCH: unknown key 'FORM' at byte 0"},
    {"SEEN BOGUS", "!SEARCH: unknown key 'BOGUS' at byte 5"},
    {"FROM", "!SEARCH: FROM needs a string at byte 4"},
    {"from", "!SEARCH: FROM needs a string at byte 4"},
    {"(FROM) SEEN", "!SEARCH: FROM needs a string at byte 5"},
    {"KEYWORD", "!SEARCH: KEYWORD needs a string at byte 7"},
    {"HEADER", "!SEARCH: HEADER needs a field name at byte 6"},
    {"HEADER X-Foo", "!SEARCH: HEADER needs a string at byte 12"},
    {"HEADER \"a b\" x", "!SEARCH: bad field name 'a b' at byte 7"},
    {"HEADER a:b x", "!SEARCH: bad field name 'a:b' at byte 7"},
    {"(SEEN DRAFT))", "!SEARCH: unbalanced ')' at byte 12"},
    {")", "!SEARCH: unbalanced ')' at byte 0"},
    {"SEEN (DRAFT", "!SEARCH: unbalanced '(' at byte 5"},
    {"()", "!SEARCH: empty list at byte 0"},
    {"SINCE 32-Foo-2026", "!SEARCH: bad date '32-Foo-2026' at byte 6"},
    {"SINCE 32-Nov-2026", "!SEARCH: bad date '32-Nov-2026' at byte 6"},
    {"SINCE 0-Nov-2026", "!SEARCH: bad date '0-Nov-2026' at byte 6"},
    {"SINCE 29-Feb-2026", "!SEARCH: bad date '29-Feb-2026' at byte 6"},
    {"SINCE 31-Apr-2026", "!SEARCH: bad date '31-Apr-2026' at byte 6"},
    {"SINCE 1-Nov-26", "!SEARCH: bad date '1-Nov-26' at byte 6"},
    {"SINCE 001-Nov-2026", "!SEARCH: bad date '001-Nov-2026' at byte 6"},
    {"SINCE 1-November-2026", "!SEARCH: bad date '1-November-2026' at byte 6"},
    {"SINCE 1-Nov-2026x", "!SEARCH: bad date '1-Nov-2026x' at byte 6"},
    {"SINCE 2026-11-01", "!SEARCH: bad date '2026-11-01' at byte 6"},
    {"SINCE \"1-Nov-2026 10:00:00 +0000\"",
     "!SEARCH: bad date '1-Nov-2026 10:00:00 +0000' at byte 6"},
    {"SINCE", "!SEARCH: SINCE needs a date at byte 5"},
    {"SENTON (", "!SEARCH: SENTON needs a date at byte 7"},
    {"LARGER", "!SEARCH: LARGER needs a number at byte 6"},
    {"LARGER x", "!SEARCH: bad number 'x' at byte 7"},
    {"LARGER -1", "!SEARCH: bad number '-1' at byte 7"},
    {"SMALLER 18446744073709551616",
     "!SEARCH: bad number '18446744073709551616' at byte 8"},
    {"UID", "!SEARCH: UID needs a sequence set at byte 3"},
    {"UID 1,,2", "!SEARCH: bad sequence set '1,,2' at byte 4"},
    {"UID x", "!SEARCH: bad sequence set 'x' at byte 4"},
    {"0", "!SEARCH: bad sequence set '0' at byte 0"},
    {"SEEN 1x", "!SEARCH: bad sequence set '1x' at byte 5"},
    {"NOT", "!SEARCH: NOT needs a search key at byte 3"},
    {"(NOT)", "!SEARCH: NOT needs a search key at byte 4"},
    {"OR", "!SEARCH: OR needs a search key at byte 2"},
    {"OR SEEN", "!SEARCH: OR needs a search key at byte 7"},
    {"FROM {3}", "!SEARCH: literals are not supported here at byte 5"},
    {"FROM \"abc", "!SEARCH: unterminated quoted string at byte 5"},
    {"FROM \"abc\\", "!SEARCH: unterminated quoted string at byte 5"},
    {"FROM \"a\\bc\"", "!SEARCH: bad escape '\\b' in quoted string at byte 7"},
    {"FROM \"a\tb\"", "000"},
    {"HEADER X-Quote \"\x01\"", "000"},
    {"FROM \"a\rb\"", "!SEARCH: unexpected byte 0x0d at byte 7"},
    {"FROM \"a\\\nb\"", "!SEARCH: bad escape in quoted string at byte 7"},
    {"SEEN\x01", "!SEARCH: unexpected byte 0x01 at byte 4"},
    {"SEEN\r\n", "!SEARCH: unexpected byte 0x0d at byte 4"},
    {"\"SEEN\"",
     "!SEARCH: expected a search key, not a quoted string at byte 0"},
    {"CHARSET", "!SEARCH: CHARSET needs a string at byte 7"},
    {"CHARSET ISO-8859-1 SEEN",
     "!SEARCH: unsupported charset 'ISO-8859-1' at byte 8"},
    {"SEEN CHARSET UTF-8", "!SEARCH: CHARSET must come first at byte 5"},
    {"FROMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
     "!SEARCH: unknown key 'FROMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
     "...' at byte 0"},
};

/* ---- a fake back end ---------------------------------------------------- */

struct fake {
	const struct msgdef *def;
	char *text;
	size_t text_len;
	int header_calls, text_calls;
	bool forbid;	      /* fail the test if a file is opened */
	const char *fail_msg; /* make header and text fail */
	struct store_search_msg m;
};

static int header_cb(void *ctx, const char **data, size_t *len,
		     struct pn_error *err)
{
	struct fake *f = ctx;

	if (f->forbid)
		fail_msg("header read for a program that needs none");
	f->header_calls++;
	if (f->fail_msg)
		return pn_error_set(err, PN_EIO, "%s", f->fail_msg);
	*data = f->def->hdr;
	*len = strlen(f->def->hdr);
	return 0;
}

static int text_cb(void *ctx, const char **data, size_t *len,
		   struct pn_error *err)
{
	struct fake *f = ctx;

	if (f->forbid)
		fail_msg("text read for a program that needs none");
	f->text_calls++;
	if (f->fail_msg)
		return pn_error_set(err, PN_EIO, "%s", f->fail_msg);
	*data = f->text;
	*len = f->text_len;
	return 0;
}

static void fake_init(struct fake *f, const struct msgdef *def)
{
	size_t hl = strlen(def->hdr), bl = strlen(def->body);

	memset(f, 0, sizeof(*f));
	f->def = def;
	f->text = malloc(hl + bl + 1);
	assert_non_null(f->text);
	memcpy(f->text, def->hdr, hl);
	memcpy(f->text + hl, def->body, bl + 1);
	f->text_len = hl + bl;
	f->m.uid = def->uid;
	f->m.seq = def->seq;
	f->m.flags = def->flags;
	f->m.nflags = def->nflags;
	f->m.recent = def->recent;
	assert_int_equal(pn_internaldate_parse(
			     def->internaldate, strlen(def->internaldate),
			     &f->m.internaldate, &f->m.internaldate_tz, NULL),
			 0);
	f->m.size = def->size;
	f->m.ctx = f;
	f->m.header = header_cb;
	f->m.text = text_cb;
}

static void fake_free(struct fake *f)
{
	free(f->text);
	f->text = NULL;
}

static struct store_search_prog *compile_ok(const char *prog)
{
	struct store_search_prog *p = NULL;
	struct pn_error err;

	if (store_search_compile(prog, &p, &err) < 0)
		fail_msg("compile \"%s\": %s", prog, err.msg);
	return p;
}

static int match(const struct store_search_prog *p, struct fake *f)
{
	struct pn_error err;
	int r;

	f->header_calls = f->text_calls = 0;
	r = store_search_match(p, &f->m, MAX_SEQ, MAX_UID, &err);
	if (r < 0)
		fail_msg("match: %s", err.msg);
	return r;
}

/* ---- tests -------------------------------------------------------------- */

/* Every case against every message; along the way, no match opens what
 * the program does not need, nor anything twice. */
static void test_table(void **state)
{
	struct fake f[NELEM(msgs)];
	size_t i, j;

	(void)state;
	for (j = 0; j < NELEM(msgs); j++)
		fake_init(&f[j], &msgs[j]);
	for (i = 0; i < NELEM(cases); i++) {
		struct store_search_prog *p = NULL;
		struct pn_error err;
		int rc = store_search_compile(cases[i].prog, &p, &err);
		char got[NELEM(msgs) + 1];

		if (cases[i].expect[0] == '!') {
			if (rc == 0)
				fail_msg("\"%s\" compiled", cases[i].prog);
			assert_null(p);
			assert_string_equal(err.msg, cases[i].expect + 1);
			continue;
		}
		if (rc < 0)
			fail_msg("\"%s\": %s", cases[i].prog, err.msg);
		for (j = 0; j < NELEM(msgs); j++) {
			got[j] = match(p, &f[j]) ? '1' : '0';
			assert_true(f[j].header_calls <= 1);
			assert_true(f[j].text_calls <= 1);
			if (!store_search_needs_header(p))
				assert_int_equal(f[j].header_calls, 0);
			if (!store_search_needs_text(p))
				assert_int_equal(f[j].text_calls, 0);
		}
		got[j] = '\0';
		if (strcmp(got, cases[i].expect) != 0)
			fail_msg("\"%s\": got %s, want %s", cases[i].prog, got,
				 cases[i].expect);
		store_search_free(&p);
		assert_null(p);
	}
	for (j = 0; j < NELEM(msgs); j++)
		fake_free(&f[j]);
}

static void test_needs(void **state)
{
	static const struct {
		const char *prog;
		bool header, text;
	} needs[] = {
	    {"SEEN", false, false},
	    {"OR SEEN (NOT FLAGGED UID 1:*)", false, false},
	    {"1:* ON 1-Nov-2026 LARGER 3 NEW OLD KEYWORD x", false, false},
	    {"FROM x", true, false},
	    {"NOT (SEEN OR DRAFT SENTON 1-Nov-2026)", true, false},
	    {"HEADER X-A \"\"", true, false},
	    {"BODY x", false, true},
	    {"NOT TEXT x", false, true},
	    {"OR SUBJECT x BODY y", true, true},
	};

	(void)state;
	for (size_t i = 0; i < NELEM(needs); i++) {
		struct store_search_prog *p = compile_ok(needs[i].prog);

		assert_int_equal(store_search_needs_header(p), needs[i].header);
		assert_int_equal(store_search_needs_text(p), needs[i].text);
		store_search_free(&p);
	}
	assert_false(store_search_needs_header(NULL));
	assert_false(store_search_needs_text(NULL));
}

/* A flag-only program never opens a file, whatever the message. */
static void test_flags_only(void **state)
{
	static const char *const progs[] = {
	    "SEEN",
	    "OR SEEN (NOT FLAGGED UID 1:*)",
	    "1:* ON 1-Nov-2026 LARGER 3 NEW",
	    "NOT (OLD OR 2 KEYWORD x)",
	};
	struct fake f;

	(void)state;
	for (size_t j = 0; j < NELEM(msgs); j++) {
		fake_init(&f, &msgs[j]);
		f.forbid = true;
		for (size_t i = 0; i < NELEM(progs); i++) {
			struct store_search_prog *p = compile_ok(progs[i]);

			assert_true(match(p, &f) >= 0);
			store_search_free(&p);
		}
		fake_free(&f);
	}
}

/* Many header keys read the header once per match, and a new match
 * reads it again (nothing is cached across messages). */
static void test_header_once(void **state)
{
	struct store_search_prog *p =
	    compile_ok("FROM \"\" TO carol TO alice SUBJECT café CC \"\" "
		       "(SENTSINCE 1-Jan-1970 SENTBEFORE 1-Jan-2100) "
		       "OR HEADER X-Nope x HEADER Date \"\" NOT BCC x");
	struct fake f;

	(void)state;
	fake_init(&f, &msgs[0]);
	assert_int_equal(match(p, &f), 1);
	assert_int_equal(f.header_calls, 1);
	assert_int_equal(f.text_calls, 0);
	assert_int_equal(match(p, &f), 1);
	assert_int_equal(f.header_calls, 1);
	store_search_free(&p);

	p = compile_ok("BODY xyzzy TEXT secret BODY \"\" NOT TEXT nomatch");
	assert_int_equal(match(p, &f), 1);
	assert_int_equal(f.header_calls, 0);
	assert_int_equal(f.text_calls, 1);
	store_search_free(&p);
	fake_free(&f);
}

/* Cheap keys run first whatever their place: a failing flag spares the
 * file, a failing header key spares the text. */
static void test_cheap_first(void **state)
{
	struct store_search_prog *p;
	struct fake f;

	(void)state;
	fake_init(&f, &msgs[1]); /* unseen */
	p = compile_ok("BODY xyzzy FROM bob SEEN");
	assert_int_equal(match(p, &f), 0);
	assert_int_equal(f.header_calls, 0);
	assert_int_equal(f.text_calls, 0);
	store_search_free(&p);

	p = compile_ok("BODY xyzzy FROM nobody");
	assert_int_equal(match(p, &f), 0);
	assert_int_equal(f.header_calls, 1);
	assert_int_equal(f.text_calls, 0);
	store_search_free(&p);

	p = compile_ok("OR BODY xyzzy FLAGGED");
	assert_int_equal(match(p, &f), 1);
	assert_int_equal(f.text_calls, 0);
	store_search_free(&p);
	fake_free(&f);
}

/* Once the text is here, header keys read the header from it. */
static void test_header_from_text(void **state)
{
	struct store_search_prog *p;
	struct fake f;

	(void)state;
	fake_init(&f, &msgs[0]);
	p = compile_ok("OR TEXT nomatch (FROM jörg BODY xyzzy)");
	assert_int_equal(match(p, &f), 1);
	assert_int_equal(f.header_calls, 0);
	assert_int_equal(f.text_calls, 1);
	store_search_free(&p);

	/* the body's "Subject: fake" is not a header field */
	fake_free(&f);
	fake_init(&f, &msgs[1]);
	p = compile_ok("OR TEXT nomatch (SUBJECT fake BODY \"\")");
	assert_int_equal(match(p, &f), 0);
	assert_int_equal(f.header_calls, 0);
	store_search_free(&p);
	p = compile_ok("OR TEXT nomatch "
		       "(SUBJECT plans SENTON 2-Nov-2026 BODY \"\")");
	assert_int_equal(match(p, &f), 1);
	assert_int_equal(f.header_calls, 0);
	store_search_free(&p);
	fake_free(&f);
}

static void test_callback_error(void **state)
{
	struct store_search_prog *p = compile_ok("SEEN FROM x");
	struct pn_error err;
	struct fake f;

	(void)state;
	fake_init(&f, &msgs[0]);
	f.fail_msg = "msg1: Permission denied";
	assert_int_equal(store_search_match(p, &f.m, MAX_SEQ, MAX_UID, &err),
			 -1);
	assert_string_equal(err.msg, "msg1: Permission denied");
	assert_int_equal(err.code, PN_EIO);
	/* NOT does not turn a failure into a match */
	store_search_free(&p);
	p = compile_ok("NOT BODY x");
	assert_int_equal(store_search_match(p, &f.m, MAX_SEQ, MAX_UID, &err),
			 -1);
	assert_int_equal(f.text_calls, 1);
	store_search_free(&p);
	fake_free(&f);
}

/* Days before 1970 and zones that move the day across midnight. */
static void test_day_edges(void **state)
{
	static const struct {
		time_t t;
		int tz;
		const char *prog;
		int want;
	} cases2[] = {
	    {-1, 0, "ON 31-Dec-1969", 1},
	    {-1, 60, "ON 1-Jan-1970", 1},
	    {0, 0, "ON 1-Jan-1970", 1},
	    {0, -1, "ON 31-Dec-1969", 1},
	    {86399, 0, "ON 1-Jan-1970", 1},
	    {86400, 0, "BEFORE 2-Jan-1970", 0},
	    {86400, 0, "SINCE 2-Jan-1970", 1},
	    /* 2026-11-02 07:30 UTC: 1 Nov at -0800, 2 Nov at +0000 */
	    {1793604600, -480, "ON 1-Nov-2026", 1},
	    {1793604600, 0, "ON 1-Nov-2026", 0},
	    {1793604600, -480, "BEFORE 2-Nov-2026", 1},
	    {1793604600, 0, "BEFORE 2-Nov-2026", 0},
	    {1793604600, -480, "SINCE 2-Nov-2026", 0},
	    {1793604600, 0, "SINCE 2-Nov-2026", 1},
	    {-62135596800, 0, "ON 1-Jan-0001", 1},
	    {253402300799, 0, "ON 31-Dec-9999", 1},
	    {951782400, 0, "ON 29-Feb-2000", 1},
	};
	struct fake f;

	(void)state;
	fake_init(&f, &msgs[0]);
	assert_int_equal(f.m.internaldate, 1793604600);
	assert_int_equal(f.m.internaldate_tz, -480);
	fake_free(&f);
	fake_init(&f, &msgs[2]);
	f.forbid = true;
	for (size_t i = 0; i < NELEM(cases2); i++) {
		struct store_search_prog *p = compile_ok(cases2[i].prog);

		f.m.internaldate = cases2[i].t;
		f.m.internaldate_tz = cases2[i].tz;
		if (match(p, &f) != cases2[i].want)
			fail_msg("%lld %+d \"%s\": want %d",
				 (long long)cases2[i].t, cases2[i].tz,
				 cases2[i].prog, cases2[i].want);
		store_search_free(&p);
	}
	fake_free(&f);
}

/* '*' against other mailbox sizes, and a set of many ranges. */
static void test_star(void **state)
{
	struct store_search_prog *p = compile_ok("UID 3,7:*");
	struct pn_error err;
	struct fake f;

	(void)state;
	fake_init(&f, &msgs[1]); /* UID 5 */
	assert_int_equal(store_search_match(p, &f.m, 3, 5, &err), 1);
	assert_int_equal(store_search_match(p, &f.m, 3, 6, &err), 0);
	assert_int_equal(store_search_match(p, &f.m, 3, 9, &err), 0);
	store_search_free(&p);
	p = compile_ok("*:3"); /* seq 2 */
	assert_int_equal(store_search_match(p, &f.m, 2, 9, &err), 1);
	assert_int_equal(store_search_match(p, &f.m, 1, 9, &err), 1);
	assert_int_equal(store_search_match(p, &f.m, 4, 9, &err), 0);
	store_search_free(&p);
	p = compile_ok("1,3,5,7,9,11");
	assert_int_equal(store_search_match(p, &f.m, 20, 9, &err), 0);
	f.m.seq = 11;
	assert_int_equal(store_search_match(p, &f.m, 20, 9, &err), 1);
	store_search_free(&p);
	fake_free(&f);
}

static char *repeat(const char *head, const char *unit, size_t n,
		    const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	char *s = malloc(hl + ul * n + tl + 1);

	assert_non_null(s);
	memcpy(s, head, hl);
	for (size_t i = 0; i < n; i++)
		memcpy(s + hl + i * ul, unit, ul);
	memcpy(s + hl + ul * n, tail, tl + 1);
	return s;
}

static void expect_error(const char *prog, enum pn_errcode code,
			 const char *msg, int64_t offset)
{
	struct store_search_prog *p = NULL;
	struct pn_error err;

	assert_int_equal(store_search_compile(prog, &p, &err), -1);
	assert_null(p);
	assert_int_equal(err.code, code);
	assert_string_equal(err.msg, msg);
	assert_int_equal(err.offset, offset);
}

static void test_limits(void **state)
{
	struct store_search_prog *p;
	struct fake f;
	char *s, *t;

	(void)state;
	fake_init(&f, &msgs[0]);
	/* 64 levels of each kind of nesting pass, 65 do not */
	s = repeat("", "(", 64, "SEEN");
	t = repeat(s, ")", 64, "");
	p = compile_ok(t);
	assert_int_equal(match(p, &f), 1);
	store_search_free(&p);
	free(s);
	free(t);
	s = repeat("", "(", 65, "SEEN");
	t = repeat(s, ")", 65, "");
	expect_error(t, PN_ELIMIT, "SEARCH: nested deeper than 64 at byte 64",
		     64);
	free(s);
	free(t);
	s = repeat("", "NOT ", 64, "SEEN");
	p = compile_ok(s);
	assert_int_equal(match(p, &f), 1);
	store_search_free(&p);
	free(s);
	s = repeat("", "NOT ", 65, "SEEN");
	expect_error(s, PN_ELIMIT, "SEARCH: nested deeper than 64 at byte 256",
		     256);
	free(s);
	s = repeat("", "OR DRAFT ", 64, "SEEN");
	p = compile_ok(s);
	assert_int_equal(match(p, &f), 1);
	store_search_free(&p);
	free(s);
	s = repeat("", "OR DRAFT ", 65, "SEEN");
	expect_error(s, PN_ELIMIT, "SEARCH: nested deeper than 64 at byte 576",
		     576);
	free(s);

	/* A long flat AND is no nesting: 65536 bytes pass, one more not. */
	s = repeat("", "SEEN ", 13106, "SEEN  ");
	assert_int_equal(strlen(s), 65536);
	p = compile_ok(s);
	assert_int_equal(match(p, &f), 1);
	store_search_free(&p);
	t = repeat(s, " ", 1, "");
	expect_error(t, PN_ELIMIT, "SEARCH: program longer than 65536 bytes",
		     -1);
	free(s);
	free(t);
	fake_free(&f);
}

static void test_error_fields(void **state)
{
	struct store_search_prog *p = compile_ok("SEEN"), *q = p;
	struct pn_error err;

	(void)state;
	expect_error("FROM {3}", PN_EUNSUPPORTED,
		     "SEARCH: literals are not supported here at byte 5", 5);
	expect_error("CHARSET KOI8-R SEEN", PN_EUNSUPPORTED,
		     "SEARCH: unsupported charset 'KOI8-R' at byte 8", 8);
	expect_error("SEEN FORM x", PN_EPARSE,
		     "SEARCH: unknown key 'FORM' at byte 5", 5);
	/* *out is NULL after a failure, whatever it held */
	assert_int_equal(store_search_compile("FORM", &p, &err), -1);
	assert_null(p);
	assert_int_equal(store_search_compile(NULL, &p, &err), -1);
	assert_int_equal(err.code, PN_EINVAL);
	assert_null(p);
	/* a NULL error is allowed */
	assert_int_equal(store_search_compile("FORM", &p, NULL), -1);
	store_search_free(&q);
	assert_null(q);
	store_search_free(&p);
	store_search_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_needs),
	    cmocka_unit_test(test_flags_only),
	    cmocka_unit_test(test_header_once),
	    cmocka_unit_test(test_cheap_first),
	    cmocka_unit_test(test_header_from_text),
	    cmocka_unit_test(test_callback_error),
	    cmocka_unit_test(test_day_edges),
	    cmocka_unit_test(test_star),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_error_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
