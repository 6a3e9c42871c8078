/* Tests for lib/safefile.c: hostile names, atomic no-clobber and
 * replacing writes, symlinks in the directory, unique numbering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#include "../../lib/safefile.h"

static const struct {
	const char *name;
	const char *fallback;
	const char *out;
	bool changed;
} name_cases[] = {
	{ "report.pdf", NULL, "report.pdf", false },
	{ "r\xc3\xa9sum\xc3\xa9 2026.pdf", NULL,
	  "r\xc3\xa9sum\xc3\xa9 2026.pdf", false },
	{ "../../etc/passwd", NULL, "passwd", true },
	{ "/etc/shadow", NULL, "shadow", true },
	{ "C:\\Windows\\x.exe", NULL, "x.exe", true },
	{ "dir/", "fb.bin", "fb.bin", true },
	{ ".bashrc", NULL, "bashrc", true },
	{ "-rf", NULL, "rf", true },
	{ "--help.txt", NULL, "help.txt", true },
	{ " .- x", NULL, "x", true },
	{ "name. . .", NULL, "name", true },
	{ "CON", NULL, "_CON", true },
	{ "con.txt", NULL, "_con.txt", true },
	{ "LPT1", NULL, "_LPT1", true },
	{ "com9.tar.gz", NULL, "_com9.tar.gz", true },
	{ "COM0", NULL, "COM0", false },
	{ "CONSOLE.txt", NULL, "CONSOLE.txt", false },
	{ "nul ", NULL, "_nul", true },
	{ "a\x1b[31mb.txt", NULL, "a[31mb.txt", true },
	{ "a\tb\r\nc\x7f.txt", NULL, "abc.txt", true },
	{ "\xc2\x9b" "2J.txt", NULL, "2J.txt", true },
	{ "\xe2\x80\xaetxt.exe", NULL, "txt.exe", true },
	{ "invoice\xe2\x80\xae" "fdp.exe", NULL, "invoicefdp.exe", true },
	{ "a\xe2\x80\x8b" "b\xef\xbb\xbf" "c\xe2\x81\xa0.txt", NULL, "abc.txt",
	  true },
	{ "a\xff" "b.txt", NULL, "a_b.txt", true },
	{ "\xc0\xaf" "x", NULL, "__x", true },
	{ "", NULL, "part", true },
	{ "", "attachment.bin", "attachment.bin", true },
	{ NULL, "x.eml", "x.eml", true },
	{ "...", "fb", "fb", true },
	{ "  ", NULL, "part", true },
	{ "/", "../../.evil\x1b.sh", "evil.sh", true },
	{ "..", "\xe2\x80\xae", "part", true },
	{ "\xe2\x80\x8b", "-", "part", true },
};

static void test_safe_filename_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(name_cases); i++) {
		char out[PN_SAFE_NAME_MAX + 1];
		bool changed = pn_safe_filename(name_cases[i].name,
						name_cases[i].fallback, out,
						sizeof(out));

		if (strcmp(out, name_cases[i].out) != 0 ||
		    changed != name_cases[i].changed)
			fail_msg("case %zu: got '%s' changed %d", i, out,
				 changed);
	}
}

static void test_safe_filename_long(void **state)
{
	char name[600], out[PN_SAFE_NAME_MAX + 1], small[16];
	size_t n = 0;

	(void)state;
	/* 166 three-byte characters + ".pdf": 502 bytes */
	for (int i = 0; i < 166; i++) {
		memcpy(name + n, "\xe2\x82\xac", 3);
		n += 3;
	}
	strcpy(name + n, ".pdf");
	assert_true(pn_safe_filename(name, NULL, out, sizeof(out)));
	assert_int_equal(strlen(out), 65 * 3 + 4);
	assert_memory_equal(out, name, 65 * 3);
	assert_string_equal(out + 65 * 3, ".pdf");
	/* two-byte characters: 98 fit exactly */
	n = 0;
	for (int i = 0; i < 248; i++) {
		memcpy(name + n, "\xc3\xa9", 2);
		n += 2;
	}
	strcpy(name + n, ".pdf");
	pn_safe_filename(name, NULL, out, sizeof(out));
	assert_int_equal(strlen(out), PN_SAFE_NAME_MAX);
	assert_string_equal(out + 196, ".pdf");
	/* a long "extension" is not kept as one */
	memset(name, 'a', 300);
	name[150] = '.';
	name[300] = '\0';
	pn_safe_filename(name, NULL, out, sizeof(out));
	assert_int_equal(strlen(out), PN_SAFE_NAME_MAX);
	assert_memory_equal(out, name, PN_SAFE_NAME_MAX);
	/* a small output buffer caps harder, still keeping ".pdf" */
	pn_safe_filename("abcdefghijklmnopqrstuvwxyz.pdf", NULL, small,
			 sizeof(small));
	assert_string_equal(small, "abcdefghijk.pdf");
}

static char tmpdir[64];
static int dirfd_;

static int setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/pn-safefile-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	dirfd_ = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dirfd_ < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	DIR *d = fdopendir(dup(dirfd_));
	struct dirent *de;

	(void)state;
	if (d)
		rewinddir(d);	/* the offset is shared with dirfd_ */
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd_, de->d_name, 0);
	if (d)
		closedir(d);
	close(dirfd_);
	return rmdir(tmpdir);
}

static int count_entries(void)
{
	DIR *d = fdopendir(dup(dirfd_));
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	rewinddir(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void read_file(const char *name, char *buf, size_t size)
{
	int fd = openat(dirfd_, name, O_RDONLY | O_NOFOLLOW);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, size - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

/* Write data to name through pn_atomic_*; the final name goes to
 * final_out (if not NULL). */
static int write_file(const char *name, const char *data, bool replace,
		      bool unique, char *final_out, struct pn_error *err)
{
	struct pn_atomic_file f;
	int rc;

	if (pn_atomic_open(&f, dirfd_, name, replace, err) < 0)
		return -1;
	assert_int_equal(pn_write_all(f.fd, data, strlen(data)), 0);
	rc = unique ? pn_atomic_commit_unique(&f, err)
		    : pn_atomic_commit(&f, err);
	if (final_out)
		strcpy(final_out, f.name);
	pn_atomic_abort(&f);
	return rc;
}

static void test_create_and_no_clobber(void **state)
{
	struct pn_error err;
	char buf[64];
	struct stat st;
	mode_t old = umask(022);

	(void)state;
	assert_int_equal(write_file("a.txt", "first", false, false, NULL,
				    &err), 0);
	read_file("a.txt", buf, sizeof(buf));
	assert_string_equal(buf, "first");
	assert_int_equal(fstatat(dirfd_, "a.txt", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0644);
	/* no clobbering, and no temporary file left behind */
	assert_int_equal(write_file("a.txt", "second", false, false, NULL,
				    &err), -1);
	assert_int_equal(err.code, PN_EEXIST);
	assert_string_equal(err.msg, "a.txt: file exists");
	read_file("a.txt", buf, sizeof(buf));
	assert_string_equal(buf, "first");
	assert_int_equal(count_entries(), 1);
	/* replace */
	assert_int_equal(write_file("a.txt", "third", true, false, NULL,
				    &err), 0);
	read_file("a.txt", buf, sizeof(buf));
	assert_string_equal(buf, "third");
	assert_int_equal(count_entries(), 1);
	/* umask is respected */
	umask(077);
	assert_int_equal(write_file("private", "x", false, false, NULL,
				    &err), 0);
	assert_int_equal(fstatat(dirfd_, "private", &st, 0), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	umask(old);
}

static void test_symlinks(void **state)
{
	struct pn_error err;
	char outside[128], buf[64], target[128];
	int fd;
	ssize_t n;

	(void)state;
	snprintf(outside, sizeof(outside), "%s-outside", tmpdir);
	fd = open(outside, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pn_write_all(fd, "precious", 8), 0);
	close(fd);
	/* dangling symlink: never followed, no-clobber refuses */
	assert_int_equal(symlinkat("/nonexistent/pn-test", dirfd_, "dangle"),
			 0);
	assert_int_equal(write_file("dangle", "data", false, false, NULL,
				    &err), -1);
	assert_int_equal(err.code, PN_EEXIST);
	assert_true(access("/nonexistent/pn-test", F_OK) < 0);
	/* symlink to a file outside: unique picks another name */
	assert_int_equal(symlinkat(outside, dirfd_, "link.txt"), 0);
	assert_int_equal(write_file("link.txt", "data", false, true, buf,
				    &err), 0);
	assert_string_equal(buf, "link-1.txt");
	/* replace swaps the link itself, never writes through it */
	assert_int_equal(write_file("link.txt", "data", true, false, NULL,
				    &err), 0);
	read_file("link.txt", buf, sizeof(buf));
	assert_string_equal(buf, "data");
	fd = open(outside, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, target, sizeof(target) - 1);
	close(fd);
	assert_int_equal(n, 8);
	target[n] = '\0';
	assert_string_equal(target, "precious");
	unlink(outside);
}

static void test_unique_numbering(void **state)
{
	struct pn_error err;
	char name[PN_SAFE_NAME_MAX + 32];

	(void)state;
	assert_int_equal(write_file("r.tar.gz", "0", false, true, name, &err),
			 0);
	assert_string_equal(name, "r.tar.gz");
	assert_int_equal(write_file("r.tar.gz", "1", false, true, name, &err),
			 0);
	assert_string_equal(name, "r.tar-1.gz");
	assert_int_equal(write_file("r.tar.gz", "2", false, true, name, &err),
			 0);
	assert_string_equal(name, "r.tar-2.gz");
	assert_int_equal(write_file("README", "0", false, true, name, &err), 0);
	assert_int_equal(write_file("README", "1", false, true, name, &err), 0);
	assert_string_equal(name, "README-1");
	assert_int_equal(count_entries(), 5);
}

static void test_bad_names_and_abort(void **state)
{
	static const char *const bad[] = { "", "a/b", ".", "..", "/abs" };
	struct pn_atomic_file f;
	struct pn_error err;

	(void)state;
	for (size_t i = 0; i < NELEM(bad); i++) {
		assert_int_equal(pn_atomic_open(&f, dirfd_, bad[i], false,
						&err), -1);
		assert_int_equal(err.code, PN_EINVAL);
		pn_atomic_abort(&f);	/* harmless after a failed open */
	}
	/* abort removes the temporary file */
	assert_int_equal(pn_atomic_open(&f, dirfd_, "gone", false, &err), 0);
	assert_int_equal(count_entries(), 1);
	assert_int_equal(strncmp(f.tmp_name, ".pn-", 4), 0);
	pn_atomic_abort(&f);
	assert_int_equal(count_entries(), 0);
	assert_int_equal(f.fd, -1);
	/* abort after commit does nothing; a second commit is refused */
	assert_int_equal(pn_atomic_open(&f, dirfd_, "kept", false, &err), 0);
	assert_int_equal(pn_atomic_commit(&f, &err), 0);
	pn_atomic_abort(&f);
	assert_int_equal(count_entries(), 1);
	assert_int_equal(pn_atomic_commit(&f, &err), -1);
	assert_int_equal(err.code, PN_EINVAL);
	/* a non-directory fd fails with an error, not a crash */
	assert_int_equal(pn_atomic_open(&f, -1, "x", false, &err), -1);
	assert_int_equal(err.code, PN_EIO);
	assert_string_equal(err.msg, "x: cannot create temporary file: "
			    "Bad file descriptor");
}

/* Writing to a pipe with no reader fails with EPIPE, not a signal. */
static void signal_ignore_and_check(int fd)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &old);
	assert_int_equal(pn_write_all(fd, "x", 1), -1);
	assert_int_equal(errno, EPIPE);
	sigaction(SIGPIPE, &old, NULL);
	close(fd);
}

static void test_write_all(void **state)
{
	int p[2];
	char buf[8];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pn_write_all(p[1], "abc", 3), 0);
	assert_int_equal(read(p[0], buf, sizeof(buf)), 3);
	close(p[0]);
	signal_ignore_and_check(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_safe_filename_table),
		cmocka_unit_test(test_safe_filename_long),
		cmocka_unit_test_setup_teardown(test_create_and_no_clobber,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unique_numbering, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_names_and_abort,
						setup, teardown),
		cmocka_unit_test(test_write_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
