/* fuzz_maildir.c - libFuzzer target for maildir/'s parsers of untrusted
 * bytes: the header-block reader behind the index, and the cache file
 * loader (a cache is ours, but anyone who can write the folder can write
 * it, and a torn write must never be trusted).
 *
 * The first byte picks the parser.  For the cache, half the inputs get a
 * forged valid header (magic, version, lengths, checksum) so the fuzzer
 * reaches the record checks behind the checksum.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../maildir/cache_p.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static char dir[] = "/tmp/fuzz-maildir-XXXXXX";
static int dirfd = -1;

static void fuzz_header(const uint8_t *in, size_t len)
{
	char *buf = malloc(len + 1);
	struct md_hvalues v;

	memcpy(buf, in, len);
	buf[len] = '\0';
	md_header_parse(buf, len, &v);
	for (int i = 0; i < MD_HF_COUNT; i++)
		CHECK(!v.v[i] || (strlen(v.v[i]) <= v.len[i] && v.v[i][v.len[i]] == 0));
	free(buf);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void fuzz_cache(const uint8_t *in, size_t len, bool forge)
{
	uint8_t *buf = malloc(len + 32);
	struct md_cache c;
	struct md_hvalues v;
	uint32_t hint = 0;
	int fd;

	memcpy(buf, in, len);
	if (forge && len >= 32) {
		memcpy(buf, "PNHC", 4);
		put32(buf + 4, MD_CACHE_VERSION);
		put32(buf + 8, 7);
		put64(buf + 16, len - 32);
		put64(buf + 24, md_cache_checksum((const char *)buf + 32,
						  len - 32));
	}
	fd = openat(dirfd, MD_CACHE_NAME, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, buf, len) == (ssize_t)len);
	close(fd);
	memset(&c, 0, sizeof(c));
	CHECK(md_cache_load(&c, dirfd, 7, NULL) == 0);
	for (uint32_t i = 0; c.data && i < c.count && i < 64; i++) {
		char key[32];
		int n = snprintf(key, sizeof(key), "k%u", i);

		struct md_stamp st = { 0 };

		md_cache_lookup(&c, key, (size_t)n, &st, &v, &hint);
		md_cache_stamp(&c, key, (size_t)n,
			       md_key_hash(key, (size_t)n), 1, &st);
	}
	md_cache_free(&c);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (dirfd < 0) {
		CHECK(mkdtemp(dir) != NULL);
		dirfd = open(dir, O_RDONLY | O_DIRECTORY);
		CHECK(dirfd >= 0);
	}
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_header(data + 1, size - 1);
		break;
	case 1:
		fuzz_cache(data + 1, size - 1, false);
		break;
	default:
		fuzz_cache(data + 1, size - 1, true);
		break;
	}
	return 0;
}
