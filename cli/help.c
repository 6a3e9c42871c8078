/* help.c - usage texts, error lines and terminal-safe output. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/utf8.h"

struct help_entry {
	const char *cmd;
	const char *text;
};


#define TARGET_HELP \
	"TARGET is an account from the config file (postern-config(5)), an\n" \
	"imap:// or imaps:// URL (imaps://user@host:993/INBOX), a Maildir\n" \
	"(maildir:PATH, or a path: ~/Mail, ./box; Maildir++ or fs layout),\n" \
	"or left out when --tunnel CMD is given.  Connection options do not\n" \
	"apply to a Maildir.\n" \
	"\n" \
	"Connection options (override the account and the URL):\n" \
	"  --tunnel CMD          speak IMAP over CMD's stdin/stdout (sh -c CMD)\n" \
	"  --tls MODE            implicit, starttls (required) or none\n" \
	"  --cafile FILE         trust the CAs in FILE too\n" \
	"  --capath DIR          trust the CAs in DIR too\n" \
	"  --insecure            do not verify the certificate (says so loudly)\n" \
	"  --allow-plaintext     let a password cross an unencrypted network\n" \
	"  --user NAME           the login name\n" \
	"  --auth MECH           auto, plain, login, cram-md5, xoauth2,\n" \
	"                        oauthbearer or external\n" \
	"  --netrc               take the password from ~/.netrc\n" \
	"  --trace FILE          append the redacted wire conversation to FILE\n" \
	"                        (also $POSTERN_TRACE)\n" \
	"  --timeout SECONDS     connect and read timeout\n"

static const struct help_entry help_texts[] = {
	{ "postern",
	  "usage: postern [--help | --version] COMMAND [ARGS...]\n"
	  "\n"
	  "A terminal IMAP/MIME tool.\n"
	  "\n"
	  "Commands:\n"
	  "  mime     inspect, extract and compose MIME messages\n"
	  "  ls       list the mailboxes of an IMAP account or a Maildir\n"
	  "  fetch    list messages, or write headers, structure, raw messages\n"
	  "           or parts (read-only)\n"
	  "  append   upload messages to a mailbox (IMAP or Maildir)\n"
	  "  copy     copy or move messages between any two mailboxes\n"
	  "  repl     a console for raw IMAP (debugging servers)\n"
	  "  probe    a read-only health report of an IMAP server\n"
	  "  accounts check the config file and show its accounts\n"
	  "  help     show the help of a command: postern help mime tree\n"
	  "\n"
	  "Options:\n"
	  "  -h, --help       show this help\n"
	  "  -V, --version    show the version\n"
	  "\n"
	  "Exit status: 0 success, 1 failure, 2 usage error.\n"
	  "See postern(1), postern-mime(1) and postern-config(5).\n" },
	{ "postern help",
	  "usage: postern help [COMMAND...]\n"
	  "\n"
	  "Show the help of a command, e.g. 'postern help mime extract'.\n" },
	{ "postern ls",
	  "usage: postern ls TARGET [--status] [--json] [CONNECTION OPTIONS]\n"
	  "\n"
	  "List the mailboxes, with their special use (\\Sent, \\Trash ...).\n"
	  "\n"
	  "  -s, --status  add MESSAGES, UNSEEN, UIDNEXT, UIDVALIDITY and SIZE\n"
	  "                (SIZE only when the server offers STATUS=SIZE)\n"
	  "  -j, --json    one JSON object per mailbox (JSON Lines)\n"
	  "  -h, --help    show this help\n"
	  "\n" TARGET_HELP },
	{ "postern fetch",
	  "usage: postern fetch TARGET MAILBOX [--uid SET | --search QUERY]\n"
	  "         [--headers | --structure | --raw | --part SECTION [--encoded]]\n"
	  "         [--json] [-o DIR] [CONNECTION OPTIONS]\n"
	  "\n"
	  "List messages (UID, flags, date, size, from, subject) or write them.\n"
	  "The mailbox is opened read-only (EXAMINE; a Maildir is not written\n"
	  "to); nothing is marked \\Seen.\n"
	  "\n"
	  "  -u, --uid SET        only these UIDs (1:10,15,20:*)\n"
	  "  -s, --search QUERY   only what the IMAP SEARCH program QUERY finds\n"
	  "                       (UNSEEN FROM alice SINCE 1-Nov-2026)\n"
	  "  -H, --headers        print the header block of each message\n"
	  "  -S, --structure      print the BODYSTRUCTURE part tree\n"
	  "  -r, --raw            write the message exactly as the server has it\n"
	  "  -p, --part SECTION   write part SECTION with its transfer encoding\n"
	  "                       undone (BINARY); HEADER/TEXT/MIME sections as is\n"
	  "  -e, --encoded        with --part: the part as stored, still encoded\n"
	  "  -j, --json           JSON Lines (list and --structure)\n"
	  "  -o, --output DIR     with --raw: DIR/UID.eml, with --part:\n"
	  "                       DIR/UID-SECTION; never replaces a file\n"
	  "  -h, --help           show this help\n"
	  "\n"
	  "Without -o, --raw and --part need exactly one matching message.\n"
	  "MAILBOX may be left out when TARGET names one.\n"
	  "\n" TARGET_HELP },
	{ "postern append",
	  "usage: postern append TARGET MAILBOX FILE... [--flags FLAGS]\n"
	  "         [--date DATE] [CONNECTION OPTIONS]\n"
	  "\n"
	  "Upload each FILE ('-' for stdin) to MAILBOX and print its UID.\n"
	  "This command writes to the server (or delivers into the Maildir,\n"
	  "with the UID Dovecot would give).\n"
	  "\n"
	  "  -f, --flags FLAGS  flags to set, space-separated ('\\Seen \\Flagged')\n"
	  "  -d, --date DATE    the internal date: RFC 5322 (Wed, 25 Nov 2026\n"
	  "                     16:21:03 +0000) or IMAP (25-Nov-2026 16:21:03 +0000)\n"
	  "  -h, --help         show this help\n"
	  "\n"
	  "Every FILE is checked first: one that is not a message, or is over\n"
	  "the server's APPENDLIMIT, means nothing is appended.  LF line\n"
	  "endings are sent as CRLF (a Maildir keeps the bytes as they are).\n"
	  "Several files go in one MULTIAPPEND when the server offers it (up\n"
	  "to 100 a command).  MAILBOX must exist.\n"
	  "\n" TARGET_HELP },
	{ "postern copy",
	  "usage: postern copy SRC MAILBOX DST MAILBOX [--uid SET | --search QUERY]\n"
	  "         [--move] [--create] [--verbose] [CONNECTION OPTIONS]\n"
	  "\n"
	  "Copy messages from MAILBOX of SRC to MAILBOX of DST, keeping flags,\n"
	  "keywords and the internal date.  SRC and DST are any two targets\n"
	  "(IMAP or Maildir, either way); the same target on both sides copies\n"
	  "on the server (UID COPY/MOVE) or by hard links in the Maildir.\n"
	  "\n"
	  "  -u, --uid SET        only these UIDs of the source (1:10,15,20:*)\n"
	  "  -s, --search QUERY   only what the IMAP SEARCH program finds\n"
	  "  -m, --move           remove the originals once every copy landed\n"
	  "                       (only those that did)\n"
	  "  -c, --create         create the destination MAILBOX if missing\n"
	  "  -v, --verbose        a line per message: UID n -> UID m\n"
	  "  -h, --help           show this help\n"
	  "\n"
	  "The source is opened read-only unless --move.  Progress goes to\n"
	  "stderr on a terminal.  Connection options apply to every IMAP side;\n"
	  "--tunnel is refused (name an account with tunnel = CMD instead).\n"
	  "\n" TARGET_HELP },
	{ "postern probe",
	  "usage: postern probe TARGET [--json] [--no-login] [CONNECTION OPTIONS]\n"
	  "\n"
	  "A one-shot, read-only health report of an IMAP server: TCP and TLS\n"
	  "times, the TLS version, cipher and certificate (issuer, expiry,\n"
	  "host match), the greeting, the capabilities before STARTTLS, before\n"
	  "and after login, the AUTH= mechanisms, NAMESPACE, special-use\n"
	  "mailboxes, the time of LIST \"\" \"*\", EXAMINE INBOX and a FETCH of\n"
	  "the last 100 ENVELOPEs, the extensions postern uses, and warnings.\n"
	  "Nothing is changed: EXAMINE, never SELECT; ENVELOPE, never a body.\n"
	  "\n"
	  "  -j, --json      one JSON object (for monitoring; on failure it has\n"
	  "                  an \"error\" key and the exit status is 1)\n"
	  "  -n, --no-login  stop after the greeting, TLS and capabilities\n"
	  "  -h, --help      show this help\n"
	  "\n"
	  "Exit status 1 when connecting or logging in failed.  A Maildir\n"
	  "TARGET is refused (exit 2): there is no server to probe.\n"
	  "\n" TARGET_HELP },
	{ "postern repl",
	  "usage: postern repl TARGET [-c COMMAND]... [--keep-going] [--raw]\n"
	  "         [--no-login] [CONNECTION OPTIONS]\n"
	  "\n"
	  "A console for raw IMAP.  Type commands without tags (select INBOX,\n"
	  "uid fetch 1:* (flags)); postern tags them, shows untagged data as it\n"
	  "arrives and each completion with its time.  {file:PATH} or <PATH\n"
	  "sends a file as a literal (~{file:PATH} as BINARY), {<<END} the lines\n"
	  "typed up to END; login USER asks for the password; idle waits for\n"
	  "pushes until Enter.  Lines starting with '.' are helpers (.help).\n"
	  "\n"
	  "  -c, --command CMD   run CMD (repeatable) and leave, as a script\n"
	  "  -k, --keep-going    in a script, go on after NO and BAD\n"
	  "  -r, --raw           the wire text exactly (also when not a tty)\n"
	  "  -n, --no-login      connect and greet only; log in by hand\n"
	  "  -h, --help          show this help\n"
	  "\n"
	  "Without a terminal (or with -c) it runs the commands from stdin or\n"
	  "-c: responses on stdout; exit status 0 when every command ended OK,\n"
	  "1 on NO, 2 on BAD or a lost connection.  Lines starting with # are\n"
	  "comments.  History: $XDG_STATE_HOME/postern/repl_history, without\n"
	  "LOGIN and AUTHENTICATE lines.  See postern-repl(1).\n"
	  "\n" TARGET_HELP },
	{ "postern accounts",
	  "usage: postern accounts [--json]\n"
	  "\n"
	  "Check the config file and show each account: where it connects,\n"
	  "the user, the mechanism and where the password comes from (for\n"
	  "password_command, the exact words that will be run).  Nothing is\n"
	  "connected to and nothing is run.\n"
	  "\n"
	  "  -j, --json  one JSON object per account\n"
	  "  -h, --help  show this help\n" },
	{ "postern mime",
	  "usage: postern mime SUBCOMMAND [OPTIONS] ARGS...\n"
	  "\n"
	  "Subcommands:\n"
	  "  tree         the part tree of messages (--json for scripts)\n"
	  "  body         the message body as text\n"
	  "  attachments  the attachments of messages\n"
	  "  extract      write decoded parts to files, safely\n"
	  "  compose      build a message from text, html and files\n"
	  "  cat          the decoded bytes of one part\n"
	  "  write        write a message back (byte-identical, or --eol)\n"
	  "\n"
	  "FILE is a path or '-' for stdin.  'postern mime SUBCOMMAND --help'\n"
	  "shows the options of each.  See postern-mime(1).\n" },
	{ "postern mime tree",
	  "usage: postern mime tree [--json] [--files-from LIST] FILE...\n"
	  "\n"
	  "Print the part tree: section, type, decoded size, filename.\n"
	  "\n"
	  "  -j, --json             one JSON object per message\n"
	  "  -f, --files-from LIST  also read message paths from LIST, one a\n"
	  "                         line ('-' for stdin)\n"
	  "  -h, --help             show this help\n"
	  "\n"
	  "FILE may be a Maildir folder (every file in cur/ and new/).  With\n"
	  "several messages, plain output has one block per message headed by\n"
	  "its path, and --json prints JSON Lines with a \"file\" key.\n" },
	{ "postern mime body",
	  "usage: postern mime body [--prefer LIST] FILE\n"
	  "\n"
	  "Print the message body as UTF-8 text.\n"
	  "\n"
	  "  -p, --prefer LIST  comma-separated from related, html, plain in\n"
	  "                     order of preference (default related,html,plain)\n"
	  "  -h, --help         show this help\n"
	  "\n"
	  "Exits 1 when the message has no such body.\n" },
	{ "postern mime attachments",
	  "usage: postern mime attachments [--json] [--files-from LIST] FILE...\n"
	  "\n"
	  "List the attachments (the parts that are not the body): section,\n"
	  "type, filename, decoded size.\n"
	  "\n"
	  "  -j, --json             one JSON object per message\n"
	  "  -f, --files-from LIST  also read message paths from LIST\n"
	  "  -h, --help             show this help\n" },
	{ "postern mime extract",
	  "usage: postern mime extract (--part SECTION... | --all) [-o DIR]\n"
	  "                            [--force] FILE\n"
	  "\n"
	  "Write decoded parts to files in DIR under safe names.\n"
	  "\n"
	  "  -p, --part SECTION  the part to write (repeatable)\n"
	  "  -a, --all           every leaf part (not multipart containers;\n"
	  "                      the parts of attached messages too)\n"
	  "  -o, --output DIR    where to write (default .; created if missing)\n"
	  "  -f, --force         replace existing files instead of adding -1, -2\n"
	  "  -h, --help          show this help\n" },
	{ "postern mime compose",
	  "usage: postern mime compose --from ADDR --to ADDR --subject TEXT\n"
	  "         [--cc ADDR] [--text FILE] [--html FILE] [--related [CID=]FILE]\n"
	  "         [--attach FILE] [--header 'Name: value'] [-o OUT [--force]]\n"
	  "\n"
	  "Build a message and write it to OUT or stdout.\n"
	  "\n"
	  "  --from ADDR, --to ADDR, --cc ADDR   addresses (--to, --cc repeatable)\n"
	  "  -s, --subject TEXT   the subject (UTF-8)\n"
	  "  --text FILE          the text/plain body (UTF-8; '-' for stdin)\n"
	  "  --html FILE          the text/html body (with --text: alternative)\n"
	  "  --related [CID=]FILE an inline part the html refers to as cid:CID;\n"
	  "                       without CID= one is generated and printed\n"
	  "  --attach FILE        an attachment (type detected from content)\n"
	  "  --header 'N: v'      an extra header field (repeatable)\n"
	  "  -o, --output OUT     write to OUT atomically (refuses to replace)\n"
	  "  -f, --force          replace OUT if it exists\n"
	  "  -h, --help           show this help\n"
	  "\n"
	  "CR or LF in any value is refused (header injection).\n" },
	{ "postern mime cat",
	  "usage: postern mime cat [--force] FILE SECTION\n"
	  "\n"
	  "Write the transfer-decoded bytes of part SECTION to stdout.\n"
	  "\n"
	  "  -f, --force  write a non-text part to a terminal anyway (sanitised)\n"
	  "  -h, --help   show this help\n" },
	{ "postern mime write",
	  "usage: postern mime write [--eol crlf|lf] [-o OUT [--force]] FILE\n"
	  "\n"
	  "Parse FILE and write it back.  Without --eol the output is the\n"
	  "input byte for byte: parsing loses nothing.\n"
	  "\n"
	  "  -e, --eol crlf|lf    make every line ending CRLF (as IMAP APPEND\n"
	  "                       wants) or LF; binary parts are left alone\n"
	  "  -o, --output OUT     write to OUT atomically (refuses to replace)\n"
	  "  -f, --force          replace OUT if it exists\n"
	  "  -h, --help           show this help\n" },
};

int cli_help(const char *cmd, FILE *f)
{
	size_t i;

	for (i = 0; i < sizeof(help_texts) / sizeof(help_texts[0]); i++) {
		if (strcmp(help_texts[i].cmd, cmd) == 0) {
			fputs(help_texts[i].text, f);
			return 0;
		}
	}
	return -1;
}

void cli_put(FILE *f, bool tty, const char *s, size_t len, unsigned flags)
{
	struct pn_buf b;

	if (!tty) {
		fwrite(s, 1, len, f);
		return;
	}
	pn_buf_init(&b, 0);
	if (pn_sanitize_term(s, len, flags, &b) == 0)
		fwrite(b.data ? b.data : "", 1, b.len, f);
	pn_buf_free(&b);
}

void cli_puts(FILE *f, bool tty, const char *s)
{
	cli_put(f, tty, s, strlen(s), 0);
}

static struct pn_error *error_tap;

void cli_error_tap(struct pn_error *err)
{
	error_tap = err;
}

static void verror(const char *cmd, const char *fmt, va_list ap,
		   const char *suffix)
{
	char msg[1024];
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	if (error_tap)
		pn_error_set(error_tap, PN_EIO, "%.*s", n, msg);
	/* The message may quote a file name or a header from mail. */
	fflush(stdout);
	fprintf(stderr, "%s: ", cmd);
	cli_put(stderr, isatty(STDERR_FILENO), msg, n, 0);
	fprintf(stderr, "%s\n", suffix);
}

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(cmd, fmt, ap, "");
	va_end(ap);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	char suffix[160];
	va_list ap;

	snprintf(suffix, sizeof(suffix), " (try '%s --help')", cmd);
	va_start(ap, fmt);
	verror(cmd, fmt, ap, suffix);
	va_end(ap);
	return CLI_USAGE;
}

/* glibc leaves the offending word in argv[optind - 1] for long options,
 * but a short option inside a cluster ("-xj") only in optopt; a word that
 * names one of our long options tells the two apart. */
static bool is_long_word(const char *a, const struct option *longopts)
{
	size_t n;

	if (!a || strncmp(a, "--", 2) != 0)
		return false;
	if (optopt == 0)
		return true;
	n = strcspn(a + 2, "=");
	for (; longopts && longopts->name; longopts++) {
		if (strlen(longopts->name) == n &&
		    strncmp(longopts->name, a + 2, n) == 0)
			return true;
	}
	return false;
}

int cli_getopt_error(const char *cmd, int c, char **argv,
		     const struct option *longopts)
{
	const char *a = optind > 0 ? argv[optind - 1] : NULL;
	char word[64];

	if (is_long_word(a, longopts))
		snprintf(word, sizeof(word), "%.*s", (int)strcspn(a, "="), a);
	else
		snprintf(word, sizeof(word), "-%c", optopt);
	if (c == ':')
		return cli_usage(cmd, "missing argument for '%s'", word);
	if (optopt != 0 && a && strchr(a, '=') && is_long_word(a, longopts))
		return cli_usage(cmd, "option '%s' takes no argument", word);
	return cli_usage(cmd, "unknown option '%s'", word);
}

int cli_finish_stdout(const char *cmd, int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error(cmd, "write error: %s", strerror(errno));
		return CLI_FAIL;
	}
	return status;
}
