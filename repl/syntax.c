/* syntax.c - the IMAP commands, for .help CMD, completion, and knowing
 * which arguments are mailbox names (sent in modified UTF-7).
 *
 * Bits in mailbox_args count arguments after the command word from 0.
 */
#include "repl_p.h"

#include <string.h>
#include <strings.h>

#include "../imap/imap.h"

#define MB(i) (1u << (i))

static const struct repl_syntax table[] = {
	{ "CAPABILITY", NULL, "", "RFC 9051 6.1.1", "list what the server can do", 0, false },
	{ "NOOP", NULL, "", "RFC 9051 6.1.2", "do nothing; lets pending updates arrive", 0, false },
	{ "LOGOUT", NULL, "", "RFC 9051 6.1.3", "end the session", 0, false },
	{ "LOGIN", NULL, "user [password]", "RFC 9051 6.2.3", "log in; without a password postern asks for it (never echoed, never in the history)", 0, false },
	{ "AUTHENTICATE", NULL, "mechanism [user]", "RFC 9051 6.2.2", "SASL login (PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER, EXTERNAL); postern runs the exchange", 0, false },
	{ "STARTTLS", "STARTTLS", "", "RFC 9051 6.2.1", "done at connect time by postern (--tls starttls)", 0, false },
	{ "ENABLE", "ENABLE", "capability...", "RFC 5161", "turn on extensions (CONDSTORE, QRESYNC, UTF8=ACCEPT)", 0, false },
	{ "ID", "ID", "NIL | (\"name\" \"value\" ...)", "RFC 2971", "exchange client and server identification", 0, false },
	{ "NAMESPACE", "NAMESPACE", "", "RFC 2342", "personal, other users' and shared namespaces", 0, false },
	{ "COMPRESS", "COMPRESS=DEFLATE", "DEFLATE", "RFC 4978", "compress the connection from here on", 0, false },
	{ "SELECT", NULL, "mailbox [(CONDSTORE) | (QRESYNC (uidvalidity modseq [uids]))]", "RFC 9051 6.3.2", "open a mailbox read-write", MB(0), false },
	{ "EXAMINE", NULL, "mailbox", "RFC 9051 6.3.3", "open a mailbox read-only", MB(0), false },
	{ "CREATE", NULL, "mailbox [(USE (\\Sent))]", "RFC 9051 6.3.4", "create a mailbox", MB(0), false },
	{ "DELETE", NULL, "mailbox", "RFC 9051 6.3.5", "delete a mailbox", MB(0), false },
	{ "RENAME", NULL, "old new", "RFC 9051 6.3.6", "rename a mailbox", MB(0) | MB(1), false },
	{ "SUBSCRIBE", NULL, "mailbox", "RFC 9051 6.3.7", "add to the subscriptions", MB(0), false },
	{ "UNSUBSCRIBE", NULL, "mailbox", "RFC 9051 6.3.8", "remove from the subscriptions", MB(0), false },
	{ "LIST", NULL, "reference pattern [RETURN (SPECIAL-USE STATUS (MESSAGES))]", "RFC 9051 6.3.9, RFC 5258", "list mailboxes (\"\" \"*\" for all)", MB(1), false },
	{ "LSUB", NULL, "reference pattern", "RFC 3501 6.3.9", "list subscribed mailboxes", MB(1), false },
	{ "STATUS", NULL, "mailbox (MESSAGES UNSEEN UIDNEXT UIDVALIDITY SIZE)", "RFC 9051 6.3.11", "counters of a mailbox without opening it", MB(0), false },
	{ "APPEND", NULL, "mailbox [(flags)] [\"date\"] {file:PATH}", "RFC 9051 6.3.12", "add a message; {file:PATH} or <PATH sends a file as the literal", MB(0), false },
	{ "IDLE", "IDLE", "[seconds]", "RFC 2177", "wait for pushes; Enter sends DONE", 0, false },
	{ "CHECK", NULL, "", "RFC 3501 6.4.1", "checkpoint the mailbox", 0, false },
	{ "CLOSE", NULL, "", "RFC 9051 6.4.1", "close the mailbox, expunging \\Deleted messages", 0, false },
	{ "UNSELECT", "UNSELECT", "", "RFC 3691", "close the mailbox without expunging", 0, false },
	{ "EXPUNGE", NULL, "", "RFC 9051 6.4.3", "remove every \\Deleted message", 0, false },
	{ "SEARCH", NULL, "[RETURN (MIN MAX COUNT ALL)] [CHARSET UTF-8] criteria", "RFC 9051 6.4.4", "find messages (UNSEEN FROM alice SINCE 1-Nov-2026)", 0, false },
	{ "FETCH", NULL, "set (items) [(CHANGEDSINCE modseq)]", "RFC 9051 6.4.5", "read message data: FLAGS ENVELOPE BODYSTRUCTURE BODY.PEEK[...] BINARY.PEEK[...]", 0, false },
	{ "STORE", NULL, "set +FLAGS|-FLAGS|FLAGS[.SILENT] (flags)", "RFC 9051 6.4.6", "change flags", 0, false },
	{ "COPY", NULL, "set mailbox", "RFC 9051 6.4.7", "copy messages", 0, true },
	{ "MOVE", "MOVE", "set mailbox", "RFC 6851", "move messages", 0, true },
	{ "UID", NULL, "FETCH|SEARCH|STORE|COPY|MOVE|EXPUNGE ...", "RFC 9051 6.4.9", "the same commands by UID", 0, true },
	{ "SORT", "SORT", "(criteria) charset search", "RFC 5256", "search, sorted by the server", 0, false },
	{ "THREAD", "THREAD=REFERENCES", "algorithm charset search", "RFC 5256", "search, threaded by the server", 0, false },
	{ "GETQUOTA", "QUOTA", "root", "RFC 9208", "usage and limits of a quota root", 0, false },
	{ "GETQUOTAROOT", "QUOTA", "mailbox", "RFC 9208", "the quota roots of a mailbox", MB(0), false },
	{ "SETQUOTA", "QUOTA", "root (STORAGE n)", "RFC 9208", "set a quota", 0, false },
	{ "GETACL", "ACL", "mailbox", "RFC 4314", "who may do what in a mailbox", MB(0), false },
	{ "SETACL", "ACL", "mailbox identifier rights", "RFC 4314", "grant rights", MB(0), false },
	{ "DELETEACL", "ACL", "mailbox identifier", "RFC 4314", "remove an identifier's rights", MB(0), false },
	{ "MYRIGHTS", "ACL", "mailbox", "RFC 4314", "your rights in a mailbox", MB(0), false },
	{ "LISTRIGHTS", "ACL", "mailbox identifier", "RFC 4314", "rights that may be granted", MB(0), false },
	{ "GETMETADATA", "METADATA", "mailbox (entries)", "RFC 5464", "read annotations (\"\" for the server's)", MB(0), false },
	{ "SETMETADATA", "METADATA", "mailbox (entry value)", "RFC 5464", "write annotations", MB(0), false },
	{ "NOTIFY", "NOTIFY", "SET (SELECTED (MessageNew MessageExpunge))", "RFC 5465", "ask for pushes about other mailboxes", 0, false },
};

const struct repl_syntax *repl_syntax_at(size_t i)
{
	return i < sizeof(table) / sizeof(*table) ? &table[i] : NULL;
}

const struct repl_syntax *repl_syntax_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(*table); i++) {
		if (strcasecmp(table[i].name, name) == 0)
			return &table[i];
	}
	return NULL;
}

bool repl_syntax_offered(const struct repl *r, const struct repl_syntax *s)
{
	const struct imap_caps *caps;

	if (!s->cap)
		return true;
	caps = imap_conn_caps(r->c);
	/* THREAD=REFERENCES or THREAD=ORDEREDSUBJECT, either will do. */
	if (strcmp(s->cap, "THREAD=REFERENCES") == 0)
		return imap_caps_has(caps, "THREAD=REFERENCES") ||
		       imap_caps_has(caps, "THREAD=ORDEREDSUBJECT");
	return imap_caps_has(caps, s->cap);
}
