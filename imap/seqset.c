/* seqset.c - IMAP sequence sets (RFC 3501 sequence-set, RFC 9051) kept as
 * sorted, merged ranges.
 *
 * Nothing here ever walks a range element by element: a server (or a
 * hostile one) may answer with 1:4294967295, and expanding that is the
 * Ruby net-imap CVE-2025-25186 denial of service.  Memory is bounded by
 * max_ranges, time by the text's length.
 */
#include "imap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"

#define SEQSET_DEFAULT_MAX_RANGES 100000

static size_t max_ranges(const struct imap_seqset *s)
{
	return s->max_ranges ? s->max_ranges : SEQSET_DEFAULT_MAX_RANGES;
}

static int grow(struct imap_seqset *s)
{
	struct imap_range *r;
	size_t cap;

	if (s->n >= max_ranges(s)) {
		errno = EOVERFLOW;
		return -1;
	}
	if (s->n < s->cap)
		return 0;
	cap = s->cap ? s->cap * 2 : 8;
	if (cap > max_ranges(s))
		cap = max_ranges(s);
	r = realloc(s->r, cap * sizeof(*r));
	if (!r)
		return -1;
	s->r = r;
	s->cap = cap;
	return 0;
}

/* Ranges that overlap or touch (4:6 and 7) become one; uint64 so that
 * hi + 1 cannot wrap at 4294967295. */
static bool mergeable(const struct imap_range *a, const struct imap_range *b)
{
	return (uint64_t)a->hi + 1 >= b->lo && (uint64_t)b->hi + 1 >= a->lo;
}

static void merge_into(struct imap_range *a, const struct imap_range *b)
{
	if (b->lo < a->lo)
		a->lo = b->lo;
	if (b->hi > a->hi)
		a->hi = b->hi;
}

/* Index of the first range with hi >= v (s->n when none). */
static size_t first_hi_from(const struct imap_seqset *s, uint64_t v)
{
	size_t a = 0, b = s->n;

	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (s->r[m].hi < v)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

int imap_seqset_add(struct imap_seqset *s, uint32_t lo, uint32_t hi)
{
	struct imap_range nr = { lo < hi ? lo : hi, lo < hi ? hi : lo };
	size_t i, j;

	if (nr.lo == 0) {	/* nz-number: 0 is never a message */
		errno = EINVAL;
		return -1;
	}
	i = first_hi_from(s, (uint64_t)nr.lo - 1);	/* may touch lo */
	j = i;
	while (j < s->n && mergeable(&s->r[j], &nr))
		merge_into(&nr, &s->r[j++]);
	if (j > i) {
		s->r[i] = nr;
		memmove(s->r + i + 1, s->r + j, (s->n - j) * sizeof(*s->r));
		s->n -= j - i - 1;
		return 0;
	}
	if (grow(s) < 0)
		return -1;
	memmove(s->r + i + 1, s->r + i, (s->n - i) * sizeof(*s->r));
	s->r[i] = nr;
	s->n++;
	return 0;
}

bool imap_seqset_contains(const struct imap_seqset *s, uint32_t n)
{
	size_t i = first_hi_from(s, n);

	return i < s->n && s->r[i].lo <= n && n <= s->r[i].hi;
}

/* Appends in text order, merging with the last range when possible, so a
 * sorted set (what servers send) costs O(n); anything else is sorted once
 * at the end instead of paying a memmove per range.  Out of order,
 * max_ranges therefore bounds the ranges as written, before that merge. */
static int push(struct imap_seqset *s, uint32_t a, uint32_t b, bool *sorted)
{
	struct imap_range nr = { a < b ? a : b, a < b ? b : a };
	struct imap_range *last = s->n ? &s->r[s->n - 1] : NULL;

	if (last && mergeable(last, &nr) && nr.lo >= last->lo) {
		merge_into(last, &nr);
		return 0;
	}
	if (last && nr.lo < last->lo)
		*sorted = false;
	if (grow(s) < 0)	/* moves s->r: last is stale after this */
		return -1;
	s->r[s->n++] = nr;
	return 0;
}

static int cmp_range(const void *pa, const void *pb)
{
	const struct imap_range *a = pa, *b = pb;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

static void normalise(struct imap_seqset *s)
{
	size_t i, out = 0;

	qsort(s->r, s->n, sizeof(*s->r), cmp_range);
	for (i = 1; i < s->n; i++) {
		if (mergeable(&s->r[out], &s->r[i]))
			merge_into(&s->r[out], &s->r[i]);
		else
			s->r[++out] = s->r[i];
	}
	if (s->n)
		s->n = out + 1;
}

/* seq-number = nz-number / "*"; nz-number = digit-nz *DIGIT, at most
 * 4294967295 (RFC 9051 makes the uint32 bound explicit).  "*" is kept as
 * IMAP_SEQ_STAR. */
static int parse_number(const char *t, size_t len, size_t *pos,
			uint32_t *out, struct pn_error *err)
{
	size_t start = *pos, i = *pos;
	uint64_t v = 0;

	if (i < len && t[i] == '*') {
		*out = IMAP_SEQ_STAR;
		*pos = i + 1;
		return 0;
	}
	if (i >= len || t[i] < '1' || t[i] > '9')
		goto bad;
	while (i < len && t[i] >= '0' && t[i] <= '9') {
		v = v * 10 + (uint64_t)(t[i] - '0');
		if (v > UINT32_MAX)
			goto bad;
		i++;
	}
	*out = (uint32_t)v;
	*pos = i;
	return 0;
bad:
	pn_error_set(err, PN_EPARSE, "sequence set: bad number");
	return pn_error_at(err, (int64_t)start, 0);
}

static int unexpected(char c, size_t pos, struct pn_error *err)
{
	if (c > ' ' && c < 0x7f)
		pn_error_set(err, PN_EPARSE, "sequence set: unexpected '%c'",
			     c);
	else
		pn_error_set(err, PN_EPARSE,
			     "sequence set: unexpected byte 0x%02x",
			     (unsigned char)c);
	return pn_error_at(err, (int64_t)pos, 0);
}

static int parse_ranges(struct imap_seqset *s, const char *t, size_t len,
			bool *sorted, struct pn_error *err)
{
	size_t pos = 0, start;
	uint32_t a, b;

	for (;;) {
		start = pos;
		if (parse_number(t, len, &pos, &a, err) < 0)
			return -1;
		b = a;
		if (pos < len && t[pos] == ':') {
			pos++;
			if (parse_number(t, len, &pos, &b, err) < 0)
				return -1;
		}
		if (push(s, a, b, sorted) < 0)
			break;
		if (pos == len)
			return 0;
		if (t[pos] != ',')
			return unexpected(t[pos], pos, err);
		pos++;
	}
	if (errno == EOVERFLOW) {
		pn_error_set(err, PN_ELIMIT,
			     "sequence set: more than %zu ranges (max_ranges)",
			     max_ranges(s));
		return pn_error_at(err, (int64_t)start, 0);
	}
	return pn_error_set(err, PN_ENOMEM, "sequence set: out of memory");
}

int imap_seqset_parse(struct imap_seqset *s, const char *text, size_t len,
		      struct pn_error *err)
{
	bool sorted = true;

	imap_seqset_clear(s);
	if (parse_ranges(s, text, len, &sorted, err) < 0) {
		imap_seqset_clear(s);
		return -1;
	}
	if (!sorted)
		normalise(s);
	return 0;
}

/* Only the last range can hold "*" (it sorts last), so resolving it
 * against star_value can only make it overlap the ranges before it; those
 * overlaps are subtracted instead of building a resolved copy.  The sum
 * of disjoint uint32 ranges cannot exceed 2^32, so uint64 never wraps:
 * the "saturation" is that * beyond star_value counts as star_value.
 * star_value 0 is an empty mailbox, where a range reaching "*" names no
 * message at all. */
uint64_t imap_seqset_count(const struct imap_seqset *s, uint32_t star_value)
{
	uint64_t total = 0, a, b;
	size_t i, n = s->n;

	if (n && s->r[n - 1].hi == IMAP_SEQ_STAR && star_value == 0) {
		n--;	/* an empty mailbox: "*" names no message */
	} else if (n && s->r[n - 1].hi == IMAP_SEQ_STAR) {
		a = s->r[n - 1].lo == IMAP_SEQ_STAR ? star_value : s->r[n - 1].lo;
		b = star_value;
		if (a > b) {
			uint64_t t = a;

			a = b;
			b = t;
		}
		n--;
		total = b - a + 1;
		for (i = 0; i < n; i++) {
			uint64_t lo = s->r[i].lo > a ? s->r[i].lo : a;
			uint64_t hi = s->r[i].hi < b ? s->r[i].hi : b;

			if (lo <= hi)
				total -= hi - lo + 1;
		}
	}
	for (i = 0; i < n; i++)
		total += (uint64_t)s->r[i].hi - s->r[i].lo + 1;
	return total;
}

static int format_number(struct pn_buf *out, uint32_t v)
{
	if (v == IMAP_SEQ_STAR)
		return pn_buf_addc(out, '*');
	return pn_buf_printf(out, "%lu", (unsigned long)v);
}

int imap_seqset_format(const struct imap_seqset *s, struct pn_buf *out)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (i && pn_buf_addc(out, ',') < 0)
			return -1;
		if (format_number(out, s->r[i].lo) < 0)
			return -1;
		if (s->r[i].hi == s->r[i].lo)
			continue;
		if (pn_buf_addc(out, ':') < 0 ||
		    format_number(out, s->r[i].hi) < 0)
			return -1;
	}
	return 0;
}

void imap_seqset_clear(struct imap_seqset *s)
{
	s->n = 0;
}

void imap_seqset_free(struct imap_seqset *s)
{
	free(s->r);
	s->r = NULL;
	s->n = 0;
	s->cap = 0;
}
