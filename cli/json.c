/* json.c - a small compact JSON writer with escaping that cannot be
 * fooled by what is in a message. */
#include "cli.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "../lib/utf8.h"

void cli_json_init(struct cli_json *j, FILE *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
}

/* Before any value: a comma unless it follows a key or opens a container. */
static void before_value(struct cli_json *j)
{
	if (!j->after_key && j->need_comma[j->depth])
		fputc_unlocked(',', j->out);
	j->after_key = false;
	j->need_comma[j->depth] = true;
}

static void open_container(struct cli_json *j, char c)
{
	before_value(j);
	fputc_unlocked(c, j->out);
	/* Deeper nesting than we ever produce would be our bug. */
	if (j->depth + 1 < CLI_JSON_MAX_DEPTH)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_container(struct cli_json *j, char c)
{
	fputc_unlocked(c, j->out);
	if (j->depth > 0)
		j->depth--;
}

void cli_json_obj_begin(struct cli_json *j)
{
	open_container(j, '{');
}

void cli_json_obj_end(struct cli_json *j)
{
	close_container(j, '}');
}

void cli_json_arr_begin(struct cli_json *j)
{
	open_container(j, '[');
}

void cli_json_arr_end(struct cli_json *j)
{
	close_container(j, ']');
}

static bool plain_ascii(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

static void put_escape(FILE *f, uint32_t cp)
{
	switch (cp) {
	case '"':
		fputs_unlocked("\\\"", f);
		break;
	case '\\':
		fputs_unlocked("\\\\", f);
		break;
	case '\n':
		fputs_unlocked("\\n", f);
		break;
	case '\r':
		fputs_unlocked("\\r", f);
		break;
	case '\t':
		fputs_unlocked("\\t", f);
		break;
	default:
		fprintf(f, "\\u%04" PRIx32, cp);
		break;
	}
}

/* C1 controls and the JavaScript line separators are valid JSON as raw
 * UTF-8 but would reach a terminal or an eval() unharmed; escape them. */
static bool escape_cp(uint32_t cp)
{
	return (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029;
}

static void put_string_body(FILE *f, const char *s, size_t len)
{
	size_t i = 0, run;
	uint32_t cp;
	int n;

	while (i < len) {
		for (run = i; run < len && plain_ascii(s[run]); run++)
			;
		fwrite_unlocked(s + i, 1, run - i, f);
		i = run;
		if (i >= len)
			break;
		if ((unsigned char)s[i] < 0x80) {
			put_escape(f, (unsigned char)s[i++]);
			continue;
		}
		n = pn_utf8_decode(s + i, len - i, &cp);
		if (n == 0) {
			fputs_unlocked("\\ufffd", f);
			i++;
		} else if (escape_cp(cp)) {
			put_escape(f, cp);
			i += n;
		} else {
			fwrite_unlocked(s + i, 1, n, f);
			i += n;
		}
	}
}

void cli_json_key(struct cli_json *j, const char *key)
{
	before_value(j);
	fputc_unlocked('"', j->out);
	put_string_body(j->out, key, strlen(key));
	fputs_unlocked("\":", j->out);
	j->after_key = true;
}

void cli_json_strn(struct cli_json *j, const char *s, size_t len)
{
	before_value(j);
	fputc_unlocked('"', j->out);
	put_string_body(j->out, s, len);
	fputc_unlocked('"', j->out);
}

void cli_json_str(struct cli_json *j, const char *s)
{
	if (!s)
		cli_json_null(j);
	else
		cli_json_strn(j, s, strlen(s));
}

/* Several numbers per message in fetch and tree output: no printf. */
void cli_json_u64(struct cli_json *j, uint64_t v)
{
	char digits[20], *d = digits + sizeof(digits);	/* 2^64 has 20 */

	before_value(j);
	do {
		*--d = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	fwrite_unlocked(d, 1, (size_t)(digits + sizeof(digits) - d), j->out);
}

void cli_json_bool(struct cli_json *j, bool v)
{
	before_value(j);
	fputs_unlocked(v ? "true" : "false", j->out);
}

void cli_json_double(struct cli_json *j, double v, int decimals)
{
	if (!isfinite(v)) {
		cli_json_null(j);
		return;
	}
	before_value(j);
	fprintf(j->out, "%.*f", decimals, v);
}

void cli_json_null(struct cli_json *j)
{
	before_value(j);
	fputs_unlocked("null", j->out);
}

void cli_json_newline(struct cli_json *j)
{
	fputc_unlocked('\n', j->out);
	j->depth = 0;
	j->after_key = false;
	j->need_comma[0] = false;
}
