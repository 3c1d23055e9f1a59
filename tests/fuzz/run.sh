#!/bin/sh
# Runs libFuzzer targets for SECONDS each, JOBS at a time, from their committed
# seeds (tests/fuzz/corpus/NAME) and what earlier runs kept (build/fuzz/corpus/NAME).
# A failing target does not stop the others; each prints one line, and the run
# fails if any target did.          usage: run.sh SECONDS JOBS TARGET...
set -u
if [ "$1" = --one ]; then
	seconds=$2 t=$3
	mkdir -p build/fuzz/corpus/$t
	if build/fuzz/$t -max_total_time="$seconds" -print_final_stats=0 \
		-artifact_prefix=build/fuzz/crash-$t- build/fuzz/corpus/$t tests/fuzz/corpus/$t \
		2> build/fuzz/$t.log; then verdict=ok; else verdict="FAILED, see build/fuzz/$t.log"; fi
	# libFuzzer's last status line: "#RUNS DONE cov: C ft: F corp: N/SIZE exec/s: E ..."
	last=$(grep -E '^#[0-9]+' build/fuzz/$t.log | tail -1)
	field() { echo "$last" | sed -n "s/.* $1: \([0-9]*\).*/\1/p"; }
	echo "fuzz: $t $seconds s: $(echo "$last" | sed -n 's/^#\([0-9]*\).*/\1/p') executions," \
		"cov $(field cov), ft $(field ft), corpus $(field corp): $verdict"
	[ "$verdict" = ok ]
	exit
fi
seconds=$1 jobs=$2
shift 2
printf '%s\n' "$@" | xargs -P "$jobs" -I{} "$0" --one "$seconds" {}
