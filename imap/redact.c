/* redact.c - keep credentials out of wire traces.
 *
 * Traces get pasted into bug reports, so every client line passes here:
 *   tag SP "LOGIN" SP userid SP password     (RFC 3501 6.2.3)
 *   tag SP "AUTHENTICATE" SP mech [SP initial-response]   (RFC 4959)
 * keep the tag, the command and the user name and lose the rest.  A
 * literal {n} in the password's place is redacted too: its length is the
 * password's.  The literal's bytes, like SASL continuation lines, come as
 * lines the connection marks sensitive.  Anything this cannot parse after
 * LOGIN is redacted whole: failing closed costs only a less useful trace.
 */
#include "imap.h"

#include <string.h>
#include <strings.h>

#include "../lib/buf.h"

static const char redacted[] = "<redacted>";

/* Length of the token at p (up to SP or the end). */
static size_t token_len(const char *p, const char *end)
{
	const char *sp = memchr(p, ' ', (size_t)(end - p));

	return sp ? (size_t)(sp - p) : (size_t)(end - p);
}

static bool token_is(const char *p, size_t n, const char *word)
{
	return n == strlen(word) && strncasecmp(p, word, n) == 0;
}

/* End of the astring at p (RFC 3501: atom, quoted or literal), or NULL
 * when it is malformed.  A quoted string honours "\\" and "\"". */
static const char *astring_end(const char *p, const char *end)
{
	if (p < end && *p == '"') {
		for (p++; p < end; p++) {
			if (*p == '\\' && p + 1 < end)
				p++;
			else if (*p == '"')
				return p + 1;
		}
		return NULL;
	}
	if (p < end && *p == '{') {
		const char *close = memchr(p, '}', (size_t)(end - p));

		/* a literal ends the line: its bytes follow it */
		return close && close + 1 == end ? end : NULL;
	}
	p += token_len(p, end);
	return p;
}

/* Keep line[0, keep) and add the marker in place of the rest. */
static int cut(const char *line, size_t keep, struct pn_buf *out)
{
	if (pn_buf_add(out, line, keep) < 0 || pn_buf_adds(out, redacted) < 0)
		return -1;
	return 0;
}

/* args: just after "LOGIN ". */
static int redact_login(const char *line, const char *args, const char *end,
			struct pn_buf *out)
{
	const char *user_end = astring_end(args, end);

	if (!user_end || user_end == args)
		return cut(line, (size_t)(args - line), out);
	if (user_end == end)	/* no password on this line */
		return pn_buf_add(out, line, (size_t)(end - line));
	if (*user_end != ' ')
		return cut(line, (size_t)(args - line), out);
	return cut(line, (size_t)(user_end + 1 - line), out);
}

/* args: just after "AUTHENTICATE ". */
static int redact_authenticate(const char *line, const char *args,
			       const char *end, struct pn_buf *out)
{
	const char *mech_end = args + token_len(args, end);

	if (mech_end == end)	/* no initial response */
		return pn_buf_add(out, line, (size_t)(end - line));
	return cut(line, (size_t)(mech_end + 1 - line), out);
}

static bool is_secret_command(const char *p, size_t n)
{
	return token_is(p, n, "LOGIN") || token_is(p, n, "AUTHENTICATE");
}

/* The command after the tag, or the line's start when a human typed the
 * command without one (the REPL): "LOGIN fred pw" must not pass as tag
 * "LOGIN", command "fred". */
static const char *find_command(const char *line, const char *end)
{
	size_t n = token_len(line, end);
	const char *second = line + n + 1;

	if (line + n == end)
		return NULL;
	if (is_secret_command(line, n) &&
	    !is_secret_command(second, token_len(second, end)))
		return line;
	return second;
}

int imap_redact_line(const char *line, size_t len, bool sensitive,
		     struct pn_buf *out)
{
	const char *end = line + len, *cmd, *args;
	size_t n;

	if (sensitive)
		return pn_buf_adds(out, redacted);
	cmd = find_command(line, end);
	if (!cmd)
		return pn_buf_add(out, line, len);
	n = token_len(cmd, end);
	args = cmd + n < end ? cmd + n + 1 : end;
	if (token_is(cmd, n, "LOGIN") && args < end)
		return redact_login(line, args, end, out);
	if (token_is(cmd, n, "AUTHENTICATE") && args < end)
		return redact_authenticate(line, args, end, out);
	return pn_buf_add(out, line, len);
}
