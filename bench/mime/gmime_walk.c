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
 * into a GChecksum, without building the decoded part in memory.
 *
 * usage: gmime_walk [-f] [-v] LIST    (LIST: one path a line, - for stdin)
 *   -f  read through GMimeStreamFs instead of mmap
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

struct totals {
	unsigned long messages;
	unsigned long failed;
	unsigned long leaves;
	unsigned long long decoded;
};

static int verbose;
static int use_fs;

static void hash_leaf(GMimePart *part, struct totals *t)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	unsigned long long size = 0;
	char buf[64 * 1024];
	ssize_t n;

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
			g_checksum_update(sum, (const guchar *)buf, (gsize)n);
			size += (unsigned long long)n;
		}
		g_object_unref(in);
	}
	if (verbose)
		printf("%llu %s\n", size, g_checksum_get_string(sum));
	g_checksum_free(sum);
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

	while ((opt = getopt(argc, argv, "fv")) != -1) {
		if (opt == 'f')
			use_fs = 1;
		else if (opt == 'v')
			verbose = 1;
		else
			return 2;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: gmime_walk [-f] [-v] LIST\n");
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
