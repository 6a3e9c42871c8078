/* gmime_walk.c - the GMime 3 side of the MIME benchmark.
 *
 * Does what `postern mime tree --json --files-from LIST` does, with GMime:
 * parse each message, walk every part (into attached messages too),
 * transfer-decode every leaf and SHA-256 it.  Built only by bench/ (never
 * part of postern).
 *
 * Fairness: the parser reads from an mmap stream (GMime's fastest input,
 * or a GMimeStreamFs with -f) and keeps bodies as substreams of it, so
 * like postern nothing is copied until a leaf is decoded; decoding streams
 * through GMime's own basic filter (base64, quoted-printable, uuencode)
 * into a SHA-256, without building the decoded part in memory.  The hash
 * is GChecksum's by default; -o uses OpenSSL's, the one postern links, so
 * that the comparison is about MIME and not about SHA-256 code.
 *
 * usage: gmime_walk [-f] [-n] [-o] [-v] LIST  (LIST: one path a line, - for stdin)
 *   -f  read through GMimeStreamFs instead of mmap
 *   -n  decode but do not hash (shows what the hash costs)
 *   -o  hash with OpenSSL's SHA-256 (what postern links) instead of
 *       GChecksum, whose portable SHA-256 is several times slower and would
 *       otherwise dominate GMime's time
 *   -v  print "size sha256" for every leaf (to compare with postern)
 * Prints a one-line summary (messages, leaves, decoded bytes) on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmime/gmime.h>
#include <openssl/evp.h>

struct totals {
	unsigned long messages;
	unsigned long failed;
	unsigned long leaves;
	unsigned long long decoded;
};

static int verbose;
static int use_fs;
static int no_hash;
static int use_openssl;

/* One SHA-256, GChecksum's or OpenSSL's. */
struct hasher {
	GChecksum *g;
	EVP_MD_CTX *o;
};

static void hasher_init(struct hasher *h)
{
	h->g = NULL;
	h->o = NULL;
	if (use_openssl) {
		h->o = EVP_MD_CTX_new();
		EVP_DigestInit_ex(h->o, EVP_sha256(), NULL);
	} else {
		h->g = g_checksum_new(G_CHECKSUM_SHA256);
	}
}

static void hasher_update(struct hasher *h, const char *data, size_t len)
{
	if (no_hash)
		return;
	if (h->o)
		EVP_DigestUpdate(h->o, data, len);
	else
		g_checksum_update(h->g, (const guchar *)data, (gssize)len);
}

/* Hex digest into out[65]; frees the hasher. */
static void hasher_end(struct hasher *h, char *out)
{
	if (h->o) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int n = 0, i;

		EVP_DigestFinal_ex(h->o, md, &n);
		for (i = 0; i < n && i < 32; i++)
			sprintf(out + 2 * i, "%02x", md[i]);
		EVP_MD_CTX_free(h->o);
	} else {
		snprintf(out, 65, "%s", g_checksum_get_string(h->g));
		g_checksum_free(h->g);
	}
}

static void hash_leaf(GMimePart *part, struct totals *t)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	struct hasher h;
	unsigned long long size = 0;
	char buf[64 * 1024], hex[65] = "";
	ssize_t n;

	hasher_init(&h);
	if (content != NULL) {
		GMimeStream *raw = g_mime_data_wrapper_get_stream(content);
		GMimeContentEncoding enc =
			g_mime_data_wrapper_get_encoding(content);
		GMimeStream *in = g_mime_stream_filter_new(raw);
		GMimeFilter *dec = NULL;

		g_mime_stream_reset(raw);
		switch (enc) {
		case GMIME_CONTENT_ENCODING_BASE64:
		case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
		case GMIME_CONTENT_ENCODING_UUENCODE:
			dec = g_mime_filter_basic_new(enc, FALSE);
			g_mime_stream_filter_add(GMIME_STREAM_FILTER(in), dec);
			g_object_unref(dec);
			break;
		default:
			break;
		}
		while ((n = g_mime_stream_read(in, buf, sizeof buf)) > 0) {
			hasher_update(&h, buf, (size_t)n);
			size += (unsigned long long)n;
		}
		g_object_unref(in);
	}
	hasher_end(&h, hex);
	if (verbose)
		printf("%llu %s\n", size, hex);
	t->leaves++;
	t->decoded += size;
}

static void walk(GMimeObject *obj, struct totals *t)
{
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int i, count = g_mime_multipart_get_count(mp);

		for (i = 0; i < count; i++)
			walk(g_mime_multipart_get_part(mp, i), t);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *msg =
			g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		if (msg != NULL && g_mime_message_get_mime_part(msg) != NULL)
			walk(g_mime_message_get_mime_part(msg), t);
	} else if (GMIME_IS_PART(obj)) {
		hash_leaf(GMIME_PART(obj), t);
	}
}

static GMimeStream *open_stream(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	if (!use_fs && fstat(fd, &st) == 0 && st.st_size > 0) {
		GMimeStream *s = g_mime_stream_mmap_new(fd, PROT_READ,
							 MAP_PRIVATE);
		if (s != NULL)
			return s;	/* owns fd */
	}
	return g_mime_stream_fs_new(fd);
}

static void one_file(const char *path, struct totals *t)
{
	GMimeStream *stream = open_stream(path);
	GMimeParser *parser;
	GMimeMessage *msg;

	if (stream == NULL) {
		fprintf(stderr, "gmime_walk: %s: %s\n", path, strerror(errno));
		t->failed++;
		return;
	}
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_persist_stream(parser, TRUE);
	msg = g_mime_parser_construct_message(parser, NULL);
	if (msg == NULL) {
		fprintf(stderr, "gmime_walk: %s: not parsed\n", path);
		t->failed++;
	} else {
		if (g_mime_message_get_mime_part(msg) != NULL)
			walk(g_mime_message_get_mime_part(msg), t);
		t->messages++;
		g_object_unref(msg);
	}
	g_object_unref(parser);
	g_object_unref(stream);
}

int main(int argc, char **argv)
{
	struct totals t = { 0 };
	FILE *list;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int opt;

	while ((opt = getopt(argc, argv, "fnov")) != -1) {
		if (opt == 'f')
			use_fs = 1;
		else if (opt == 'n')
			no_hash = 1;
		else if (opt == 'o')
			use_openssl = 1;
		else if (opt == 'v')
			verbose = 1;
		else
			return 2;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: gmime_walk [-f] [-n] [-o] [-v] LIST\n");
		return 2;
	}
	list = strcmp(argv[optind], "-") == 0 ? stdin : fopen(argv[optind], "r");
	if (list == NULL) {
		fprintf(stderr, "gmime_walk: %s: %s\n", argv[optind],
			strerror(errno));
		return 1;
	}
	g_mime_init();
	while ((len = getline(&line, &cap, list)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0)
			one_file(line, &t);
	}
	free(line);
	if (list != stdin)
		fclose(list);
	g_mime_shutdown();
	fprintf(stderr, "gmime_walk: %lu messages (%lu failed), %lu leaves, "
		"%llu bytes decoded\n", t.messages, t.failed, t.leaves,
		t.decoded);
	return t.failed ? 1 : 0;
}
