/* keywords.c - dovecot-keywords: "<index> <name>" a line, index 0-25 being
 * the letter a-z that a file name's info carries after the standard flags.
 * Dovecot writes it under its own dotlock (dovecot-keywords.lock).
 */
#include "maildir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maildir_p.h"
#include "../lib/sv.h"

void md_keywords_clear(struct md_keywords *kw)
{
	for (int i = 0; i < MD_KEYWORDS_MAX; i++) {
		free(kw->names[i]);
		kw->names[i] = NULL;
	}
}

int md_keywords_find(const struct md_keywords *kw, const char *name)
{
	for (int i = 0; i < MD_KEYWORDS_MAX; i++)
		if (kw->names[i] && strcmp(kw->names[i], name) == 0)
			return i;
	return -1;
}

/* An IMAP flag-keyword is an atom: no specials, no '\\', no controls. */
static bool valid_keyword(const char *s)
{
	if (!s[0] || strlen(s) > 200)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("(){%*\"\\]", *p))
			return false;
	return true;
}

int md_keywords_add(struct md_keywords *kw, const char *name,
		    struct pn_error *err)
{
	int i = md_keywords_find(kw, name);

	if (i >= 0)
		return i;
	if (!valid_keyword(name))
		return pn_error_set(err, PN_EINVAL,
				    "keyword \"%s\": not an IMAP atom", name);
	for (i = 0; i < MD_KEYWORDS_MAX; i++) {
		if (kw->names[i])
			continue;
		kw->names[i] = strdup(name);
		if (!kw->names[i])
			return pn_error_set(err, PN_ENOMEM, "out of memory");
		return i;
	}
	return pn_error_set(err, PN_ELIMIT,
			    "keyword \"%s\": all 26 keyword letters are in use",
			    name);
}

static int bad_line(struct pn_error *err, const char *path, long line,
		    const char *what)
{
	char shown[400];

	md_display_path(path, shown, sizeof(shown));
	pn_error_set(err, PN_EPARSE, "%s:%ld: %s", shown, line, what);
	if (err)
		err->line = line;
	return -1;
}

static int parse_line(struct pn_sv line, struct md_keywords *out)
{
	struct pn_sv num = pn_sv_chop(&line, ' ');
	unsigned idx = 0;

	if (num.len == 0 || num.len > 2 || !line.len)
		return -1;
	for (size_t i = 0; i < num.len; i++) {
		if (num.p[i] < '0' || num.p[i] > '9')
			return -1;
		idx = idx * 10 + (unsigned)(num.p[i] - '0');
	}
	if (idx >= MD_KEYWORDS_MAX || out->names[idx])
		return -1;
	out->names[idx] = pn_sv_dup(line);
	return out->names[idx] ? 0 : -1;
}

int md_keywords_parse(const char *text, size_t len, const char *path,
		      struct md_keywords *out, struct pn_error *err)
{
	struct pn_sv rest = pn_sv_make(text, len);
	long lineno = 0;

	md_keywords_clear(out);
	while (rest.len) {
		struct pn_sv line = pn_sv_chop(&rest, '\n');

		lineno++;
		if (line.len == 0)
			continue;
		if (parse_line(line, out) < 0) {
			md_keywords_clear(out);
			return bad_line(err, path, lineno, "bad keyword line");
		}
	}
	return 0;
}

int md_keywords_format(const struct md_keywords *kw, struct pn_buf *out)
{
	for (int i = 0; i < MD_KEYWORDS_MAX; i++)
		if (kw->names[i] &&
		    pn_buf_printf(out, "%d %s\n", i, kw->names[i]) < 0)
			return -1;
	return 0;
}

int md_keywords_read(const char *dir, struct md_keywords *out,
		     struct pn_error *err)
{
	struct pn_buf b = { 0 };
	char *path;
	int rc;

	md_keywords_clear(out);
	if (asprintf(&path, "%s/%s", dir, MD_KEYWORDS) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	rc = md_read_file(path, &b, err);
	if (rc == 0)
		rc = md_keywords_parse(pn_buf_cstr(&b), b.len, path, out, err);
	else if (rc == 1)
		rc = 0;
	pn_buf_free(&b);
	free(path);
	return rc;
}

int md_keywords_write(const char *dir, const struct md_keywords *kw,
		      int timeout_ms, struct pn_error *err)
{
	struct md_dotlock lock;
	struct pn_buf b;
	int rc;

	pn_buf_init(&b, MD_META_MAX);
	if (md_keywords_format(kw, &b) < 0) {
		pn_buf_free(&b);
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	}
	if (md_dotlock_take(dir, MD_KEYWORDS, timeout_ms, &lock, err) < 0) {
		pn_buf_free(&b);
		return -1;
	}
	rc = md_dotlock_commit(&lock, b.data ? b.data : "", b.len, err);
	pn_buf_free(&b);
	return rc;
}

static int update_locked(const char *dir, const char *const *names, size_t n,
			 int timeout_ms, struct md_keywords *kw,
			 struct pn_error *err);

/* Add names to dir's table, re-reading it first so that a keyword another
 * writer added meanwhile keeps its letter.  Dovecot changes the file only
 * while it holds dovecot-uidlist.lock (and dovecot-keywords.lock for the
 * write itself): so do we. */
int md_keywords_update(const char *dir, const char *const *names, size_t n,
		       int timeout_ms, struct md_keywords *kw,
		       struct pn_error *err)
{
	struct md_dotlock ul;
	int rc;

	if (md_dotlock_take(dir, MD_UIDLIST, timeout_ms, &ul, err) < 0)
		return -1;
	rc = update_locked(dir, names, n, timeout_ms, kw, err);
	md_dotlock_release(&ul);
	return rc;
}

static int update_locked(const char *dir, const char *const *names, size_t n,
			 int timeout_ms, struct md_keywords *kw,
			 struct pn_error *err)
{
	struct md_dotlock lock;
	struct pn_buf b;
	int rc;

	if (md_dotlock_take(dir, MD_KEYWORDS, timeout_ms, &lock, err) < 0)
		return -1;
	if (md_keywords_read(dir, kw, err) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (md_keywords_add(kw, names[i], err) < 0)
			goto fail;
	pn_buf_init(&b, MD_META_MAX);
	if (md_keywords_format(kw, &b) < 0) {
		pn_buf_free(&b);
		pn_error_set(err, PN_ENOMEM, "out of memory");
		goto fail;
	}
	rc = md_dotlock_commit(&lock, b.data ? b.data : "", b.len, err);
	pn_buf_free(&b);
	return rc;
fail:
	md_dotlock_release(&lock);
	return -1;
}
