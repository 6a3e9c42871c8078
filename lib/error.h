/* error.h - error values that say what went wrong and where.
 *
 * Functions that can fail return 0 on success and -1 on failure, filling a
 * caller-provided struct pn_error (which may be NULL when the caller does
 * not care).  The message is human text; code lets callers tell classes of
 * failure apart; offset/line/where locate the problem in the input.
 */
#ifndef PN_ERROR_H
#define PN_ERROR_H

#include <stdint.h>

#define PN_WUR __attribute__((warn_unused_result))
#define PN_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum pn_errcode {
	PN_OK = 0,
	PN_ENOMEM,	/* allocation failed */
	PN_EIO,		/* read/write/open failed; msg has strerror */
	PN_EPARSE,	/* malformed input */
	PN_ELIMIT,	/* input exceeds a configured limit */
	PN_EINVAL,	/* caller passed something unusable */
	PN_ENOTFOUND,	/* no such part, header, file ... */
	PN_EEXIST,	/* refusing to overwrite */
	PN_EUNSUPPORTED,
};

#define PN_ERROR_MSG_MAX 512

struct pn_error {
	enum pn_errcode code;
	char msg[PN_ERROR_MSG_MAX];
	int64_t offset;		/* byte offset in the input, or -1 */
	long line;		/* 1-based line, or 0 when unknown */
};

/* Clear err to "no error" (offset -1).  err may be NULL. */
void pn_error_clear(struct pn_error *err);

/* Record an error and return -1, so callers can `return pn_error_set(...)`.
 * err may be NULL.  The position fields are reset to unknown. */
int pn_error_set(struct pn_error *err, enum pn_errcode code,
		 const char *fmt, ...) PN_PRINTF(3, 4);

/* As pn_error_set with code PN_EIO, appending ": strerror(errnum)". */
int pn_error_errno(struct pn_error *err, int errnum, const char *fmt, ...)
	PN_PRINTF(3, 4);

/* Record where the error happened; appends " at byte N" (and " (line L)"
 * when line > 0) to the message.  Returns -1. */
int pn_error_at(struct pn_error *err, int64_t offset, long line);

/* Prefix the existing message with "prefix: " (e.g. a file name). */
void pn_error_prefix(struct pn_error *err, const char *fmt, ...) PN_PRINTF(2, 3);

#endif
