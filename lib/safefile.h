/* safefile.h - safe names and atomic, never-clobbering file creation.
 *
 * Names taken from mail are hostile: pn_safe_filename() reduces one to a
 * plain basename that cannot escape a directory or confuse a shell or a
 * terminal.  pn_atomic_* write a file inside a directory given as an open
 * fd: the data goes to a temporary file created with O_EXCL|O_NOFOLLOW,
 * is fsync'd, then linked to its final name (which fails rather than
 * replaces) or, when replacing is asked for, renamed over it.  Symlinks in
 * the directory are never followed, so nothing lands outside it.
 */
#ifndef PN_SAFEFILE_H
#define PN_SAFEFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define PN_SAFE_NAME_MAX 200	/* bytes, well under NAME_MAX with "-NNN" */

/* Write into out (size outsz, >= 16) a safe version of the UTF-8 name:
 * the last path component only (both '/' and '\\' separate), control,
 * format/invisible and bidi characters removed, invalid UTF-8 replaced by
 * '_', leading dots, dashes and spaces removed, trailing dots/spaces
 * removed, Windows reserved device names (CON, NUL, COM1 ...) prefixed
 * with '_', length capped at PN_SAFE_NAME_MAX bytes keeping the
 * extension and whole UTF-8 characters.  When nothing is left, fallback
 * (itself made safe) is used, and "part" if that is empty too.
 * Returns true when the name had to be changed. */
bool pn_safe_filename(const char *name, const char *fallback, char *out,
		      size_t outsz);

struct pn_atomic_file {
	int fd;			/* write here; -1 when not open */
	int dirfd;		/* not owned */
	char tmp_name[64];
	char name[PN_SAFE_NAME_MAX + 32];	/* final name (basename) */
	bool replace;
};

/* Start writing a file that will be called name inside dirfd.  name must
 * already be safe (no '/').  When replace is false the file must not
 * exist at commit time; see pn_atomic_commit_unique for numbering. */
int pn_atomic_open(struct pn_atomic_file *f, int dirfd, const char *name,
		   bool replace, struct pn_error *err) PN_WUR;
/* fsync and give the file its final name.  Without replace, fails with
 * PN_EEXIST if the name exists (any kind of file, dangling symlinks too). */
int pn_atomic_commit(struct pn_atomic_file *f, struct pn_error *err) PN_WUR;
/* Like commit, but when the name exists tries "stem-1.ext", "stem-2.ext"
 * ... (up to 9999) and leaves the name used in f->name. */
int pn_atomic_commit_unique(struct pn_atomic_file *f, struct pn_error *err) PN_WUR;
/* Remove the temporary file; safe to call after commit (does nothing). */
void pn_atomic_abort(struct pn_atomic_file *f);

/* write(2) all of buf, retrying on EINTR and short writes. */
int pn_write_all(int fd, const void *buf, size_t len) PN_WUR;

#endif
