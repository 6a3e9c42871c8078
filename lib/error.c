#include "error.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void pn_error_clear(struct pn_error *err)
{
	if (!err)
		return;
	err->code = PN_OK;
	err->msg[0] = '\0';
	err->offset = -1;
	err->line = 0;
}

static void vset(struct pn_error *err, enum pn_errcode code, const char *fmt,
		 va_list ap)
{
	err->code = code;
	err->offset = -1;
	err->line = 0;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int pn_error_set(struct pn_error *err, enum pn_errcode code, const char *fmt,
		 ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vset(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

int pn_error_errno(struct pn_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vset(err, errnum == ENOMEM ? PN_ENOMEM : PN_EIO, fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(errnum));
	return -1;
}

int pn_error_at(struct pn_error *err, int64_t offset, long line)
{
	size_t n;

	if (!err)
		return -1;
	err->offset = offset;
	err->line = line;
	n = strlen(err->msg);
	if (line > 0)
		snprintf(err->msg + n, sizeof(err->msg) - n,
			 " at byte %" PRId64 " (line %ld)", offset, line);
	else
		snprintf(err->msg + n, sizeof(err->msg) - n,
			 " at byte %" PRId64, offset);
	return -1;
}

void pn_error_prefix(struct pn_error *err, const char *fmt, ...)
{
	char prefix[256], old[PN_ERROR_MSG_MAX];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncation is acceptable: the message stays readable. */
	if (snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old) < 0)
		err->msg[0] = '\0';
}
