#!/bin/sh
# Run test programs and sum their results.  Every program speaks TAP
# ("ok N - name" / "not ok N - name"): cmocka binaries through
# CMOCKA_MESSAGE_OUTPUT=TAP, script tests by writing it themselves.  A
# program that exits non-zero without a failing line (a crash, say) counts
# as one failure, and so does one that ran no test at all: nothing is
# skipped silently.  Ends with the plain line "N passed, N failed".
# usage: run.sh BUILD_DIR PROGRAM...
set -u
shift	# build dir: kept for symmetry with the Makefile, unused
pass=0
fail=0
failed_progs=""
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for prog in "$@"; do
	CMOCKA_MESSAGE_OUTPUT=TAP "$prog" >"$out" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^not ok ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $prog exited with status $rc" >>"$out"
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $prog ran no test" >>"$out"
	fi
	if [ "$f" -ne 0 ]; then
		echo "FAIL $prog ($p passed, $f failed)"
		grep -v '^ok ' "$out" | sed 's/^/    /'
		failed_progs="$failed_progs $prog"
	else
		echo "ok   $prog ($p passed)"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
done
[ -n "$failed_progs" ] && echo "failed:$failed_progs"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
