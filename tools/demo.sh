#!/bin/sh
# demo.sh - postern on the demo mailbox: a real IMAP session first, then a
# glimpse of the MIME engine.  `make demo` runs it after `make deps` and
# building ./postern.
#
# share/demo/ (a Maildir written by tools/gen-demo.py) is copied into a
# fresh temporary directory and served by Dovecot's imap binary run as a
# tunnel: pre-authenticated on stdin/stdout, so there is no daemon, no port
# and no password, and nothing for the user to configure.  The copy, not
# share/demo, is what Dovecot adds its index and UID files to.  It is
# removed on exit (POSTERN_DEMO_KEEP=1 keeps it, to go on by hand).
#
# Once postern has a REPL, the demo ends in `postern repl` on the same
# copy when it runs on a terminal.
#
# Works without a terminal or stdin (CI); exits non-zero with a
# "demo: FAILED: ..." line when the tunnel cannot be set up or postern
# fails on something that should work.
# usage: tools/demo.sh   (POSTERN=path overrides ./postern and
#                         POSTERN_DOVECOT_IMAP=path /usr/lib/dovecot/imap)
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
demo="$top/share/demo"
postern=${POSTERN:-"$top/postern"}
imap=${POSTERN_DOVECOT_IMAP:-/usr/lib/dovecot/imap}
keep=${POSTERN_DEMO_KEEP:-}

# Bold headings only on a terminal.
if [ -t 1 ]; then
	b=$(printf '\033[1m')
	n=$(printf '\033[0m')
else
	b=
	n=
fi

# die: the demo cannot go on (and Dovecot may have said why: the end of
# its log, once there is one, without its "Disconnected" lines).
# fail: one command failed, the rest is still worth showing; the exit
# status says so at the end.
log=
die() {
	if [ -n "$log" ] && [ -s "$log" ]; then
		grep -v ': Info: ' "$log" | tail -n 5 |
			sed 's/^/demo: dovecot: /' >&2
	fi
	echo "demo: FAILED: $*" >&2
	exit 1
}
status=0
fail() {
	echo "demo: FAILED: $*" >&2
	status=1
}

if [ ! -x "$postern" ]; then
	die "$postern not found; run 'make' first"
fi
if [ ! -f "$demo/index.txt" ]; then
	die "$demo/index.txt missing; run tools/gen-demo.py"
fi
# lookup KEY: the path of a demo message, from index.txt
# (key <TAB> path <TAB> description).
lookup() {
	awk -F '\t' -v k="$1" '$1 == k { print $2; exit }' "$demo/index.txt"
}
full=$(lookup full)
broken=$(lookup no-close-boundary)
latin1=$(lookup latin1)
if [ -z "$full" ] || [ -z "$broken" ] || [ -z "$latin1" ]; then
	die "$demo/index.txt lacks full, no-close-boundary or latin1;" \
		"run tools/gen-demo.py"
fi
if [ ! -x "$imap" ]; then
	die "Dovecot's imap binary $imap is missing: install the" \
		"dovecot-imapd package ('make demo' does, through 'make deps')"
fi

# ---- the copy and its Dovecot --------------------------------------------

# Traps first, so that an interrupted demo leaves nothing behind either.
# A signal exits through the EXIT trap; without these, sh would die
# without running it.
tmp=
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	if [ -n "$tmp" ] && [ -z "$keep" ]; then
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

tmp=$(mktemp -d "${TMPDIR:-/tmp}/postern-demo.XXXXXX") ||
	die "mktemp -d failed (TMPDIR=${TMPDIR:-/tmp})"
# The tunnel is a shell command string that users also paste: keep its
# paths free of anything that would need quoting.
case $tmp$imap in
*[!A-Za-z0-9/._-]*)
	die "'$tmp' or '$imap' has characters a shell would need quoted;" \
		"set TMPDIR to a plain directory" ;;
esac

# Only the Maildir itself: index.txt is the demo's, not a message.
mail=$tmp/mail
if ! { mkdir "$mail" && cp -R "$demo/cur" "$demo/new" "$demo/tmp" "$mail/"; }
then
	die "cannot copy $demo to $mail"
fi

# Dovecot takes a Maildir message's INTERNALDATE from its file's mtime,
# and git does not keep the mtimes gen-demo.py set: put back the time that
# starts each file name, so that the listing shows when the mail arrived,
# not when the repository was checked out.  (touch -d @SECONDS is GNU and
# busybox; elsewhere the dates are just today's.)
for f in "$mail"/cur/* "$mail"/new/*; do
	name=${f##*/}
	stamp=${name%%.*}
	case $stamp in
	'' | *[!0-9]*) continue ;;
	esac
	touch -d "@$stamp" "$f" 2>/dev/null || break
done

# The standalone imap logs to stderr; the tunnel sends that here, so that
# Dovecot's "Disconnected" lines stay out of the demo but its errors can
# still be shown.  log_path covers anything meant for Dovecot's own log,
# which would otherwise be under /var/log.
log=$tmp/imap.log
: >"$log" || die "cannot write $log"

# Dovecot never accesses mail as root ("Mail access not allowed for
# root"): as root, the copy and the log go to nobody, whom imap drops to,
# and the directory above them must let nobody through (mktemp made it
# 0700).  As anyone else, imap just runs as that user.
owner=
if [ "$(id -u)" -eq 0 ]; then
	if ! { mail_uid=$(id -u nobody) && mail_gid=$(id -g nobody); }; then
		die "running as root, and there is no user nobody for Dovecot" \
			"to access the mail as"
	fi
	if ! { chown -R "$mail_uid:$mail_gid" "$mail" "$log" &&
		chmod 0711 "$tmp"; }; then
		die "cannot give $mail to nobody"
	fi
	owner="mail_uid = $mail_uid
mail_gid = $mail_gid"
fi

# Read with -c, so /etc/dovecot is never consulted and nothing
# system-wide is needed: where the mail is, where to log, whom to run as.
conf=$tmp/dovecot.conf
cat >"$conf" <<EOF || die "cannot write $conf"
# written by postern's tools/demo.sh for one demo run
mail_location = maildir:$mail
log_path = $log
$owner
EOF

# USER names the pre-authenticated user and HOME its home: that is all a
# standalone imap needs to greet with PREAUTH.
tunnel="env USER=demo HOME=$tmp $imap -c $conf 2>>$log"

# Try the tunnel before postern uses it, so that a broken Dovecot or an
# unreadable copy is reported as that, in Dovecot's own words.
reply=$(printf 'a1 STATUS INBOX (MESSAGES)\r\na2 LOGOUT\r\n' |
	sh -c "$tunnel" | tr -d '\r')
case $reply in
'* PREAUTH '*) ;;
*)
	first=$(printf '%s\n' "$reply" | head -n 1)
	die "$imap did not greet with PREAUTH (it said: ${first:-nothing})" ;;
esac
case $reply in
*'
a1 OK '*) ;;
*)
	hint=
	if [ -n "$owner" ]; then
		hint=" (as root it reads it as nobody: every directory above"
		hint="$hint $tmp must be o+x; set TMPDIR to one that is)"
	fi
	die "Dovecot cannot read its copy of the mailbox, $mail$hint" ;;
esac

# ---- the IMAP session ----------------------------------------------------

# step HEADING CMD...: the heading (the command as a user would type it,
# with $TUNNEL for the tunnel), then the command.  Output goes straight to
# stdout, so that on a terminal postern lays it out for the terminal.
# stdin is closed: nothing here may wait for a user.
step() {
	heading=$1
	shift
	echo
	echo "${b}-- $heading${n}"
	"$@" </dev/null || fail "$heading (exit $?)"
}

cat <<EOF
${b}postern demo${n}: an IMAP session on a copy of share/demo, a Maildir of $(grep -vc '^#' "$demo/index.txt")
messages, served by Dovecot's imap through a tunnel (pre-authenticated on
stdin/stdout: no daemon, no port).  \$TUNNEL below stands for:
  $tunnel
EOF

echo
echo "${b}== The mailboxes, and the messages of INBOX${n}"
step "postern ls --tunnel \"\$TUNNEL\" --status" \
	"$postern" ls --tunnel "$tunnel" --status
step "postern fetch --tunnel \"\$TUNNEL\" INBOX" \
	"$postern" fetch --tunnel "$tunnel" INBOX

# The message Thunderbird-style mail looks like (text and HTML
# alternatives, inline images, a PDF), found by its Message-ID rather than
# by a UID that depends on how Dovecot numbered the copy.
file="$demo/$full"
msgid=$(sed -n '/^$/q; s/^[Mm][Ee][Ss][Ss][Aa][Gg][Ee]-[Ii][Dd]:[ 	]*//p' \
	"$file" | head -n 1)
[ -n "$msgid" ] || die "no Message-ID in $file"
echo
echo "${b}== One message: text, HTML with inline images, a PDF${n}"
search="HEADER Message-ID $msgid"
step "postern fetch --tunnel \"\$TUNNEL\" INBOX --search '$search'" \
	"$postern" fetch --tunnel "$tunnel" INBOX --search "$search"
# Its UID: the first word of the table's second line.
uid=$("$postern" fetch --tunnel "$tunnel" INBOX --search "$search" \
	</dev/null | awk 'NR == 2 { print $1 }')
case $uid in
'' | *[!0-9]*) die "SEARCH found no message with Message-ID $msgid" ;;
esac
step "postern fetch --tunnel \"\$TUNNEL\" INBOX --uid $uid --structure" \
	"$postern" fetch --tunnel "$tunnel" INBOX --uid "$uid" --structure
# 1.1 is its text/plain part (tools/gen-demo.py, "full").
step "postern fetch --tunnel \"\$TUNNEL\" INBOX --uid $uid --part 1.1" \
	"$postern" fetch --tunnel "$tunnel" INBOX --uid "$uid" --part 1.1

# ---- the MIME engine -----------------------------------------------------

# What a server's BODYSTRUCTURE cannot say: the defects of a broken
# message, and a body decoded from its charset for the terminal.
echo
echo "${b}== The MIME engine, on the files (no server): a truncated" \
	"message's defects, a Latin-1 body${n}"
step "postern mime tree share/demo/$broken" \
	"$postern" mime tree "$demo/$broken"
step "postern mime body share/demo/$latin1" \
	"$postern" mime body "$demo/$latin1"

if [ "$status" -ne 0 ]; then
	die "postern failed on at least one command (see above)"
fi

# ---- what next -----------------------------------------------------------

# The notes are comments, so that each line can be pasted as it is.
cat <<EOF

${b}Try next${n}
  ./postern fetch --tunnel "\$TUNNEL" INBOX --search UNSEEN   # the unread ones
  ./postern fetch --tunnel "\$TUNNEL" INBOX --uid $uid --headers  # that message's header
  ./postern fetch --tunnel "\$TUNNEL" INBOX --uid $uid --part 2 >q1.pdf  # and its PDF
  ./postern fetch --tunnel "\$TUNNEL" INBOX --raw -o saved   # saved/UID.eml each
  ./postern mime tree share/demo    # every message's part tree, from the files
  ./postern help fetch              # all that fetch does
  less share/demo/index.txt         # what each demo message is there for
EOF

# The REPL takes the terminal; the copy stays until it exits.  INT and QUIT
# are the REPL's then: a trap that does nothing keeps them from ending the
# shell (and removing the copy) under it, and the REPL still gets them
# with their default actions.
if "$postern" repl --help >/dev/null 2>&1 && [ -t 0 ] && [ -t 1 ]; then
	echo
	echo "${b}== postern repl --tunnel \"\$TUNNEL\"${n}  (the copy is removed when it ends)"
	trap : INT QUIT
	"$postern" repl --tunnel "$tunnel"
	exit
fi

echo
echo "Not a terminal, so no console now.  To type IMAP at this copy" \
	"yourself (the browser is coming), paste:"
echo "  TUNNEL='$tunnel'"
echo "  postern repl --tunnel \"\$TUNNEL\""
if [ -n "$keep" ]; then
	echo "(the copy stays in $tmp: rm -rf it when done)"
else
	echo "(this copy is removed as the demo ends;" \
		"POSTERN_DEMO_KEEP=1 make demo keeps it)"
fi
exit 0
