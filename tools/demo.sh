#!/bin/sh
# demo.sh - a short tour of the MIME engine over the demo Maildir
# (share/demo/, written by tools/gen-demo.py).  `make demo` runs it after
# building ./postern.  Until the browser exists this walks a few messages
# with `postern mime tree`, `body` and `attachments`.
#
# Works without a terminal or stdin (CI); exits non-zero as soon as postern
# fails on a message that should work.
# usage: tools/demo.sh   (POSTERN=path overrides ./postern)
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
demo="$top/share/demo"
postern=${POSTERN:-"$top/postern"}

if [ ! -x "$postern" ]; then
	echo "demo: $postern not found; run 'make' first" >&2
	exit 1
fi
if [ ! -f "$demo/index.txt" ]; then
	echo "demo: $demo/index.txt missing; run tools/gen-demo.py" >&2
	exit 1
fi

# Bold headings only on a terminal.
if [ -t 1 ]; then
	b=$(printf '\033[1m')
	n=$(printf '\033[0m')
else
	b=
	n=
fi

status=0
fail() {
	echo "demo: FAILED: $*" >&2
	status=1
}

# index.txt: key <TAB> path <TAB> description
lookup() {
	awk -F '\t' -v k="$1" '$1 == k { print $2 "\t" $3; exit }' \
		"$demo/index.txt"
}

show() {
	key=$1
	line=$(lookup "$key")
	if [ -z "$line" ]; then
		fail "no demo message '$key' in index.txt"
		return
	fi
	rel=${line%%	*}
	desc=${line#*	}
	file="$demo/$rel"
	echo
	echo "${b}== $key: $desc${n}"
	echo "   share/demo/$rel"
	echo
	echo "${b}-- postern mime tree${n}"
	"$postern" mime tree "$file" </dev/null || fail "mime tree $rel"
	echo
	echo "${b}-- postern mime body (first 15 lines)${n}"
	# Every message shown here has a body, so exit 1 (no body) is a failure.
	if out=$("$postern" mime body "$file" </dev/null); then
		printf '%s\n' "$out" | head -n 15
	else
		fail "mime body $rel"
	fi
	echo
	echo "${b}-- postern mime attachments${n}"
	out=$("$postern" mime attachments "$file" </dev/null) ||
		fail "mime attachments $rel"
	if [ -n "$out" ]; then
		printf '%s\n' "$out"
	else
		echo "(none)"
	fi
}

echo "${b}postern demo${n}: $(grep -vc '^#' "$demo/index.txt") messages in" \
	"share/demo (a Maildir); seven of them up close."

for key in full related-start rfc2231 outlook-names forward-nested digest \
	cte-trailing-space; do
	show "$key"
done

# The whole folder at once, JSON Lines: one object per message.
echo
echo "${b}== every message, one JSON line each (first 3 shown)${n}"
out=$("$postern" mime tree --json "$demo" </dev/null) ||
	fail "mime tree --json share/demo"
printf '%s\n' "$out" | head -n 3 | cut -c 1-200
echo "... $(printf '%s\n' "$out" | wc -l) lines"

cat <<EOF

${b}Try next${n}
  ./postern mime tree share/demo                 every message's part tree
  ./postern mime tree --json share/demo/cur/FILE  the tree as JSON
  ./postern mime body --prefer plain FILE         the plain-text body
  ./postern mime attachments FILE                 what iter_attachments yields
  ./postern mime extract --all -o /tmp/out FILE   save the parts, safely named
  ./postern mime cat FILE 2                       the decoded bytes of part 2
  ./postern help mime                             all mime subcommands
  less share/demo/index.txt                       what each demo message shows
EOF

if [ "$status" -ne 0 ]; then
	echo "demo: postern failed on at least one message (see above)" >&2
fi
exit "$status"
