/* cache.c - the per-folder header cache file "postern-cache".
 *
 * The file is a speed-up and never a source of truth: whatever is wrong
 * with it (another version, another UIDVALIDITY, a torn write, random
 * bytes, lengths that point outside the file) makes it "absent", and the
 * index is read from the messages again.  See cache_p.h for the layout.
 */
#include "cache_p.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HDR_LEN 32
#define REC_FIXED 52
#define REC_INO 44	/* after the six lengths */
#define NSTR (1 + MD_HF_COUNT)	/* base name, then the fields */
#define ABSENT 0xffffffffu
#define WBUF_SIZE ((size_t)256 << 10)

static const char magic[4] = { 'P', 'N', 'H', 'C' };

static uint32_t get32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 |
	       (uint32_t)u[3] << 24;
}

static uint64_t get64(const char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (char)(v >> (8 * i));
}

static void put64(char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* A cheap 64-bit mix over the body bytes: it catches torn writes and
 * stray bytes that length checks cannot see (a flipped letter in a
 * subject).  Not cryptographic; nobody gains by forging a cache.  It is
 * fed in pieces when writing and in one go when loading, so it carries a
 * partial word between calls. */
static uint64_t mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

static void sum_update(struct md_cache_sum *s, const char *p, size_t n)
{
	while (n && s->ntail) {
		s->tail[s->ntail++] = *p++;
		n--;
		if (s->ntail == 8) {
			uint64_t w;

			memcpy(&w, s->tail, 8);
			s->h = mix(s->h, w);
			s->ntail = 0;
		}
	}
	for (; n >= 8; p += 8, n -= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		s->h = mix(s->h, w);
	}
	memcpy(s->tail + s->ntail, p, n);
	s->ntail += n;
}

static uint64_t sum_final(const struct md_cache_sum *s)
{
	uint64_t h = s->h;

	for (size_t i = 0; i < s->ntail; i++)
		h = mix(h, (unsigned char)s->tail[i] | 0x100u);
	return h;
}

uint64_t md_cache_checksum(const char *p, size_t n)
{
	struct md_cache_sum s = { 0 };

	sum_update(&s, p, n);
	return sum_final(&s);
}

/* Keys are long and alike ("1733581606.M0P9077.host,S=22813"), and a
 * warm open hashes each of 50,000 several times: eight bytes a step (a
 * byte-wise FNV was a tenth of the open), then a final mix (splitmix64's)
 * so that the low bits a table uses depend on every byte.  Only ever in
 * memory: free to change. */
uint64_t md_key_hash(const char *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 29;
	}
	if (n) {
		w = 0;
		memcpy(&w, s, n);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
	}
	h ^= h >> 32;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 29);
}

/* A table slot: the record's offset (never 0: records follow the header)
 * and the hash's high half, so that a probe past another key does not
 * have to read that record (a cache miss into a 15 MB buffer). */
#define SLOT(off, h) ((uint64_t)(off) | ((h) & 0xffffffff00000000ull))
#define SLOT_OFF(v) ((uint32_t)(v))
#define SLOT_TAG(v) ((v) & 0xffffffff00000000ull)

/* ---- loading ----------------------------------------------------------- */

static int read_whole(int fd, struct md_cache *c)
{
	struct stat st;
	size_t got = 0;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return c->why = "not a regular file", 1;
	if (st.st_size < HDR_LEN || (uint64_t)st.st_size > MD_CACHE_MAX)
		return c->why = "bad size", 1;
	c->verified = (int64_t)st.st_mtim.tv_sec * 1000000000 +
		      st.st_mtim.tv_nsec;
	c->len = (size_t)st.st_size;
	c->data = malloc(c->len);
	if (!c->data)
		return -1;
	/* One read() normally; loop only for short reads and EINTR. */
	while (got < c->len) {
		ssize_t n = read(fd, c->data + got, c->len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return c->why = "short read", 1;
		got += (size_t)n;
	}
	return 0;
}

/* Check one record at off; returns its length or 0 when it is bad. */
static size_t check_record(const char *p, size_t avail)
{
	size_t rec_len, pos = REC_FIXED;

	if (avail < REC_FIXED)
		return 0;
	rec_len = get32(p);
	if (rec_len < REC_FIXED || rec_len > avail)
		return 0;
	for (int i = 0; i < NSTR; i++) {
		uint32_t l = get32(p + 20 + 4 * i);

		if (l == ABSENT) {
			if (i == 0)
				return 0;	/* a record needs its key */
			continue;
		}
		if (l >= rec_len - pos || p[pos + l] != '\0')
			return 0;
		pos += (size_t)l + 1;
	}
	return pos == rec_len ? rec_len : 0;
}

/* Check every record and put it in the key table. */
static int index_records(struct md_cache *c)
{
	size_t off = HDR_LEN, size = 16;

	while (size < (size_t)c->count * 2)
		size *= 2;
	c->table = calloc(size, sizeof(*c->table));
	if (!c->table)
		return -1;
	c->table_mask = size - 1;
	for (uint32_t i = 0; i < c->count; i++) {
		const char *p = c->data + off;
		size_t n = check_record(p, c->len - off), slot;
		uint64_t h;

		if (!n)
			return c->why = "bad record", 1;
		h = md_key_hash(p + REC_FIXED, get32(p + 20));
		slot = h & c->table_mask;
		while (c->table[slot])
			slot = (slot + 1) & c->table_mask;
		c->table[slot] = SLOT(off, h);
		off += n;
	}
	if (off != c->len)
		return c->why = "trailing bytes", 1;
	return 0;
}

static int check_header(struct md_cache *c, uint32_t uidvalidity)
{
	const char *h = c->data;
	struct md_cache_sum sum = { 0 };

	if (memcmp(h, magic, 4) != 0)
		return c->why = "bad magic", 1;
	if (get32(h + 4) != MD_CACHE_VERSION)
		return c->why = "other version", 1;
	if (get32(h + 8) != uidvalidity)
		return c->why = "other uidvalidity", 1;
	c->count = get32(h + 12);
	if (get64(h + 16) != c->len - HDR_LEN)
		return c->why = "bad body length", 1;
	/* Every record takes at least REC_FIXED + 1 bytes: a lying count
	 * cannot make us allocate more than the file justifies. */
	if (c->count > (c->len - HDR_LEN) / (REC_FIXED + 1))
		return c->why = "bad count", 1;
	sum_update(&sum, h + HDR_LEN, c->len - HDR_LEN);
	if (get64(h + 24) != sum_final(&sum))
		return c->why = "bad checksum", 1;
	return 0;
}

static void cache_reset(struct md_cache *c, const char *why)
{
	free(c->data);
	free(c->table);
	memset(c, 0, sizeof(*c));
	c->why = why;
}

int md_cache_load(struct md_cache *c, int dirfd, uint32_t uidvalidity,
		  struct pn_error *err)
{
	int fd, rc;

	memset(c, 0, sizeof(*c));
	c->uidvalidity = uidvalidity;
	fd = openat(dirfd, MD_CACHE_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		c->why = errno == ENOENT ? "missing" : "unreadable";
		return 0;
	}
	rc = read_whole(fd, c);
	close(fd);
	if (rc == 0)
		rc = check_header(c, uidvalidity);
	if (rc == 0)
		rc = index_records(c);
	if (rc < 0) {
		cache_reset(c, "out of memory");
		return pn_error_set(err, PN_ENOMEM, "%s: out of memory",
				    MD_CACHE_NAME);
	}
	if (rc > 0) {
		cache_reset(c, c->why);
		c->uidvalidity = uidvalidity;
	}
	if (rc == 0)
		c->trusted = md_cache_fresh(c->verified, md_now_ns());
	return 0;
}

static void rec_values(const char *p, struct md_hvalues *out)
{
	size_t pos = REC_FIXED + get32(p + 20) + 1;

	for (int i = 0; i < MD_HF_COUNT; i++) {
		uint32_t l = get32(p + 24 + 4 * i);

		out->v[i] = l == ABSENT ? NULL : p + pos;
		out->len[i] = l == ABSENT ? 0 : l;
		if (l != ABSENT)
			pos += (size_t)l + 1;
	}
}

static bool rec_is(const char *p, const char *key, size_t keylen)
{
	return get32(p + 20) == keylen && memcmp(p + REC_FIXED, key, keylen) == 0;
}

static void rec_stamp(const char *p, struct md_stamp *out)
{
	out->mtime = (int64_t)get64(p + 4);
	out->size = get64(p + 12);
	out->ino = get64(p + REC_INO);
}

static bool rec_stamp_ok(const char *p, const struct md_stamp *st)
{
	struct md_stamp r;

	rec_stamp(p, &r);
	return r.mtime == st->mtime && r.size == st->size && r.ino == st->ino;
}

static const char *find_rec(const struct md_cache *c, const char *key,
			    size_t keylen, uint64_t h)
{
	size_t slot = h & c->table_mask;

	for (; c->table[slot]; slot = (slot + 1) & c->table_mask) {
		const char *p = c->data + SLOT_OFF(c->table[slot]);

		if (SLOT_TAG(c->table[slot]) == SLOT_TAG(h) &&
		    rec_is(p, key, keylen))
			return p;
	}
	return NULL;
}

int64_t md_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool md_cache_fresh(int64_t verified, int64_t now)
{
	return verified <= now &&
	       now - verified <= (int64_t)MD_CACHE_TRUST_SECS * 1000000000;
}

/* Why a scan may skip the fstatat() of a file the cache knows: Maildir
 * files are immutable (the spec; Dovecot relies on it and never stats
 * them again), so what happens to a message is a rename (flags, new/ to
 * cur/), a new file or an unlink, and each shows in readdir itself: a new
 * or unknown key is stat'ed, a vanished one is gone, a rename keeps key,
 * inode, size and mtime.  A file replaced under its name (renamed over,
 * or copied in by a restore) has another inode number and is stat'ed.
 * What readdir cannot show is a change the rules forbid that keeps the
 * inode: a file rewritten in place or touched.  Those are seen once the
 * cache is older than MD_CACHE_TRUST_SECS (at once for a file modified
 * in the MD_CACHE_SETTLE_SECS before it was stat'ed), or at once when
 * postern-cache is removed. */
bool md_cache_stamp(const struct md_cache *c, const char *key, size_t keylen,
		    uint64_t hash, uint64_t ino, struct md_stamp *out)
{
	const int64_t settle = (int64_t)MD_CACHE_SETTLE_SECS * 1000000000;
	const char *p;

	if (!c || !c->trusted || !c->count || !ino)
		return false;
	p = find_rec(c, key, keylen, hash);
	if (!p)
		return false;
	rec_stamp(p, out);
	return out->ino == ino && out->mtime < c->verified - settle;
}

void md_cache_prefetch(const struct md_cache *c, uint64_t hash, bool record)
{
	const uint64_t *slot;

	if (!c || !c->trusted || !c->count)
		return;
	slot = &c->table[hash & c->table_mask];
	if (!record) {
		__builtin_prefetch(slot);
	} else if (*slot && SLOT_TAG(*slot) == SLOT_TAG(hash)) {
		/* the stamp, and the key that may run into the next line */
		__builtin_prefetch(c->data + SLOT_OFF(*slot));
		__builtin_prefetch(c->data + SLOT_OFF(*slot) + REC_FIXED);
	}
}

bool md_cache_lookup(const struct md_cache *c, const char *key,
		     size_t keylen, const struct md_stamp *st,
		     struct md_hvalues *out, uint32_t *hint)
{
	size_t off = *hint ? *hint : HDR_LEN;
	const char *p;

	if (!c->count)
		return false;
	/* Records were written in UID order, so the next message is usually
	 * the next record: a sequential walk instead of hash probes all
	 * over a big buffer.  The hint is an offset (records were checked:
	 * one that starts below c->len is whole). */
	if (off < c->len && rec_is(c->data + off, key, keylen))
		p = c->data + off;
	else if (!(p = find_rec(c, key, keylen, md_key_hash(key, keylen))))
		return false;
	*hint = (uint32_t)(p - c->data) + get32(p);
	if (!rec_stamp_ok(p, st))
		return false;
	rec_values(p, out);
	return true;
}

void md_cache_free(struct md_cache *c)
{
	cache_reset(c, NULL);
}

/* ---- writing ----------------------------------------------------------- */

int md_cache_writer_open(struct md_cache_writer *w, int dirfd)
{
	memset(w, 0, sizeof(*w));
	w->dirfd = dirfd;
	snprintf(w->tmp, sizeof(w->tmp), MD_CACHE_NAME ".tmp.%ld",
		 (long)getpid());
	w->buf = malloc(WBUF_SIZE);
	if (!w->buf)
		return -1;
	for (int tries = 0; tries < 2; tries++) {
		w->fd = openat(dirfd, w->tmp, O_WRONLY | O_CREAT | O_EXCL |
			       O_NOFOLLOW | O_CLOEXEC, 0600);
		if (w->fd >= 0 || errno != EEXIST)
			break;
		/* Left by a crashed run with our pid: it is ours to drop. */
		unlinkat(dirfd, w->tmp, 0);
	}
	if (w->fd < 0) {
		free(w->buf);
		w->buf = NULL;
		return -1;
	}
	memset(w->buf, 0, HDR_LEN);	/* filled in at commit */
	w->used = HDR_LEN;
	return 0;
}

static void wflush(struct md_cache_writer *w)
{
	size_t off = 0;

	while (!w->failed && off < w->used) {
		ssize_t n = write(w->fd, w->buf + off, w->used - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			w->failed = true;
		else
			off += (size_t)n;
	}
	w->used = 0;
}

static void wput(struct md_cache_writer *w, const void *p, size_t n)
{
	if (w->used + n > WBUF_SIZE)
		wflush(w);
	if (n > WBUF_SIZE) {	/* a huge header: straight through */
		size_t off = 0;

		sum_update(&w->sum, p, n);
		while (!w->failed && off < n) {
			ssize_t k = write(w->fd, (const char *)p + off, n - off);

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				w->failed = true;
			else
				off += (size_t)k;
		}
		return;
	}
	sum_update(&w->sum, p, n);
	memcpy(w->buf + w->used, p, n);
	w->used += n;
}

void md_cache_writer_add(struct md_cache_writer *w, const char *key,
			 size_t keylen, const struct md_stamp *st,
			 const struct md_hvalues *v)
{
	const char *s[NSTR];
	size_t l[NSTR], rec_len = REC_FIXED;
	char fixed[REC_FIXED];
	static const char nul;

	s[0] = key;
	l[0] = keylen;
	for (int i = 0; i < MD_HF_COUNT; i++) {
		s[i + 1] = v->v[i];
		l[i + 1] = v->v[i] ? v->len[i] : 0;
	}
	for (int i = 0; i < NSTR; i++)
		rec_len += s[i] ? l[i] + 1 : 0;
	if (rec_len > UINT32_MAX / 2 || w->body_len + rec_len > MD_CACHE_MAX) {
		w->failed = true;	/* the reader would refuse it anyway */
		return;
	}
	put32(fixed, (uint32_t)rec_len);
	put64(fixed + 4, (uint64_t)st->mtime);
	put64(fixed + 12, st->size);
	for (int i = 0; i < NSTR; i++)
		put32(fixed + 20 + 4 * i, s[i] ? (uint32_t)l[i] : ABSENT);
	put64(fixed + REC_INO, st->ino);
	wput(w, fixed, sizeof(fixed));
	/* The key is not NUL-terminated in the folder's name. */
	for (int i = 0; i < NSTR; i++) {
		if (!s[i])
			continue;
		wput(w, s[i], l[i]);
		wput(w, &nul, 1);
	}
	w->body_len += rec_len;
	w->count++;
}

void md_cache_writer_abort(struct md_cache_writer *w)
{
	if (w->fd >= 0 && w->buf) {
		close(w->fd);
		unlinkat(w->dirfd, w->tmp, 0);
	}
	free(w->buf);
	w->buf = NULL;
	w->fd = -1;
}

/* No fsync: the cache can always be rebuilt, and a file torn by a crash
 * fails its checksum and is ignored.  Paying an fsync of megabytes on
 * every cold open would buy nothing. */
int md_cache_writer_commit(struct md_cache_writer *w, uint32_t uidvalidity,
			   int64_t verified)
{
	struct timespec times[2] = {
		{ 0, UTIME_OMIT },
		{ verified / 1000000000, verified % 1000000000 },
	};
	char hdr[HDR_LEN];

	wflush(w);
	memcpy(hdr, magic, 4);
	put32(hdr + 4, MD_CACHE_VERSION);
	put32(hdr + 8, uidvalidity);
	put32(hdr + 12, w->count);
	put64(hdr + 16, w->body_len);
	put64(hdr + 24, sum_final(&w->sum));
	if (!w->failed && pwrite(w->fd, hdr, HDR_LEN, 0) != HDR_LEN)
		w->failed = true;
	/* Last, after every write: see cache_p.h on the file's mtime.  A
	 * file without it would be trusted as new, so failing is failing. */
	if (verified < 0)
		times[1] = (struct timespec){ 0, 0 };
	if (!w->failed && futimens(w->fd, times) < 0)
		w->failed = true;
	if (close(w->fd) < 0)
		w->failed = true;
	w->fd = -1;
	free(w->buf);
	w->buf = NULL;
	if (w->failed) {
		unlinkat(w->dirfd, w->tmp, 0);
		return -1;
	}
	if (renameat(w->dirfd, w->tmp, w->dirfd, MD_CACHE_NAME) < 0) {
		unlinkat(w->dirfd, w->tmp, 0);
		return -1;
	}
	return 0;
}
