/* test_decode.c - streaming transfer decoding and mime_part_decode. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../mime/mime_p.h"

static int collect(void *ctx, const char *data, size_t len)
{
	return pn_buf_add(ctx, data, len) < 0;
}

static int stop_now(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 1;
}

struct dcase {
	const char *name;
	enum mime_cte cte;
	const char *in;
	const char *want;
	size_t want_len;	/* 0: strlen(want) */
	bool defect;
};

static const struct dcase cases[] = {
	{ "base64", MIME_CTE_BASE64, "aGVsbG8gd29ybGQ=\n", "hello world", 0,
	  false },
	{ "base64 CRLF lines", MIME_CTE_BASE64, "aGVs\r\nbG8=\r\n", "hello",
	  0, false },
	{ "base64 junk is skipped", MIME_CTE_BASE64, "aGV*sbG8=\n", "hello",
	  0, true },
	{ "base64 unpadded end", MIME_CTE_BASE64, "aGVsbG8", "hello", 0,
	  false },
	{ "base64 truncated to one sextet", MIME_CTE_BASE64, "aGVsbG8gd",
	  "hello ", 0, true },
	{ "base64 empty", MIME_CTE_BASE64, "", "", 0, false },
	{ "qp soft breaks", MIME_CTE_QP, "long=\nline=\r\n end\n",
	  "longline end\n", 0, false },
	{ "qp escapes", MIME_CTE_QP, "caf=C3=A9 =3D\n", "caf\xc3\xa9 =\n", 0,
	  false },
	{ "qp bad escape kept", MIME_CTE_QP, "a=ZZb\n", "a=ZZb\n", 0, true },
	{ "7bit passes through", MIME_CTE_7BIT, "a\r\nb=41\n", "a\r\nb=41\n",
	  0, false },
	{ "unknown passes through", MIME_CTE_UNKNOWN, "x=41", "x=41", 0,
	  false },
	{ "binary with NUL", MIME_CTE_BINARY, "a\0b", "a\0b", 3, false },
	{ "uuencode", MIME_CTE_UUENCODE,
	  "begin 644 hello.txt\n,:&5L;&\\@=V]R;&0*\n`\nend\n",
	  "hello world\n", 0, false },
	{ "uuencode CRLF, text before begin", MIME_CTE_UUENCODE,
	  "some text\r\nbegin 600 x\r\n#86)C\r\n`\r\nend\r\ntrailer\r\n",
	  "abc", 0, false },
	{ "uuencode without end", MIME_CTE_UUENCODE,
	  "begin 644 x\n#86)C\n", "abc", 0, true },
	{ "uuencode short line is zero-filled", MIME_CTE_UUENCODE,
	  "begin 644 x\n#86\nend\n", "a`\0", 3, true },
	{ "uuencode without begin gives the raw text", MIME_CTE_UUENCODE,
	  "no begin here\n#86)C\n", "no begin here\n#86)C\n", 0, true },
	{ "uuencode begin needs an octal mode", MIME_CTE_UUENCODE,
	  "begin xyz x\nbegin 644 y\n#86)C\nend\n", "abc", 0, false },
};

static void run_case(const struct dcase *c, size_t chunk)
{
	struct pn_buf out;
	struct mime_decoder *d;
	size_t len = strlen(c->in), off = 0;
	size_t want_len = c->want_len ? c->want_len : strlen(c->want);
	bool defect = !c->defect;

	pn_buf_init(&out, 0);
	d = mime_decoder_new(c->cte, collect, &out);
	assert_non_null(d);
	if (c->cte == MIME_CTE_BINARY)
		len = 3;
	while (off < len) {
		size_t n = chunk && chunk < len - off ? chunk : len - off;

		assert_int_equal(mime_decoder_feed(d, c->in + off, n), 0);
		off += n;
	}
	assert_int_equal(mime_decoder_finish(d, &defect), 0);
	mime_decoder_free(&d);
	assert_null(d);
	if (out.len != want_len || memcmp(out.data ? out.data : "", c->want,
					  want_len))
		fail_msg("%s (chunk %zu): got \"%.*s\" (%zu bytes)", c->name,
			 chunk, (int)out.len, pn_buf_cstr(&out), out.len);
	if (defect != c->defect)
		fail_msg("%s (chunk %zu): defect %d", c->name, chunk, defect);
	pn_buf_free(&out);
}

static void test_decoders(void **state)
{
	size_t i, chunk;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (chunk = 0; chunk < 5; chunk++)
			run_case(&cases[i], chunk);
}

static void test_decoder_stop(void **state)
{
	struct mime_decoder *d = mime_decoder_new(MIME_CTE_BASE64, stop_now,
						  NULL);

	(void)state;
	assert_int_equal(mime_decoder_feed(d, "aGVsbG8=", 8), -1);
	assert_int_equal(mime_decoder_feed(d, "aGVsbG8=", 8), -1);
	assert_int_equal(mime_decoder_finish(d, NULL), -1);
	mime_decoder_free(&d);
}

/* Big inputs cross the decoder's internal slices. */
static void test_decoder_large(void **state)
{
	struct pn_buf in, out;
	struct mime_decoder *d;
	size_t i;
	bool defect = true;

	(void)state;
	pn_buf_init(&in, 0);
	pn_buf_init(&out, 0);
	for (i = 0; i < 100000; i++)
		assert_int_equal(pn_buf_adds(&in, i % 19 == 18 ? "QUJD\n" :
					     "QUJD"), 0);
	d = mime_decoder_new(MIME_CTE_BASE64, collect, &out);
	assert_int_equal(mime_decoder_feed(d, in.data, in.len), 0);
	assert_int_equal(mime_decoder_finish(d, &defect), 0);
	assert_false(defect);
	assert_int_equal(out.len, 300000);
	for (i = 0; i < out.len; i++)
		assert_int_equal(out.data[i], "ABC"[i % 3]);
	mime_decoder_free(&d);
	pn_buf_free(&in);
	pn_buf_free(&out);
}

static const char msgtext[] =
	"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	"--b\r\nContent-Type: text/plain\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	"caf=C3=A9=\r\n au lait\r\n"
	"--b\r\nContent-Type: application/octet-stream\r\n"
	"Content-Transfer-Encoding: base64\r\n\r\n"
	"AAEC\r\nAwQF\r\n"
	"--b\r\nContent-Type: application/x-foo\r\n"
	"Content-Transfer-Encoding: x-uuencode\r\n\r\n"
	"begin 644 f\r\n#86)C\r\n`\r\nend\r\n"
	"--b--\r\n";

static void check_parts(struct mime_message *msg)
{
	struct pn_buf out;
	struct pn_error err;
	bool defect = true;
	struct mime_part *p;

	pn_buf_init(&out, 0);
	p = mime_part_by_section(msg->root, "1");
	assert_int_equal(mime_part_decode(p, collect, &out, &defect, &err), 0);
	assert_string_equal(pn_buf_cstr(&out), "caf\xc3\xa9 au lait");
	assert_false(defect);

	pn_buf_reset(&out);
	p = mime_part_by_section(msg->root, "2");
	assert_int_equal(mime_part_decode(p, collect, &out, NULL, &err), 0);
	assert_int_equal(out.len, 6);
	assert_memory_equal(out.data, "\0\1\2\3\4\5", 6);

	pn_buf_reset(&out);
	p = mime_part_by_section(msg->root, "3");
	assert_int_equal(mime_part_decode(p, collect, &out, &defect, &err), 0);
	assert_string_equal(pn_buf_cstr(&out), "abc");
	assert_false(defect);

	pn_buf_reset(&out);
	assert_int_equal(mime_part_decode(p, stop_now, NULL, NULL, &err), -1);
	pn_buf_free(&out);
}

static void test_part_decode_mem(void **state)
{
	struct mime_message *msg;
	struct pn_error err;

	(void)state;
	assert_int_equal(mime_parse_mem(msgtext, sizeof(msgtext) - 1, false,
					NULL, &msg, &err), 0);
	check_parts(msg);
	mime_message_free(&msg);
}

static void test_part_decode_fd(void **state)
{
	char path[] = "/tmp/test_decode-XXXXXX";
	int fd = mkstemp(path);
	struct mime_message *msg;
	struct pn_error err;
	struct mime_parser *p;

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, msgtext, sizeof(msgtext) - 1),
			 (ssize_t)sizeof(msgtext) - 1);
	/* the parser fed separately, the fd attached afterwards */
	p = mime_parser_new(NULL, NULL);
	assert_int_equal(mime_parser_feed(p, msgtext, sizeof(msgtext) - 1,
					  &err), 0);
	assert_int_equal(mime_parser_finish(p, &msg, &err), 0);
	mime_parser_free(&p);
	assert_int_equal(mime_message_attach_fd(msg, fd, &err), 0);
	check_parts(msg);
	mime_message_free(&msg);
}

static void test_part_decode_no_source(void **state)
{
	struct mime_parser *p = mime_parser_new(NULL, NULL);
	struct mime_message *msg;
	struct pn_error err;
	struct pn_buf out;

	(void)state;
	pn_buf_init(&out, 0);
	assert_int_equal(mime_parser_feed(p, msgtext, sizeof(msgtext) - 1,
					  &err), 0);
	assert_int_equal(mime_parser_finish(p, &msg, &err), 0);
	mime_parser_free(&p);
	assert_int_equal(mime_part_decode(mime_part_by_section(msg->root, "1"),
					  collect, &out, NULL, &err), -1);
	assert_string_equal(err.msg, "message has no source");
	mime_message_free(&msg);
	pn_buf_free(&out);
}

/* A source shorter than the offsets say (attached to the wrong bytes). */
static void test_part_decode_short_source(void **state)
{
	struct mime_parser *p = mime_parser_new(NULL, NULL);
	struct mime_message *msg;
	struct pn_error err;
	struct pn_buf out;

	(void)state;
	pn_buf_init(&out, 0);
	assert_int_equal(mime_parser_feed(p, msgtext, sizeof(msgtext) - 1,
					  &err), 0);
	assert_int_equal(mime_parser_finish(p, &msg, &err), 0);
	mime_parser_free(&p);
	assert_int_equal(mime_message_attach_mem(msg, msgtext, 100, false,
						 &err), 0);
	assert_int_equal(mime_part_decode(mime_part_by_section(msg->root, "2"),
					  collect, &out, NULL, &err), -1);
	assert_int_equal(err.code, PN_EIO);
	mime_message_free(&msg);
	pn_buf_free(&out);
}

/* Built parts decode from part->body; file parts from body_path as is. */
static void test_part_decode_built(void **state)
{
	struct mime_message *msg = mime_message_new();
	struct mime_part *r = mime_message_root(msg);
	char path[] = "/tmp/test_decode-XXXXXX";
	struct pn_error err;
	struct pn_buf out;
	int fd;

	(void)state;
	pn_buf_init(&out, 0);
	r->cte = MIME_CTE_BASE64;
	assert_int_equal(pn_buf_adds(&r->body, "aGk=\n"), 0);
	mime_part_touch(r, false);
	assert_int_equal(mime_part_decode(r, collect, &out, NULL, &err), 0);
	assert_string_equal(pn_buf_cstr(&out), "hi");

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "raw=41", 6), 6);
	close(fd);
	r->body_path = strdup(path);
	pn_buf_reset(&out);
	assert_int_equal(mime_part_decode(r, collect, &out, NULL, &err), 0);
	assert_string_equal(pn_buf_cstr(&out), "raw=41");
	unlink(path);
	pn_buf_reset(&out);
	assert_int_equal(mime_part_decode(r, collect, &out, NULL, &err), -1);
	assert_int_equal(err.code, PN_EIO);
	mime_message_free(&msg);
	pn_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decoders),
		cmocka_unit_test(test_decoder_stop),
		cmocka_unit_test(test_decoder_large),
		cmocka_unit_test(test_part_decode_mem),
		cmocka_unit_test(test_part_decode_fd),
		cmocka_unit_test(test_part_decode_no_source),
		cmocka_unit_test(test_part_decode_short_source),
		cmocka_unit_test(test_part_decode_built),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
