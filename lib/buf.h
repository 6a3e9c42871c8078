/* buf.h - growable byte buffer with a hard maximum size.
 *
 * The data is always NUL-terminated (the NUL is not counted in len), so a
 * buffer of text can be used as a C string.  Growing past max fails with
 * errno = EOVERFLOW instead of eating memory; allocation failure sets
 * ENOMEM.  A zeroed struct is a valid empty buffer with the default max.
 */
#ifndef PN_BUF_H
#define PN_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define PN_BUF_DEFAULT_MAX ((size_t)1 << 30)	/* 1 GiB */

struct pn_buf {
	char *data;	/* NULL until the first byte is added */
	size_t len;
	size_t cap;
	size_t max;	/* 0 means PN_BUF_DEFAULT_MAX */
	bool secret;	/* holds a password or token: growing copies then
			   wipes the old block instead of realloc'ing, and
			   reset/consume/free wipe what they drop */
};

void pn_buf_init(struct pn_buf *b, size_t max);
/* A buffer for secrets (sets b->secret); see struct pn_buf. */
void pn_buf_init_secret(struct pn_buf *b, size_t max);
int pn_buf_add(struct pn_buf *b, const void *p, size_t n) PN_WUR;
int pn_buf_addc(struct pn_buf *b, char c) PN_WUR;
int pn_buf_adds(struct pn_buf *b, const char *s) PN_WUR;
int pn_buf_printf(struct pn_buf *b, const char *fmt, ...) PN_PRINTF(2, 3) PN_WUR;
int pn_buf_vprintf(struct pn_buf *b, const char *fmt, va_list ap) PN_WUR;
/* Make room for n more bytes without changing len. */
int pn_buf_reserve(struct pn_buf *b, size_t n) PN_WUR;
/* Data as a C string; "" for an empty buffer (never NULL). */
const char *pn_buf_cstr(const struct pn_buf *b);
/* Drop the contents, keep the allocation. */
void pn_buf_reset(struct pn_buf *b);
/* Drop the first n bytes (memmove). */
void pn_buf_consume(struct pn_buf *b, size_t n);
/* Hand the (NUL-terminated, malloc'd) bytes to the caller and leave the
 * buffer empty.  Never returns NULL: an empty buffer gives "" malloc'd;
 * NULL only on allocation failure.  *len_out may be NULL. */
char *pn_buf_take(struct pn_buf *b, size_t *len_out);
void pn_buf_free(struct pn_buf *b);

#endif
