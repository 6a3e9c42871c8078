/* folder.c - one Maildir folder: scanning new/ and cur/, matching files
 * to dovecot-uidlist records, flag changes by rename, expunge.
 *
 * UIDs: a file keeps the UID its key (name up to ':') has in the uidlist.
 * Files without one get the next UIDs in the order of the delivery time
 * in their names, as Dovecot hands them out; read-write, that happens
 * under dovecot-uidlist.lock and is written back; read-only, the UIDs are
 * given in memory only (they may differ next time: nothing is written).
 * A folder read-only without a uidlist gets UIDVALIDITY = now, so a later
 * session never mistakes those in-memory UIDs for persistent ones.
 *
 * Sizes and mtimes: a file the header cache knows (same key and inode)
 * takes them from the cache instead of an fstatat(), which was most of a
 * warm open; see md_cache_stamp() in cache.c for why that is safe and
 * what it cannot see.
 */
#include "maildir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache_p.h"
#include "maildir_p.h"

/* ---- scanning ----------------------------------------------------------- */

struct scan_ent {
	char *name;
	size_t keylen;
	uint64_t hash;		/* md_key_hash of the key */
	bool in_new;
	bool taken;
	size_t rec;		/* when taken by a record: its index */
	bool dup;		/* same key as another file: gets no UID */
	unsigned char d_type;	/* readdir's */
	off_t size;
	int64_t mtime_ns;
	uint64_t ino;		/* readdir's d_ino */
	int64_t verified_ns;	/* see struct md_msg */
};

struct scan {
	struct scan_ent *v;
	size_t n, cap;
	uint32_t *hash;		/* open addressing: index + 1, 0 empty */
	size_t hmask;
	const struct md_cache *cache;	/* stamps to trust, or NULL */
	int64_t t0;		/* this attempt's start (ns) */
	size_t statted, trusted;
};

/* Lookups of 50,000 keys in tables of 50,000 in another order are cache
 * misses, one after the other; asking for the memory a few keys ahead
 * lets them overlap. */
#define AHEAD 8

static void scan_free(struct scan *sc)
{
	const struct md_cache *cache = sc->cache;

	for (size_t i = 0; i < sc->n; i++)
		free(sc->v[i].name);
	free(sc->v);
	free(sc->hash);
	memset(sc, 0, sizeof(*sc));
	sc->cache = cache;
}

/* A readdir entry, its stamp still to come (see resolve). */
/* Room for one more entry at sc->v[sc->n]. */
static int scan_room(struct scan *sc)
{
	if (sc->n == sc->cap) {
		size_t cap = sc->cap ? sc->cap * 2 : 256;
		void *p = realloc(sc->v, cap * sizeof(*sc->v));

		if (!p)
			return -1;
		sc->v = p;
		sc->cap = cap;
	}
	return 0;
}

static int scan_push(struct scan *sc, const struct dirent *d, bool in_new)
{
	struct scan_ent *e;

	if (scan_room(sc) < 0)
		return -1;
	e = &sc->v[sc->n];
	memset(e, 0, sizeof(*e));
	e->name = strdup(d->d_name);
	if (!e->name)
		return -1;
	e->keylen = md_name_keylen(e->name);
	e->hash = md_key_hash(e->name, e->keylen);
	e->in_new = in_new;
	e->d_type = d->d_type;
	e->ino = d->d_ino;
	sc->n++;
	return 0;
}

/* The stamp of one entry: from the cache when it may be trusted (DT_REG:
 * readdir already said it is a file), else fstatat().  1 drop it (not a
 * regular file), -1 vanished (renamed meanwhile). */
static int entry_stamp(struct scan *sc, int dfd, struct scan_ent *e)
{
	struct md_stamp st;
	struct stat sb;

	if (e->d_type == DT_REG &&
	    md_cache_stamp(sc->cache, e->name, e->keylen, e->hash, e->ino,
			   &st)) {
		e->size = (off_t)st.size;
		e->mtime_ns = st.mtime;
		e->verified_ns = sc->cache->verified;
		sc->trusted++;
		return 0;
	}
	sc->statted++;
	if (fstatat(dfd, e->name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (!S_ISREG(sb.st_mode))
		return 1;
	e->size = sb.st_size;
	e->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 +
		      sb.st_mtim.tv_nsec;
	/* e->ino stays d_ino, not st_ino: the cache compares it with a
	 * later readdir's */
	e->verified_ns = sc->t0;
	return 0;
}

/* Stamps for v[from..n), dropping what is not a file. */
static void resolve(struct scan *sc, int dfd, size_t from, bool *unstable)
{
	size_t w = from;

	for (size_t i = from; i < sc->n; i++) {
		int rc;

		if (i + AHEAD < sc->n)
			md_cache_prefetch(sc->cache, sc->v[i + AHEAD].hash,
					  false);
		if (i + AHEAD / 2 < sc->n)
			md_cache_prefetch(sc->cache,
					  sc->v[i + AHEAD / 2].hash, true);
		rc = entry_stamp(sc, dfd, &sc->v[i]);
		if (rc != 0) {
			if (rc < 0)
				*unstable = true;
			free(sc->v[i].name);
			continue;
		}
		sc->v[w++] = sc->v[i];
	}
	sc->n = w;
}

/* One of new/ cur/: its names first, then their stamps.  A file that
 * vanishes between readdir and stat was renamed by someone else:
 * *unstable asks the caller to scan again. */
static int scan_sub(const char *dir, const char *sub, struct scan *sc,
		    bool *unstable, struct pn_error *err)
{
	char path[4096], shown[400];
	size_t first = sc->n;
	struct dirent *e;
	int dfd;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || !(d = fdopendir(dfd))) {
		md_display_path(path, shown, sizeof(shown));
		if (dfd >= 0)
			close(dfd);
		return pn_error_errno(err, errno, "%s", shown);
	}
	while ((e = readdir(d))) {
		/* Not a file for sure (a directory, a symlink, a FIFO) */
		if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN)
			continue;
		if (!md_name_valid(e->d_name))
			continue;
		if (scan_push(sc, e, !strcmp(sub, "new")) < 0) {
			closedir(d);
			return pn_error_set(err, PN_ENOMEM, "out of memory");
		}
	}
	resolve(sc, dfd, first, unstable);
	closedir(d);
	return 0;
}

static int64_t dir_mtime(const char *dir, const char *sub)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (stat(path, &st) < 0)
		return -1;
	return (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

/* The uidlist is matched to the files through a hash of the key
 * (sorting 50,000 long, similar names was most of an open's CPU). */
static bool key_eq(const struct scan_ent *e, uint64_t hash, const char *key,
		   size_t keylen)
{
	return e->hash == hash && e->keylen == keylen &&
	       !memcmp(e->name, key, keylen);
}

/* Index the entries by key; a second file with a key already seen (the
 * same message twice) is marked dup.  cur/ entries go in first: with a
 * copy in each, the one in cur/ (with flags) is the message. */
static int scan_index(struct scan *sc)
{
	size_t size = 16;

	while (size < sc->n * 2)
		size *= 2;
	sc->hash = calloc(size, sizeof(*sc->hash));
	if (!sc->hash)
		return -1;
	sc->hmask = size - 1;
	for (size_t i = sc->n; i-- > 0;) {
		struct scan_ent *e = &sc->v[i];
		size_t h = e->hash & sc->hmask;

		while (sc->hash[h] && !key_eq(&sc->v[sc->hash[h] - 1],
					      e->hash, e->name, e->keylen))
			h = (h + 1) & sc->hmask;
		if (sc->hash[h])
			e->dup = true;
		else
			sc->hash[h] = (uint32_t)i + 1;
	}
	return 0;
}

/* new/ before cur/: a file moving new/ -> cur/ meanwhile is then seen in
 * cur/.  A directory that changed during the scan (a rename inside cur/
 * can hide a file from readdir) is scanned again. */
static int scan_folder(const char *dir, struct scan *sc, int max_tries,
		       struct pn_error *err)
{
	for (int tries = 1;; tries++) {
		int64_t n0 = dir_mtime(dir, "new"), c0 = dir_mtime(dir, "cur");
		bool unstable = false;

		scan_free(sc);
		sc->t0 = md_now_ns();
		if (scan_sub(dir, "new", sc, &unstable, err) < 0 ||
		    scan_sub(dir, "cur", sc, &unstable, err) < 0)
			return -1;
		if (tries < max_tries &&
		    (unstable || n0 != dir_mtime(dir, "new") ||
		     c0 != dir_mtime(dir, "cur")))
			continue;
		break;
	}
	if (scan_index(sc) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	return 0;
}

static struct scan_ent *scan_find(struct scan *sc, uint64_t hash,
				  const char *key, size_t keylen)
{
	size_t h = hash & sc->hmask;

	for (; sc->hash[h]; h = (h + 1) & sc->hmask)
		if (key_eq(&sc->v[sc->hash[h] - 1], hash, key, keylen))
			return &sc->v[sc->hash[h] - 1];
	return NULL;
}

/* Stage 0: the slot for hash; 1: the entry in it; 2: its name. */
static void scan_prefetch(const struct scan *sc, uint64_t hash, int stage)
{
	const uint32_t *slot = &sc->hash[hash & sc->hmask];

	if (stage == 0)
		__builtin_prefetch(slot);
	else if (*slot && stage == 1)
		__builtin_prefetch(&sc->v[*slot - 1]);
	else if (*slot && sc->v[*slot - 1].hash == hash)
		__builtin_prefetch(sc->v[*slot - 1].name);
}

/* ---- confirming what looks expunged ------------------------------------ */

/* readdir can miss a file that another process renames meanwhile (a flag
 * change by Dovecot, mutt or mblaze): on ext4 the new name may land in a
 * part of the hash order the scan has passed.  The mtime check in
 * scan_folder() does not always see it (the directory's mtime is coarse,
 * and a folder renamed in all the time never holds still), and a record
 * dropped by mistake is a message that Dovecot numbers again.  So a
 * record whose file is not in the scan is dropped only when two more
 * scans cannot find it either (the files they see that the first missed
 * are added to it); a real expunge costs those two scans. */
#define CONFIRM_SCANS 3

static size_t count_missing(const struct md_uidlist *old, struct scan *sc)
{
	size_t n = 0;

	for (size_t i = 0; i < old->n; i++) {
		const char *k = old->recs[i].key;

		if (!scan_find(sc, md_key_hash(k, strlen(k)), k, strlen(k)))
			n++;
	}
	return n;
}

/* Moves the entries of more whose key sc lacks into sc; how many. */
static ssize_t scan_absorb(struct scan *sc, struct scan *more)
{
	size_t added = 0;

	for (size_t i = 0; i < more->n; i++) {
		struct scan_ent *e = &more->v[i];

		if (e->dup || scan_find(sc, e->hash, e->name, e->keylen))
			continue;
		if (scan_room(sc) < 0)
			return -1;
		sc->v[sc->n++] = *e;
		e->name = NULL;
		added++;
	}
	if (!added)
		return 0;
	free(sc->hash);
	sc->hash = NULL;
	for (size_t i = 0; i < sc->n; i++)
		sc->v[i].dup = false;
	return scan_index(sc) < 0 ? -1 : (ssize_t)added;
}

static int confirm_missing(const char *dir, const struct md_uidlist *old,
			   struct scan *sc, struct pn_error *err)
{
	size_t missing = count_missing(old, sc);

	for (int i = 0; missing && i < CONFIRM_SCANS; i++) {
		struct scan more = { .cache = sc->cache };
		ssize_t added;

		if (scan_folder(dir, &more, 2, err) < 0) {
			scan_free(&more);
			return -1;
		}
		added = scan_absorb(sc, &more);
		scan_free(&more);
		if (added < 0)
			return pn_error_set(err, PN_ENOMEM, "out of memory");
		if (added)
			missing = count_missing(old, sc);
		else if (i > 0)
			break;	/* missed by three scans: gone */
	}
	return 0;
}

/* ---- matching the uidlist ----------------------------------------------- */

static int time_order(const void *a, const void *b)
{
	const struct scan_ent *const *x = a, *const *y = b;

	return md_name_time_cmp((*x)->name, (*y)->name);
}

/* Drops the records give_way() marked (UID 0), keeping map in step. */
static void drop_given_way(struct md_uidlist *out, struct scan_ent **map)
{
	size_t w = 0;

	for (size_t i = 0; i < out->n; i++) {
		if (!out->recs[i].uid)
			continue;
		out->recs[w] = out->recs[i];
		map[w] = map[i];
		map[w]->rec = w;
		w++;
	}
	out->n = w;
}

/* A file named twice in the uidlist (Dovecot gave it a new UID and kept
 * the old line, "Duplicate file entry"): the later record wins, as in
 * Dovecot, which deletes the old UID.  Keeping the earlier one would
 * make Dovecot number the message yet again. */
static void give_way(const struct md_folder *f, struct md_uidlist *out,
		     struct scan_ent *e, uint32_t later)
{
	struct md_uid_rec *earlier = &out->recs[e->rec];
	char shown[400];

	md_display_path(f->path, shown, sizeof(shown));
	md_warn(f->store, "%s: dovecot-uidlist names %s twice (UIDs %u and "
		"%u): UID %u is the message's, as in Dovecot", shown,
		earlier->key, earlier->uid, later, later);

	free(earlier->key);
	free(earlier->ext);
	earlier->key = earlier->ext = NULL;
	earlier->uid = 0;
}

/* Keep the records whose file exists, in UID order; map[i] is the scan
 * entry of out->recs[i].  Sets *dropped when a record had no file or
 * gave way to a later one for the same file. */
static int keep_existing(const struct md_folder *f, struct md_uidlist *old,
			 struct scan *sc, struct md_uidlist *out,
			 struct scan_ent **map, bool *dropped, size_t *gone)
{
	uint64_t ahead[AHEAD];
	bool gave_way = false;

	for (size_t i = 0; i < old->n && i < AHEAD; i++)
		ahead[i] = md_key_hash(old->recs[i].key,
				       strlen(old->recs[i].key));
	for (size_t i = 0; i < old->n; i++) {
		struct md_uid_rec *r = &old->recs[i];
		uint64_t hash = ahead[i % AHEAD];
		struct scan_ent *e;

		if (i + AHEAD < old->n) {
			const char *k = old->recs[i + AHEAD].key;

			ahead[i % AHEAD] = md_key_hash(k, strlen(k));
			scan_prefetch(sc, ahead[i % AHEAD], 0);
		}
		if (i + AHEAD / 2 < old->n)
			scan_prefetch(sc, ahead[(i + AHEAD / 2) % AHEAD], 1);
		if (i + AHEAD / 4 < old->n)
			scan_prefetch(sc, ahead[(i + AHEAD / 4) % AHEAD], 2);
		e = scan_find(sc, hash, r->key, strlen(r->key));

		if (!e) {
			*dropped = true;
			++*gone;
			continue;
		}
		if (e->taken) {
			give_way(f, out, e, r->uid);
			*dropped = gave_way = true;
		}
		e->taken = true;
		e->rec = out->n;
		map[out->n] = e;
		/* the old list is thrown away: move its strings over */
		if (md_uidlist_push_owned(out, r->uid, r->key, r->ext) < 0) {
			r->key = r->ext = NULL;
			return -1;
		}
		r->key = r->ext = NULL;
	}
	if (gave_way)
		drop_given_way(out, map);
	return 0;
}

/* Give the files without a record the next UIDs: by delivery time, the
 * file named extra_key last (we just delivered it; another writer's
 * files that arrived meanwhile come first, as Dovecot would number them).
 * Duplicate keys (one message twice) get no second UID. */
static int assign_new(struct scan *sc, const char *extra_key,
		      struct md_uidlist *out, struct scan_ent **map,
		      size_t *assigned)
{
	struct scan_ent **fresh = malloc((sc->n + 1) * sizeof(*fresh));
	size_t nf = 0, extra = SIZE_MAX;

	if (!fresh)
		return -1;
	for (size_t i = 0; i < sc->n; i++) {
		if (sc->v[i].taken || sc->v[i].dup)
			continue;
		if (extra_key && strlen(extra_key) == sc->v[i].keylen &&
		    !memcmp(extra_key, sc->v[i].name, sc->v[i].keylen)) {
			extra = i;
			continue;
		}
		fresh[nf++] = &sc->v[i];
	}
	qsort(fresh, nf, sizeof(*fresh), time_order);
	if (extra != SIZE_MAX)
		fresh[nf++] = &sc->v[extra];
	for (size_t i = 0; i < nf; i++) {
		fresh[i]->taken = true;
		map[out->n] = fresh[i];
		if (md_uidlist_push(out, out->next_uid++, fresh[i]->name,
				    fresh[i]->keylen, NULL) < 0) {
			free(fresh);
			return -1;
		}
	}
	*assigned = nf;
	free(fresh);
	return 0;
}

/* From the uidlist as read (old) and a scan: the uidlist to keep. */
static int merge(const struct md_folder *f, struct md_uidlist *old,
		 struct scan *sc,
		 const char *extra_key, struct md_uidlist *out,
		 struct scan_ent ***map_out, bool *dirty, size_t *gone)
{
	/* before drop_given_way(), a file named twice has two slots */
	struct scan_ent **map = malloc((sc->n + old->n + 1) * sizeof(*map));
	bool dropped = false;
	size_t assigned = 0;

	*map_out = map;
	if (!map)
		return -1;
	md_uidlist_clear(out);
	out->version = 3;
	out->uidvalidity = old->uidvalidity;
	out->next_uid = old->next_uid ? old->next_uid : 1;
	memcpy(out->guid, old->guid, sizeof(out->guid));
	if (!out->guid[0])
		md_uidlist_new_guid(out->guid);	/* as Dovecot adds one */
	if (old->extra_hdr && !(out->extra_hdr = strdup(old->extra_hdr)))
		return -1;
	if (keep_existing(f, old, sc, out, map, &dropped, gone) < 0 ||
	    assign_new(sc, extra_key, out, map, &assigned) < 0)
		return -1;
	*dirty = dropped || assigned || old->version != 3 || !old->guid[0];
	return 0;
}

/* ---- building the message table ----------------------------------------- */

static void msgs_free(struct md_msg *msgs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(msgs[i].name);
		free(msgs[i].kwv);
		free(msgs[i].ext);
	}
	free(msgs);
}

/* Fill m's public view from its file name (flags, keywords, size). */
static int msg_refresh(struct md_folder *f, struct md_msg *m)
{
	struct md_name nm;
	size_t nk = 0;

	if (md_name_parse(m->name, &nm) < 0)
		memset(&nm, 0, sizeof(nm));
	free(m->kwv);
	m->kwv = NULL;
	if (nm.keyword_bits) {
		m->kwv = calloc(MD_KEYWORDS_MAX, sizeof(*m->kwv));
		if (!m->kwv)
			return -1;
		for (int i = 0; i < MD_KEYWORDS_MAX; i++)
			if ((nm.keyword_bits & (1u << i)) && f->kw.names[i])
				m->kwv[nk++] = f->kw.names[i];
	}
	m->keylen = md_name_keylen(m->name);
	m->pub.filename = m->name;
	m->pub.flags = nm.flags;
	m->pub.keywords = m->kwv;
	m->pub.nkeywords = nk;
	m->pub.size = nm.size ? nm.size : (uint64_t)m->file_size;
	return 0;
}

static int build_msgs(struct md_folder *f, const struct md_uidlist *ul,
		      struct scan_ent **map, struct md_msg **out)
{
	struct md_msg *msgs = calloc(ul->n + 1, sizeof(*msgs));

	if (!msgs)
		return -1;
	for (size_t i = 0; i < ul->n; i++) {
		struct md_msg *m = &msgs[i];

		m->name = map[i]->name;
		map[i]->name = NULL;	/* now ours */
		m->file_size = map[i]->size;
		m->mtime_ns = map[i]->mtime_ns;
		m->ino = map[i]->ino;
		m->verified_ns = map[i]->verified_ns;
		m->pub.uid = ul->recs[i].uid;
		m->pub.in_new = map[i]->in_new;
		m->pub.received = (time_t)(m->mtime_ns / 1000000000);
		if ((ul->recs[i].ext && !(m->ext = strdup(ul->recs[i].ext))) ||
		    msg_refresh(f, m) < 0) {
			msgs_free(msgs, i + 1);
			return -1;
		}
	}
	*out = msgs;
	return 0;
}

static bool msgs_differ(const struct md_msg *a, size_t na,
			const struct md_msg *b, size_t nb)
{
	if (na != nb)
		return true;
	for (size_t i = 0; i < na; i++)
		if (a[i].pub.uid != b[i].pub.uid ||
		    strcmp(a[i].name, b[i].name) ||
		    a[i].pub.in_new != b[i].pub.in_new)
			return true;
	return false;
}

/* ---- syncing with the disk ---------------------------------------------- */

/* Read-only UIDs live in f->ul only: carry those above what the file
 * knows into the next merge, so a rescan keeps them. */
static int carry_memory_uids(const struct md_folder *f, struct md_uidlist *ul)
{
	for (size_t i = 0; i < f->ul.n; i++) {
		const struct md_uid_rec *r = &f->ul.recs[i];

		if (r->uid < ul->next_uid)
			continue;
		if (md_uidlist_push(ul, r->uid, r->key, strlen(r->key),
				    r->ext) < 0)
			return -1;
		ul->next_uid = r->uid + 1;
	}
	return 0;
}

static int read_old(struct md_folder *f, struct md_uidlist *old, bool locked,
		    bool *exists, struct pn_error *err)
{
	if (md_uidlist_read(f->path, old, locked, exists, err) < 0)
		return -1;
	if (!*exists) {
		md_uidlist_init_new(old);
		if (f->read_only && f->ul.uidvalidity) {
			old->uidvalidity = f->ul.uidvalidity;
			memcpy(old->guid, f->ul.guid, sizeof(old->guid));
		}
	}
	if (f->read_only && carry_memory_uids(f, old) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	return 0;
}

struct loaded {
	struct md_uidlist ul;
	struct scan sc;
	struct scan_ent **map;
	bool dirty, exists;
	size_t gone;		/* records without a file */
};

static void loaded_free(struct loaded *l)
{
	md_uidlist_clear(&l->ul);
	scan_free(&l->sc);
	free(l->map);
	memset(l, 0, sizeof(*l));
}

static void drop_cache(struct md_folder *f)
{
	if (f->cache) {
		md_cache_free(f->cache);
		free(f->cache);
		f->cache = NULL;
	}
}

/* The cache whose stamps a scan may take (md_cache_stamp): loaded once
 * per sync, for the uidlist's UIDVALIDITY (a folder without a uidlist has
 * no cache worth reading).  It is never required: failing to read it,
 * even for want of memory, only means stat'ing every file. */
static void load_cache(struct md_folder *f, const struct md_uidlist *ul,
		       bool exists)
{
	int dfd;

	if (f->cache && f->cache->uidvalidity == ul->uidvalidity)
		return;
	drop_cache(f);
	if (!exists || !(f->cache = calloc(1, sizeof(*f->cache))))
		return;
	dfd = open(f->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || md_cache_load(f->cache, dfd, ul->uidvalidity,
				     NULL) < 0) {
		free(f->cache);
		f->cache = NULL;
	}
	if (dfd >= 0)
		close(dfd);
}

static int load(struct md_folder *f, const char *extra_key, bool locked,
		struct loaded *l, struct pn_error *err)
{
	struct md_uidlist old = { 0 };
	int rc = -1;

	loaded_free(l);
	if (read_old(f, &old, locked, &l->exists, err) < 0)
		goto out;
	load_cache(f, &old, l->exists);
	l->sc.cache = f->cache;
	if (scan_folder(f->path, &l->sc, 20, err) < 0 ||
	    confirm_missing(f->path, &old, &l->sc, err) < 0)
		goto out;
	if (merge(f, &old, &l->sc, extra_key, &l->ul, &l->map, &l->dirty,
		  &l->gone) < 0) {
		pn_error_set(err, PN_ENOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	md_uidlist_clear(&old);
	return rc;
}

static int write_locked(struct md_folder *f, const char *extra_key,
			const struct md_locked_hook *hook, struct loaded *l,
			struct pn_error *err)
{
	struct md_dotlock lock;
	struct pn_buf b;
	int rc;

	if (md_dotlock_take(f->path, MD_UIDLIST, f->store->lock_timeout_ms,
			    &lock, err) < 0)
		return -1;
	if ((hook && hook->fn(hook->ctx, err) < 0) ||
	    load(f, extra_key, true, l, err) < 0) {
		md_dotlock_release(&lock);
		return -1;
	}
	pn_buf_init(&b, (size_t)1 << 30);
	if (md_uidlist_format(&l->ul, &b) < 0) {
		pn_buf_free(&b);
		md_dotlock_release(&lock);
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	}
	rc = md_dotlock_commit(&lock, b.data, b.len, err);
	pn_buf_free(&b);
	return rc;
}

static int install(struct md_folder *f, struct loaded *l, bool *changed_out,
		   struct pn_error *err)
{
	struct md_msg *msgs;

	if (build_msgs(f, &l->ul, l->map, &msgs) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	if (changed_out)
		*changed_out = msgs_differ(f->msgs, f->n, msgs, l->ul.n) ||
			       f->ul.uidvalidity != l->ul.uidvalidity;
	msgs_free(f->msgs, f->n);
	f->msgs = msgs;
	f->n = l->ul.n;
	f->scan_statted = l->sc.statted;
	f->scan_trusted = l->sc.trusted;
	f->records_gone += l->gone;
	md_uidlist_clear(&f->ul);
	f->ul = l->ul;
	memset(&l->ul, 0, sizeof(l->ul));
	return 0;
}

int md_folder_sync_locked(struct md_folder *f, const char *extra_key,
			  const struct md_locked_hook *hook, bool force_write,
			  bool *changed_out, struct pn_error *err)
{
	struct loaded l = { 0 };
	struct md_keywords kw = { { 0 } };
	int rc = -1;

	/* The file may have been written since the last scan (by our own
	 * md_folder_index, for one): read it again. */
	drop_cache(f);
	/* Look without the lock first: most opens have nothing to write. */
	if (!hook && load(f, extra_key, false, &l, err) < 0)
		goto out;
	if (!f->read_only &&
	    (hook || l.dirty || force_write || !l.exists) &&
	    write_locked(f, extra_key, hook, &l, err) < 0)
		goto out;
	if (md_keywords_read(f->path, &kw, err) < 0)
		goto out;
	/* messages point into the old table until install() replaces them */
	struct md_keywords old_kw = f->kw;

	f->kw = kw;
	if (install(f, &l, changed_out, err) < 0) {
		f->kw = old_kw;
		md_keywords_clear(&kw);
		goto out;
	}
	md_keywords_clear(&old_kw);
	rc = 0;
out:
	loaded_free(&l);
	return rc;
}

int md_folder_sync(struct md_folder *f, const char *extra_key,
		   bool force_write, bool *changed_out, struct pn_error *err)
{
	return md_folder_sync_locked(f, extra_key, NULL, force_write,
				     changed_out, err);
}

/* ---- opening ------------------------------------------------------------ */

/* The Maildir spec: a file in tmp/ untouched for 36 hours is a delivery
 * that died; it may be removed (Dovecot does so too). */
#define TMP_STALE_SECS (36 * 60 * 60)

static void clean_tmp(const char *dir)
{
	char path[4096];
	struct dirent *e;
	time_t now = time(NULL);
	int dfd;
	DIR *d;

	snprintf(path, sizeof(path), "%s/tmp", dir);
	d = opendir(path);
	if (!d)
		return;
	dfd = dirfd(d);
	while ((e = readdir(d))) {
		struct stat st;

		if (e->d_name[0] == '.' ||
		    fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (now - st.st_atime > TMP_STALE_SECS &&
		    now - st.st_mtime > TMP_STALE_SECS)
			unlinkat(dfd, e->d_name, 0);
	}
	closedir(d);
}

int md_folder_open(struct md_store *s, const char *name, bool read_only,
		   struct md_folder **out, struct pn_error *err)
{
	struct md_folder *f;
	char shown[400];

	*out = NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	f->store = s;
	f->read_only = read_only || s->read_only;
	f->name = strdup(name);
	f->path = md_store_folder_path(s, name, err);
	if (!f->name || !f->path) {
		if (f->path)
			pn_error_set(err, PN_ENOMEM, "out of memory");
		goto fail;
	}
	if (!md_is_maildir(f->path)) {
		md_display_path(f->path, shown, sizeof(shown));
		pn_error_set(err, PN_ENOTFOUND,
			     "%s: no such folder (no cur/ new/ tmp/)", shown);
		goto fail;
	}
	if (md_folder_sync(f, NULL, false, NULL, err) < 0)
		goto fail;
	if (!f->read_only)
		clean_tmp(f->path);
	*out = f;
	return 0;
fail:
	md_folder_free(&f);
	return -1;
}

void md_folder_free(struct md_folder **fp)
{
	struct md_folder *f = fp ? *fp : NULL;

	if (!f)
		return;
	drop_cache(f);
	msgs_free(f->msgs, f->n);
	md_uidlist_clear(&f->ul);
	md_keywords_clear(&f->kw);
	free(f->name);
	free(f->path);
	free(f);
	*fp = NULL;
}

uint32_t md_folder_uidvalidity(const struct md_folder *f)
{
	return f->ul.uidvalidity;
}

uint32_t md_folder_uidnext(const struct md_folder *f)
{
	return f->ul.next_uid;
}

size_t md_folder_count(const struct md_folder *f)
{
	return f->n;
}

const struct md_message *md_folder_message(const struct md_folder *f,
					   size_t i)
{
	return i < f->n ? &f->msgs[i].pub : NULL;
}

struct md_msg *md_folder_find(struct md_folder *f, uint32_t uid)
{
	size_t lo = 0, hi = f->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->msgs[mid].pub.uid == uid)
			return &f->msgs[mid];
		if (f->msgs[mid].pub.uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct md_message *md_folder_by_uid(const struct md_folder *f,
					  uint32_t uid)
{
	struct md_msg *m = md_folder_find((struct md_folder *)f, uid);

	return m ? &m->pub : NULL;
}

int md_folder_rescan(struct md_folder *f, bool *changed_out,
		     struct pn_error *err)
{
	bool changed = false;

	if (md_folder_sync(f, NULL, false, &changed, err) < 0)
		return -1;
	if (changed_out)
		*changed_out = changed;
	return 0;
}

const char *md_folder_path(const struct md_folder *f)
{
	return f->path;
}

/* ---- messages ----------------------------------------------------------- */

char *md_msg_path(const struct md_folder *f, const struct md_msg *m)
{
	char *p;

	if (asprintf(&p, "%s/%s/%s", f->path, m->pub.in_new ? "new" : "cur",
		     m->name) < 0)
		return NULL;
	return p;
}

static bool same_key(const char *name, const char *key, size_t keylen)
{
	return md_name_keylen(name) == keylen && !memcmp(name, key, keylen);
}

/* Look for key in one of new/ cur/: 1 found (*name_out malloc'd, its
 * d_ino in *ino_out). */
static int find_in(const char *dir, const char *sub, const char *key,
		   size_t keylen, char **name_out, uint64_t *ino_out)
{
	char path[4096];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] != '.' && same_key(e->d_name, key, keylen)) {
			*name_out = strdup(e->d_name);
			*ino_out = e->d_ino;
			closedir(d);
			return *name_out ? 1 : -1;
		}
	}
	closedir(d);
	return 0;
}

int md_msg_relocate(struct md_folder *f, struct md_msg *m,
		    struct pn_error *err)
{
	char *name = NULL, *path;
	bool in_new = false;
	uint64_t ino = 0;
	struct stat st;
	int64_t t0;
	int rc;

	/* cur/ first: another writer renames new/ -> cur/, never back */
	rc = find_in(f->path, "cur", m->name, m->keylen, &name, &ino);
	if (rc == 0) {
		rc = find_in(f->path, "new", m->name, m->keylen, &name, &ino);
		in_new = true;
	}
	if (rc <= 0)
		return pn_error_set(err, PN_ENOTFOUND,
				    "UID %u: the message is gone (%.*s expunged "
				    "by another program)", m->pub.uid,
				    (int)m->keylen, m->name);
	free(m->name);
	m->name = name;
	m->pub.in_new = in_new;
	path = md_msg_path(f, m);
	t0 = md_now_ns();
	if (path && stat(path, &st) == 0) {
		m->file_size = st.st_size;
		m->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
			      st.st_mtim.tv_nsec;
		m->pub.received = st.st_mtim.tv_sec;
		m->ino = ino;
		m->verified_ns = t0;
	}
	free(path);
	if (msg_refresh(f, m) < 0)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	return 0;
}

static struct md_msg *need_msg(struct md_folder *f, uint32_t uid,
			       struct pn_error *err)
{
	struct md_msg *m = md_folder_find(f, uid);

	if (!m)
		pn_error_set(err, PN_ENOTFOUND, "UID %u: no such message", uid);
	return m;
}

int md_message_open(struct md_folder *f, uint32_t uid, int *fd_out,
		    struct pn_error *err)
{
	struct md_msg *m = need_msg(f, uid, err);
	char shown[400];

	*fd_out = -1;
	if (!m)
		return -1;
	for (int tries = 0; tries < 5; tries++) {
		char *path = md_msg_path(f, m);
		int fd, e;

		if (!path)
			return pn_error_set(err, PN_ENOMEM, "out of memory");
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		e = errno;
		md_display_path(path, shown, sizeof(shown));
		free(path);
		if (fd >= 0) {
			*fd_out = fd;
			return 0;
		}
		if (e != ENOENT)
			return pn_error_errno(err, e, "%s", shown);
		if (md_msg_relocate(f, m, err) < 0)
			return -1;
	}
	return pn_error_set(err, PN_EIO, "UID %u: the file keeps moving", uid);
}

static int refresh_all(struct md_folder *f, struct pn_error *err)
{
	for (size_t i = 0; i < f->n; i++)
		if (msg_refresh(f, &f->msgs[i]) < 0)
			return pn_error_set(err, PN_ENOMEM, "out of memory");
	return 0;
}

/* Names not yet in the table are added under dovecot-keywords.lock. */
static int add_keywords(struct md_folder *f, const char *const *names,
			size_t n, struct pn_error *err)
{
	struct md_keywords kw = { { 0 } }, old = f->kw;

	if (md_keywords_update(f->path, names, n, f->store->lock_timeout_ms,
			       &kw, err) < 0) {
		md_keywords_clear(&kw);
		return -1;
	}
	f->kw = kw;
	if (refresh_all(f, err) < 0)
		return -1;
	md_keywords_clear(&old);
	return 0;
}

int md_folder_keyword_bits(struct md_folder *f, const char *const *names,
			   size_t n, bool create, uint32_t *bits_out,
			   struct pn_error *err)
{
	uint32_t bits = 0;
	bool missing = false;

	for (size_t i = 0; i < n; i++)
		if (md_keywords_find(&f->kw, names[i]) < 0)
			missing = true;
	if (missing && create && add_keywords(f, names, n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int k = md_keywords_find(&f->kw, names[i]);

		if (k >= 0)
			bits |= 1u << k;
	}
	*bits_out = bits;
	return 0;
}

static int refuse_read_only(const struct md_folder *f, struct pn_error *err)
{
	char shown[400];

	md_display_path(f->path, shown, sizeof(shown));
	return pn_error_set(err, PN_EINVAL, "%s: opened read-only", shown);
}

/* The name m should have: its key, then ":2," and the new info. */
static int wanted_name(const struct md_msg *m, unsigned add, unsigned remove,
		       uint32_t kw_add, uint32_t kw_remove, char *out,
		       size_t outsz)
{
	struct md_name nm;
	const char *old_info = NULL;
	char info[128];

	if (md_name_parse(m->name, &nm) < 0)
		memset(&nm, 0, sizeof(nm));
	if (nm.has_info)
		old_info = m->name + m->keylen + 3;
	if (md_info_format((nm.flags | add) & ~remove,
			   (nm.keyword_bits | kw_add) & ~kw_remove, old_info,
			   info, sizeof(info)) < 0)
		return -1;
	if (m->keylen + strlen(info) + 1 > outsz)
		return -1;
	memcpy(out, m->name, m->keylen);
	strcpy(out + m->keylen, info);
	return 0;
}

static int rename_to(struct md_folder *f, struct md_msg *m,
		     const char *newname)
{
	char *from = md_msg_path(f, m), *to = NULL, *dup = strdup(newname);
	int rc = -1;

	if (from && dup && asprintf(&to, "%s/cur/%s", f->path, newname) >= 0) {
		rc = rename(from, to);
	} else {
		to = NULL;	/* undefined after a failed asprintf */
		errno = ENOMEM;
	}
	if (rc == 0) {
		free(m->name);
		m->name = dup;
		dup = NULL;
		m->pub.in_new = false;
	}
	free(dup);
	free(from);
	free(to);
	return rc;
}

int md_message_set_flags(struct md_folder *f, uint32_t uid, unsigned add,
			 unsigned remove, const char *const *kw_add,
			 size_t nkw_add, const char *const *kw_remove,
			 size_t nkw_remove, struct pn_error *err)
{
	uint32_t kwa = 0, kwr = 0;
	struct md_msg *m;
	char name[512];

	if (f->read_only)
		return refuse_read_only(f, err);
	if (md_folder_keyword_bits(f, kw_add, nkw_add, true, &kwa, err) < 0 ||
	    md_folder_keyword_bits(f, kw_remove, nkw_remove, false, &kwr,
				   err) < 0)
		return -1;
	if (!(m = need_msg(f, uid, err)))
		return -1;
	for (int tries = 0; tries < 10; tries++) {
		if (wanted_name(m, add, remove, kwa, kwr, name,
				sizeof(name)) < 0)
			return pn_error_set(err, PN_ELIMIT,
					    "UID %u: file name too long", uid);
		if (!m->pub.in_new && !strcmp(name, m->name))
			return msg_refresh(f, m) < 0 ?
				pn_error_set(err, PN_ENOMEM, "out of memory") : 0;
		if (rename_to(f, m, name) == 0)
			return msg_refresh(f, m) < 0 ?
				pn_error_set(err, PN_ENOMEM, "out of memory") : 0;
		if (errno != ENOENT)
			return pn_error_errno(err, errno, "UID %u: rename %s",
					      uid, m->name);
		/* renamed by another writer: its flags are the base now */
		if (md_msg_relocate(f, m, err) < 0)
			return -1;
	}
	return pn_error_set(err, PN_EIO, "UID %u: the file keeps moving", uid);
}

/* Remove m's file wherever it went; gone already is fine (someone else
 * expunged it). */
static int unlink_msg(struct md_folder *f, struct md_msg *m,
		      struct pn_error *err)
{
	for (int tries = 0; tries < 10; tries++) {
		char *path = md_msg_path(f, m), shown[400];
		int rc = path ? unlink(path) : -1, e = path ? errno : ENOMEM;

		if (rc < 0 && e != ENOENT) {
			md_display_path(path ? path : f->path, shown,
					sizeof(shown));
			free(path);
			return pn_error_errno(err, e, "%s", shown);
		}
		free(path);
		if (rc == 0 || md_msg_relocate(f, m, NULL) < 0)
			return 0;
	}
	return pn_error_set(err, PN_EIO, "UID %u: the file keeps moving",
			    m->pub.uid);
}

int md_folder_expunge(struct md_folder *f, const uint32_t *uids, size_t n,
		      struct pn_error *err)
{
	if (f->read_only)
		return refuse_read_only(f, err);
	for (size_t i = 0; i < n; i++)
		if (!need_msg(f, uids[i], err))
			return -1;
	for (size_t i = 0; i < n; i++)
		if (unlink_msg(f, md_folder_find(f, uids[i]), err) < 0) {
			/* what was removed must leave the uidlist too */
			if (md_folder_sync(f, NULL, true, NULL, NULL) < 0)
				pn_error_prefix(err, "(uidlist not rewritten)");
			return -1;
		}
	return md_folder_sync(f, NULL, true, NULL, err);
}
