/* Tests for imap/url.c: RFC 5092 URLs (and imaps://) as targets, every
 * part, both mailbox spellings, and exact errors, in one table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../imap/imap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct want {
	const char *in;
	const char *error;	/* non-NULL: the exact message */
	bool tls;
	const char *user, *auth, *host;
	uint16_t port;
	const char *mailbox;
	uint32_t uidvalidity;
	const char *uid, *section, *search;
};

static const struct want cases[] = {
	{ .in = "imap://mail.example.org", .host = "mail.example.org" },
	{ .in = "imap://mail.example.org/", .host = "mail.example.org" },
	{ .in = "IMAPS://Host:993/INBOX", .tls = true, .host = "Host",
	  .port = 993, .mailbox = "INBOX" },
	{ .in = "imap://host:/INBOX", .host = "host", .mailbox = "INBOX" },
	/* RFC 5092 section 7's examples */
	{ .in = "imap://minbari.example.org/gray-council;UIDVALIDITY=385759045"
		"/;UID=20/;SECTION=1.2",
	  .host = "minbari.example.org", .mailbox = "gray-council",
	  .uidvalidity = 385759045, .uid = "20", .section = "1.2" },
	{ .in = "imap://psicorp.example.org/~peter/%E6%97%A5%E6%9C%AC%E8%AA%9E/"
		"%E5%8F%B0%E5%8C%97",
	  .host = "psicorp.example.org",
	  .mailbox = "~peter/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/"
		     "\xe5\x8f\xb0\xe5\x8c\x97" },
	{ .in = "imap://;AUTH=GSSAPI@minbari.example.org/gray-council"
		"?SUBJECT%20shadows",
	  .auth = "GSSAPI", .host = "minbari.example.org",
	  .mailbox = "gray-council", .search = "SUBJECT shadows" },
	{ .in = "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth="
		"anonymous:internal:91354a473744909de610943775f92038",
	  .error = "URL: ';urlauth=' is not supported" },
	{ .in = "imap://h/INBOX/;UID=1;x", .error = "URL: unexpected ';x'" },
	{ .in = "imap://h/INBOX/;UID=1/;EXPIRE=2025",
	  .error = "URL: unexpected ';EXPIRE=2025'" },
	{ .in = "imap://michael@minbari.example.org/users.*",
	  .user = "michael", .host = "minbari.example.org",
	  .mailbox = "users.*" },
	{ .in = "imap://fred%40example.com;AUTH=*@[2001:db8::1]:1143/Sent",
	  .user = "fred@example.com", .auth = "*", .host = "2001:db8::1",
	  .port = 1143, .mailbox = "Sent" },
	{ .in = "imaps://[::1]", .tls = true, .host = "::1" },
	{ .in = "imap://u%20s@h/", .user = "u s", .host = "h" },
	/* modified UTF-7 in the URL, as RFC 5092 writes it */
	{ .in = "imap://h/~peter/mail/&U,BTFw-/&ZeVnLIqe-", .host = "h",
	  .mailbox = "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
		     "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" },
	{ .in = "imap://h/Entw%26APw-rfe", .host = "h",
	  .mailbox = "Entw\xc3\xbcrfe" },
	/* ASCII results and non-UTF-7 stay as written */
	{ .in = "imap://h/Tom&Jerry", .host = "h", .mailbox = "Tom&Jerry" },
	{ .in = "imap://h/A&-B", .host = "h", .mailbox = "A&-B" },
	{ .in = "imap://h/Entw%C3%BCrfe", .host = "h",
	  .mailbox = "Entw\xc3\xbcrfe" },
	{ .in = "imap://h/INBOX;uidvalidity=1/;UID=4294967295", .host = "h",
	  .mailbox = "INBOX", .uidvalidity = 1, .uid = "4294967295" },
	{ .in = "imap://h/a/b/;UID=7/;SECTION=HEADER.FIELDS%20(TO)",
	  .host = "h", .mailbox = "a/b", .uid = "7",
	  .section = "HEADER.FIELDS (TO)" },

	/* errors */
	{ .in = "http://h/", .error = "URL: not an imap:// or imaps:// URL" },
	{ .in = "imap:/h", .error = "URL: not an imap:// or imaps:// URL" },
	{ .in = "", .error = "URL: not an imap:// or imaps:// URL" },
	{ .in = "imap://", .error = "URL: missing host" },
	{ .in = "imap://u@/x", .error = "URL: missing host" },
	{ .in = "imap://h:99999/", .error = "URL: bad port '99999'" },
	{ .in = "imap://h:0", .error = "URL: bad port '0'" },
	{ .in = "imap://h:14x3", .error = "URL: bad port '14x3'" },
	{ .in = "imap://h:1234567", .error = "URL: bad port '1234567'" },
	{ .in = "imap://[::1]:65536", .error = "URL: bad port '65536'" },
	{ .in = "imap://[::1", .error = "URL: '[' without ']' in the host" },
	{ .in = "imap://[::g]/", .error = "URL: bad IPv6 address '[::g]'" },
	{ .in = "imap://[::1]x/", .error = "URL: bad host '[::1]x'" },
	{ .in = "imap://ho st/", .error = "URL: bad host 'ho st'" },
	{ .in = "imap://h?x", .error = "URL: '?search' without a mailbox" },
	{ .in = "imap://h/?x", .error = "URL: '?search' without a mailbox" },
	{ .in = "imap://u:pw@h/",
	  .error = "URL: ':' in the user name (a password does not belong "
		   "in a URL)" },
	{ .in = "imap://@h/", .error = "URL: empty user name" },
	{ .in = "imap://u;AUTH=@h/", .error = "URL: bad user parameter "
					      "';AUTH='" },
	{ .in = "imap://u;X=1@h/", .error = "URL: bad user parameter ';X=1'" },
	{ .in = "imap://u%4@h/", .error = "URL: bad percent escape at byte 8" },
	{ .in = "imap://u%zz@h/",
	  .error = "URL: bad percent escape at byte 8" },
	{ .in = "imap://h/a%00b", .error = "URL: %00 in the mailbox at byte 10" },
	{ .in = "imap://h/a b",
	  .error = "URL: unescaped byte 0x20 in the mailbox at byte 10" },
	{ .in = "imap://h/a%FFb", .error = "URL: mailbox is not valid UTF-8" },
	{ .in = "imap://h/;UID=5", .error = "URL: ';UID=5' without a mailbox" },
	{ .in = "imap://h//;UID=5", .error = "URL: ;UID= without a mailbox" },
	{ .in = "imap://h/INBOX;UIDVALIDITY=0",
	  .error = "URL: bad UIDVALIDITY '0'" },
	{ .in = "imap://h/INBOX;UIDVALIDITY=4294967296",
	  .error = "URL: bad UIDVALIDITY '4294967296'" },
	{ .in = "imap://h/INBOX;FOO=1",
	  .error = "URL: bad mailbox parameter ';FOO=1'" },
	{ .in = "imap://h/INBOX/;UID=x", .error = "URL: bad UID 'x'" },
	{ .in = "imap://h/INBOX/;UID=", .error = "URL: bad UID ''" },
	{ .in = "imap://h/INBOX/;SECTION=1",
	  .error = "URL: ;SECTION= without ;UID=" },
	{ .in = "imap://h/INBOX/;UID=1/;UID=2",
	  .error = "URL: unexpected ';UID=2'" },
	{ .in = "imap://h/INBOX/;UID=1/;PARTIAL=0.10",
	  .error = "URL: ';PARTIAL=' is not supported" },
	{ .in = "imap://h/INBOX/;UID=1?x",
	  .error = "URL: '?search' after ;UID=" },
	{ .in = "imap://h/INBOX#frag",
	  .error = "URL: fragments ('#') are not supported" },
};

static void check_str(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

static void test_table(void **state)
{
	struct imap_url u;
	struct pn_error err;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		const struct want *w = &cases[i];
		int rc = imap_url_parse(w->in, &u, &err);

		if (w->error) {
			assert_int_equal(rc, -1);
			assert_string_equal(err.msg, w->error);
			assert_null(u.host);	/* freed on error */
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(u.tls, w->tls);
		check_str(u.user, w->user);
		check_str(u.auth, w->auth);
		check_str(u.host, w->host);
		assert_int_equal(u.port, w->port);
		check_str(u.mailbox, w->mailbox);
		assert_int_equal(u.uidvalidity, w->uidvalidity);
		check_str(u.uid, w->uid);
		check_str(u.section, w->section);
		check_str(u.search, w->search);
		imap_url_free(&u);
		assert_null(u.host);
	}
}

/* A NULL err is allowed; free twice is harmless. */
static void test_null_err(void **state)
{
	struct imap_url u;

	(void)state;
	assert_int_equal(imap_url_parse("imap://h:99999", &u, NULL), -1);
	assert_int_equal(imap_url_parse("imap://h/x", &u, NULL), 0);
	imap_url_free(&u);
	imap_url_free(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_null_err),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
