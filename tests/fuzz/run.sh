#!/bin/sh
# tests/fuzz/run.sh - run each libFuzzer target for SECONDS over a seed
# corpus, speaking TAP ("ok 1 - fuzz_mime_parser 60s 123456 runs").
# usage: run.sh SECONDS BIN...
#
# Seeds are the public MIME corpus (../shared/corpus/mime-public next to
# the repository), copied to a temporary directory so the run never
# writes into it.  A target's dictionary is tests/fuzz/<target>.dict.
# Crash inputs are kept in build-fuzz/crashes/.
set -u
if [ $# -lt 2 ]; then
	echo "usage: run.sh SECONDS BIN..." >&2
	exit 2
fi
secs=$1
shift
top=$(cd "$(dirname "$0")/../.." && pwd)
seeds="$top/../shared/corpus/mime-public"
echo "1..$#"
if [ ! -d "$seeds" ]; then
	n=0
	for bin in "$@"; do
		n=$((n + 1))
		echo "not ok $n - $(basename "$bin"): seed corpus $seeds missing" \
			"(the shared corpus must sit next to the repository)"
	done
	exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/postern-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
crashes="$top/build-fuzz/crashes"
mkdir -p "$crashes"
n=0
failed=0
for bin in "$@"; do
	n=$((n + 1))
	name=$(basename "$bin")
	corpus="$work/corpus-$name"
	mkdir -p "$corpus"
	cp "$seeds"/* "$corpus"/ 2>/dev/null
	dict="$top/tests/fuzz/$name.dict"
	log="$work/$name.log"
	if [ -f "$dict" ]; then
		"$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
			-max_len=65536 -print_final_stats=1 \
			-artifact_prefix="$crashes/$name-" -dict="$dict" \
			"$corpus" >"$log" 2>&1
	else
		"$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
			-max_len=65536 -print_final_stats=1 \
			-artifact_prefix="$crashes/$name-" \
			"$corpus" >"$log" 2>&1
	fi
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	[ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
	if [ "$rc" -eq 0 ]; then
		echo "ok $n - $name ${secs}s ${runs:-0} runs"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name ${secs}s ${runs:-?} runs (exit $rc)"
		grep -E 'ERROR|SUMMARY|^artifact|Test unit written' "$log" |
			head -20 | sed 's/^/# /'
	fi
done
echo "$((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
