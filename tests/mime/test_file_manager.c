/* test_file_manager.c - the file manager: type detection, CTE choice by
 * content, parts that stay on disk until written, streaming extraction
 * in constant memory. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../mime/mime_p.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static char dir[64];
static struct mime_manager *fm, *raw;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/postern-fm-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	fm = mime_file_manager_new();
	raw = mime_raw_manager_new();
	return fm && raw ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	mime_manager_free(&fm);
	mime_manager_free(&raw);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *make_file(const char *name, const void *data, size_t len)
{
	char *path;
	int fd;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

struct detect_case {
	const char *name;
	const char *data;
	size_t len;
	const char *type, *charset, *cte;
};

static const unsigned char png[] = {
	0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D',
	'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
	0, 0, 0, 10, 'I', 'D', 'A', 'T', 0x78, 0x9c, 0x63, 0, 1, 0, 0, 5, 0,
	1, 0x0d, 0x0a, 0x2d, 0xb4, 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42,
	0x60, 0x82
};

static void test_detect(void **state)
{
	static char longline[400], mostly[600];
	const struct detect_case cases[] = {
		{ "notes.txt", "Short lines.\nOnly ASCII here.\n", 30,
		  "text/plain", "us-ascii", "7bit" },
		{ "crlf.txt", "one\r\ntwo\r\n", 10, "text/plain", "us-ascii",
		  "7bit" },
		{ "long.txt", longline, sizeof(longline) - 1, "text/plain",
		  "us-ascii", "quoted-printable" },
		{ "mostly.txt", mostly, sizeof(mostly) - 1, "text/plain",
		  "utf-8", "quoted-printable" },
		{ "pic.png", (const char *)png, sizeof(png), "image/png", NULL,
		  "base64" },
		{ "empty.bin", "", 0, "application/octet-stream", NULL,
		  "base64" },
	};
	struct pn_error err;

	(void)state;
	memset(longline, 'x', sizeof(longline) - 2);
	longline[sizeof(longline) - 2] = '\n';
	memset(mostly, 'a', sizeof(mostly) - 1);
	for (size_t i = 0; i + 1 < sizeof(mostly); i += 60)
		mostly[i] = '\n';
	memcpy(mostly + 100, "\xc3\xa9t\xc3\xa9", 5);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct detect_case *c = &cases[i];
		char *path = make_file(c->name, c->data, c->len);
		struct mime_message *msg = mime_message_new();
		struct mime_part *r = mime_message_root(msg);
		const char *cs;

		if (mime_set_content(fm, r, "file", path, NULL, &err) < 0)
			fail_msg("%s: %s", c->name, err.msg);
		if (strcmp(mime_part_type(r), c->type))
			fail_msg("%s: type %s", c->name, mime_part_type(r));
		cs = mime_part_charset(r);
		assert_true(c->charset ? cs && !strcmp(cs, c->charset) : !cs);
		if (strcmp(mime_cte_name(mime_part_cte(r)), c->cte))
			fail_msg("%s: cte %s", c->name,
				 mime_cte_name(mime_part_cte(r)));
		assert_string_equal(mime_part_filename(r), c->name);
		assert_string_equal(mime_part_disposition(r), "attachment");
		/* Nothing of the file is in memory. */
		assert_non_null(r->body_path);
		assert_int_equal(r->body.len, 0);
		assert_string_equal(mime_part_header_get(r, "MIME-Version"),
				    "1.0");
		mime_message_free(&msg);
		free(path);
	}
}

static void test_opts_override(void **state)
{
	char *path = make_file("data.bin", png, sizeof(png));
	struct mime_set_opts o = { .maintype = "application",
				   .subtype = "x-thing",
				   .filename = "other.name",
				   .disposition = "inline",
				   .cid = "c1@x" };
	struct mime_message *msg = mime_message_new();
	struct mime_part *r = mime_message_root(msg);
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_set_content(fm, r, "file", path, &o, &err), 0);
	assert_string_equal(mime_part_type(r), "application/x-thing");
	assert_string_equal(mime_part_filename(r), "other.name");
	assert_string_equal(mime_part_disposition(r), "inline");
	assert_string_equal(mime_part_content_id(r), "c1@x");
	o.cte = "7bit";
	assert_int_equal(mime_set_content(fm, r, "file", path, &o, &err), -1);
	assert_string_equal(err.msg, "non-ASCII data cannot be sent as 7bit");
	o.cte = "x-nope";
	assert_int_equal(mime_set_content(fm, r, "file", path, &o, &err), -1);
	assert_string_equal(err.msg, "Unknown content transfer encoding x-nope");
	mime_message_free(&msg);
	free(path);
}

static void test_set_errors(void **state)
{
	struct mime_message *msg = mime_message_new();
	struct mime_part *r = mime_message_root(msg);
	struct pn_error err;
	char *missing;

	(void)state;
	assert_true(asprintf(&missing, "%s/missing", dir) > 0);
	assert_int_equal(mime_set_content(fm, r, "file", missing, NULL, &err),
			 -1);
	assert_int_equal(err.code, PN_EIO);
	assert_non_null(strstr(err.msg, "No such file"));
	assert_int_equal(mime_set_content(fm, r, "file", dir, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "is not a regular file"));
	assert_int_equal(mime_set_content(fm, r, "file", "", NULL, &err), -1);
	assert_int_equal(mime_set_content(fm, r, "bytes", "x", NULL, &err), -1);
	assert_int_equal(err.code, PN_ENOTFOUND);
	free(missing);
	mime_message_free(&msg);
}

static bool same_file(const char *a, const char *b)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", a, b);
	return system(cmd) == 0;
}

static int write_msg(struct mime_part *root, const char *path,
		     const char *eol)
{
	struct mime_write_opts o = { .eol = eol };
	struct pn_error err;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), rc;

	assert_true(fd >= 0);
	rc = mime_write_fd(root, &o, fd, &err);
	if (rc < 0)
		fail_msg("write: %s", err.msg);
	close(fd);
	return rc;
}

static void extract(struct mime_part *p, const char *path)
{
	struct mime_file_target t = { .fd = -1 };
	struct pn_error err;

	t.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(t.fd >= 0);
	if (mime_get_content(fm, p, &t, &err) < 0)
		fail_msg("get: %s", err.msg);
	close(t.fd);
	assert_false(t.defect);
}

/* Attach files of each kind, write, parse back, extract: the same bytes
 * come out. */
static void test_round_trip(void **state)
{
	static const char *const names[] = { "a.txt", "b.png", "c.txt" };
	char *paths[3], *out, *got;
	struct mime_message *msg = mime_message_new(), *back = NULL;
	struct mime_part *root = mime_message_root(msg), *p;
	struct pn_error err;
	size_t i = 0;

	(void)state;
	paths[0] = make_file(names[0], "hello\nworld\n", 12);
	paths[1] = make_file(names[1], png, sizeof(png));
	paths[2] = make_file(names[2], "caf\xc3\xa9 without newline", 20);
	assert_int_equal(mime_set_content(raw, root, "text", "see files", NULL,
					  &err), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(mime_add_attachment(root, fm, "file", paths[i],
						     NULL, NULL, &err), 0);
	assert_true(asprintf(&out, "%s/out.eml", dir) > 0);
	assert_true(asprintf(&got, "%s/got", dir) > 0);
	write_msg(root, out, "\n");
	assert_int_equal(mime_parse_file(out, NULL, NULL, &back, &err), 0);
	p = mime_part_next(mime_part_first_child(mime_message_root(back)));
	for (i = 0; p; p = mime_part_next(p), i++) {
		assert_string_equal(mime_part_filename(p), names[i]);
		extract(p, got);
		if (!same_file(got, paths[i]))
			fail_msg("%s differs after the round trip", names[i]);
	}
	assert_int_equal(i, 3);
	/* Multiparts have no bytes to give. */
	assert_int_equal(mime_get_content(fm, mime_message_root(back),
					  &(struct mime_file_target){ .fd = 1 },
					  &err), -1);
	assert_string_equal(err.msg, "get_content not valid on multipart");
	mime_message_free(&back);
	for (i = 0; i < 3; i++)
		free(paths[i]);
	free(out);
	free(got);
	mime_message_free(&msg);
}

static long max_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static char *big_file(size_t mb)
{
	char *path, *chunk = malloc(1 << 20);
	uint32_t x = 12345;
	int fd;

	assert_non_null(chunk);
	assert_true(asprintf(&path, "%s/big.bin", dir) > 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	for (size_t m = 0; m < mb; m++) {
		for (size_t i = 0; i < (1 << 20); i++) {
			x = x * 1103515245u + 12345u;
			chunk[i] = (char)(x >> 23);
		}
		assert_int_equal(write(fd, chunk, 1 << 20), 1 << 20);
	}
	close(fd);
	free(chunk);
	return path;
}

/* A file larger than the memory budget goes out encoded and comes back
 * decoded without ever being held whole in memory. */
static void test_large_streaming(void **state)
{
	size_t mb = UNDER_ASAN ? 8 : 96;
	char *path = big_file(mb), *out, *got;
	struct mime_message *msg = mime_message_new(), *back = NULL;
	struct mime_part *root = mime_message_root(msg), *p;
	struct pn_error err;
	long before = max_rss_kb();

	(void)state;
	assert_int_equal(mime_set_content(raw, root, "text", "big one", NULL,
					  &err), 0);
	assert_int_equal(mime_add_attachment(root, fm, "file", path, NULL, &p,
					     &err), 0);
	assert_int_equal(p->body_path_cte, MIME_CTE_BASE64);
	assert_true(asprintf(&out, "%s/big.eml", dir) > 0);
	assert_true(asprintf(&got, "%s/big.out", dir) > 0);
	write_msg(root, out, NULL);
	assert_int_equal(mime_parse_file(out, NULL, NULL, &back, &err), 0);
	p = mime_part_by_section(mime_message_root(back), "2");
	assert_non_null(p);
	extract(p, got);
	assert_true(same_file(got, path));
	if (!UNDER_ASAN && max_rss_kb() - before > 64 * 1024)
		fail_msg("RSS grew by %ld KiB for a %zu MiB file",
			 max_rss_kb() - before, mb);
	mime_message_free(&back);
	unlink(out);
	unlink(got);
	unlink(path);
	free(out);
	free(got);
	free(path);
	mime_message_free(&msg);
}

/* A 7bit text file holding a line that looks like our boundary prefix
 * is scanned, and the message still parses to the same parts. */
static void test_text_file_boundary_scan(void **state)
{
	static const char text[] = "--=_postern_AAAA\nplain\n--=_postern_\n";
	char *path = make_file("b.txt", text, sizeof(text) - 1), *out, *got;
	struct mime_message *msg = mime_message_new(), *back = NULL;
	struct mime_part *root = mime_message_root(msg);
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_set_content(fm, root, "file", path, NULL, &err),
			 0);
	assert_int_equal(mime_add_attachment(root, fm, "file", path, NULL,
					     NULL, &err), 0);
	assert_true(asprintf(&out, "%s/b.eml", dir) > 0);
	assert_true(asprintf(&got, "%s/b.got", dir) > 0);
	write_msg(root, out, "\n");
	assert_int_equal(mime_parse_file(out, NULL, NULL, &back, &err), 0);
	assert_int_equal(mime_part_child_count(mime_message_root(back)), 2);
	extract(mime_part_by_section(mime_message_root(back), "2"), got);
	assert_true(same_file(got, path));
	mime_message_free(&back);
	free(out);
	free(got);
	free(path);
	mime_message_free(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_opts_override),
		cmocka_unit_test(test_set_errors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_large_streaming),
		cmocka_unit_test(test_text_file_boundary_scan),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
