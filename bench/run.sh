#!/bin/sh
# bench/run.sh - `make bench`: the benchmarks, side by side in one run.
# Installs what they need (GMime 3, GNU time) when run as root, then runs
# bench/mime/run.py, bench/imap/run.py and bench/maildir/run.py; the
# report is also saved in bench/out/ (not in git).
# Arguments go to bench/mime/run.py (e.g. --mb 100 --no-big).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

if ! sh tools/deps.sh bench; then
	echo "bench: could not install the benchmark packages; GMime may be skipped" >&2
fi
if ! command -v /usr/bin/time >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1 ||
		echo "bench: GNU time not installed; using getrusage" >&2
fi
if [ ! -x "${POSTERN:-./postern}" ]; then
	make || exit 1
fi

mkdir -p bench/out
report="bench/out/bench-$(date +%Y%m%d-%H%M%S).txt"
rcfile=$(mktemp)
trap 'rm -f "$rcfile"' EXIT
{
	python3 bench/mime/run.py "$@"
	echo $? >"$rcfile"
	python3 bench/imap/run.py || echo 1 >"$rcfile"	# bench/README.md
	python3 bench/maildir/run.py || echo 1 >"$rcfile"
} 2>&1 | tee "$report"
rc=$(cat "$rcfile")
echo "bench: report saved in $report"
exit "${rc:-1}"
