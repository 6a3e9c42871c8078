/* complete.c - Tab: commands the server offers, mailbox names (shown and
 * inserted in UTF-8, quoted when they need it; sent in modified UTF-7 by
 * exec.c), fetch items, flags, search keys and the helpers.
 */
#include "repl_p.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <readline/readline.h>

#include "../imap/imap.h"

static struct repl *cur;

static const char *const fetch_items[] = {
	"ALL", "FAST", "FULL", "UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE",
	"ENVELOPE", "BODYSTRUCTURE", "BODY", "BODY[", "BODY.PEEK[",
	"BODY.PEEK[HEADER]", "BODY.PEEK[TEXT]", "BODY.PEEK[HEADER.FIELDS",
	"BINARY[", "BINARY.PEEK[", "BINARY.SIZE[", "MODSEQ", "RFC822",
	"RFC822.HEADER", "RFC822.TEXT", "EMAILID", "THREADID", NULL,
};

static const char *const flag_words[] = {
	"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft",
	"$Forwarded", "$Junk", "$NotJunk", "$MDNSent", "+FLAGS", "-FLAGS",
	"FLAGS", "+FLAGS.SILENT", "-FLAGS.SILENT", "FLAGS.SILENT", NULL,
};

static const char *const search_keys[] = {
	"ALL", "ANSWERED", "BCC", "BEFORE", "BODY", "CC", "DELETED", "DRAFT",
	"FLAGGED", "FROM", "HEADER", "KEYWORD", "LARGER", "NEW", "NOT", "OLD",
	"ON", "OR", "RECENT", "SEEN", "SENTBEFORE", "SENTON", "SENTSINCE",
	"SINCE", "SMALLER", "SUBJECT", "TEXT", "TO", "UID", "UNANSWERED",
	"UNDELETED", "UNDRAFT", "UNFLAGGED", "UNKEYWORD", "UNSEEN", "CHARSET",
	"RETURN", "MODSEQ", NULL,
};

static const char *const uid_commands[] = {
	"FETCH", "SEARCH", "STORE", "COPY", "MOVE", "EXPUNGE", "SORT",
	"THREAD", NULL,
};

static const char *const helper_names[] = {
	".help", ".caps", ".trace", ".timing", ".save", ".show", ".literal",
	".tls", ".reconnect", ".quit", NULL,
};

void repl_boxes_free(struct repl *r)
{
	size_t i;

	for (i = 0; i < r->nboxes; i++)
		free(r->boxes[i]);
	free(r->boxes);
	r->boxes = NULL;
	r->nboxes = 0;
}

void repl_boxes_forget(struct repl *r)
{
	repl_boxes_free(r);
	r->boxes_known = false;
}

static void on_box(void *ctx, const struct imap_list_entry *e,
		   const struct imap_status_info *st)
{
	struct repl *r = ctx;
	char **v;

	(void)st;
	if (!e || !e->name)
		return;
	v = realloc(r->boxes, (r->nboxes + 1) * sizeof(*v));
	if (!v)
		return;
	r->boxes = v;
	if ((v[r->nboxes] = strdup(e->name)))
		r->nboxes++;
}

/* LIST "" "*" once, quietly, between commands. */
static void load_boxes(struct repl *r)
{
	struct pn_error err;

	if (r->boxes_known || r->dead ||
	    imap_conn_state(r->c) < IMAP_STATE_AUTHENTICATED)
		return;
	r->quiet = true;
	if (imap_list(r->c, "", "*", NULL, on_box, r, &err) == 0)
		r->boxes_known = true;
	r->quiet = false;
}

/* ---- generators -------------------------------------------------------- */

static const char *const *words;
static enum { W_LIST, W_COMMANDS, W_BOXES } source;
static size_t gen_i;

static bool needs_quotes(const char *s)
{
	return !s[0] || strpbrk(s, " ()%*\"\\{") != NULL;
}

static char *quoted(const char *s)
{
	size_t n = strlen(s);
	char *q = malloc(2 * n + 3), *p = q;

	if (!q)
		return NULL;
	*p++ = '"';
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			*p++ = '\\';
		*p++ = *s;
	}
	*p++ = '"';
	*p = 0;
	return q;
}

static char *generate(const char *text, int state)
{
	size_t len = strlen(text);
	const char *t = text;

	if (!state)
		gen_i = 0;
	/* A quoted mailbox name being typed: compare inside the quotes. */
	if (source == W_BOXES && *t == '"') {
		t++;
		len--;
	}
	for (;;) {
		const char *w = NULL;

		if (source == W_LIST) {
			w = words[gen_i];
			if (!w)
				return NULL;
		} else if (source == W_COMMANDS) {
			const struct repl_syntax *s = repl_syntax_at(gen_i);

			if (!s)
				return NULL;
			if (!repl_syntax_offered(cur, s)) {
				gen_i++;
				continue;
			}
			w = s->name;
		} else {
			if (gen_i >= cur->nboxes)
				return NULL;
			w = cur->boxes[gen_i];
		}
		gen_i++;
		if (strncasecmp(w, t, len) == 0) {
			if (source == W_BOXES && (needs_quotes(w) || *text == '"'))
				return quoted(w);
			if (source == W_COMMANDS) {
				/* in the case the user types in */
				char *c = strdup(w);
				size_t i;

				for (i = 0; c && c[i] && text[0] >= 'a' &&
					    text[0] <= 'z'; i++) {
					if (c[i] >= 'A' && c[i] <= 'Z')
						c[i] = (char)(c[i] - 'A' + 'a');
				}
				return c;
			}
			return strdup(w);
		}
	}
}

/* The words before the one being completed. */
static size_t words_before(const char *line, int start, char w[3][32])
{
	size_t n = 0;
	const char *p = line, *end = line + start;

	while (p < end) {
		const char *s;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		s = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		if (p > s) {
			if (n < 3)
				snprintf(w[n], sizeof(w[n]), "%.*s", (int)(p - s), s);
			n++;
		}
	}
	return n;
}

static char **complete(const char *text, int start, int end)
{
	char w[3][32] = { "", "", "" };
	size_t n = words_before(rl_line_buffer, start, w), cmdi = 0;
	const struct repl_syntax *syn;

	(void)end;
	rl_attempted_completion_over = 1;
	if (text[0] == '.' && n == 0) {
		source = W_LIST;
		words = helper_names;
		return rl_completion_matches(text, generate);
	}
	if (n == 0) {
		source = W_COMMANDS;
		return rl_completion_matches(text, generate);
	}
	/* a tag typed first? */
	if (!repl_syntax_find(w[0]) && n >= 1) {
		if (n == 1) {
			source = W_COMMANDS;
			return rl_completion_matches(text, generate);
		}
		cmdi = 1;
	}
	if (!strcasecmp(w[cmdi], "UID")) {
		if (n == cmdi + 1) {
			source = W_LIST;
			words = uid_commands;
			return rl_completion_matches(text, generate);
		}
		cmdi++;
	}
	syn = repl_syntax_find(w[cmdi]);
	if (!syn)
		return NULL;
	if (!strcasecmp(syn->name, "FETCH") || !strcasecmp(syn->name, "STORE")) {
		source = W_LIST;
		words = !strcasecmp(syn->name, "FETCH") ? fetch_items : flag_words;
		/* inside "(": complete after it */
		return rl_completion_matches(text[0] == '(' ? text + 1 : text,
					     generate);
	}
	if (!strcasecmp(syn->name, "SEARCH") || !strcasecmp(syn->name, "SORT")) {
		source = W_LIST;
		words = search_keys;
		return rl_completion_matches(text, generate);
	}
	if (syn->mailbox_args || syn->mailbox_last) {
		load_boxes(cur);
		source = W_BOXES;
		return rl_completion_matches(text, generate);
	}
	return NULL;
}

void repl_complete_init(struct repl *r)
{
	cur = r;
	rl_readline_name = "postern";
	rl_attempted_completion_function = complete;
	rl_completer_quote_characters = "\"";
	rl_basic_word_break_characters = " \t(";
}
