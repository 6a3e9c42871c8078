#include "buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t buf_max(const struct pn_buf *b)
{
	return b->max ? b->max : PN_BUF_DEFAULT_MAX;
}

void pn_buf_init(struct pn_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void pn_buf_init_secret(struct pn_buf *b, size_t max)
{
	pn_buf_init(b, max);
	b->secret = true;
}

/* realloc may leave the old block's bytes in freed memory: for a secret,
 * move by hand and wipe the old block first. */
static char *grow(struct pn_buf *b, size_t cap)
{
	char *p;

	if (!b->secret)
		return realloc(b->data, cap);
	p = malloc(cap);
	if (p && b->data) {
		memcpy(p, b->data, b->len + 1);
		explicit_bzero(b->data, b->cap);
	}
	if (p)
		free(b->data);
	return p;
}

int pn_buf_reserve(struct pn_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (n > buf_max(b) || b->len > buf_max(b) - n) {
		errno = EOVERFLOW;
		return -1;
	}
	need = b->len + n + 1;	/* room for the NUL */
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = grow(b, cap);
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int pn_buf_add(struct pn_buf *b, const void *p, size_t n)
{
	if (pn_buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int pn_buf_addc(struct pn_buf *b, char c)
{
	return pn_buf_add(b, &c, 1);
}

int pn_buf_adds(struct pn_buf *b, const char *s)
{
	return pn_buf_add(b, s, strlen(s));
}

int pn_buf_vprintf(struct pn_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || pn_buf_reserve(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int pn_buf_printf(struct pn_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = pn_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

const char *pn_buf_cstr(const struct pn_buf *b)
{
	return b->data ? b->data : "";
}

void pn_buf_reset(struct pn_buf *b)
{
	if (b->secret && b->data)
		explicit_bzero(b->data, b->cap);
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void pn_buf_consume(struct pn_buf *b, size_t n)
{
	if (n >= b->len) {
		pn_buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
	if (b->secret)
		explicit_bzero(b->data + b->len, n);
}

char *pn_buf_take(struct pn_buf *b, size_t *len_out)
{
	char *p = b->data;
	size_t len = b->len;

	if (!p) {
		p = calloc(1, 1);
		if (!p)
			return NULL;
		len = 0;
	}
	if (len_out)
		*len_out = len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void pn_buf_free(struct pn_buf *b)
{
	if (b->secret && b->data)
		explicit_bzero(b->data, b->cap);
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
