#!/usr/bin/env bash
# instructions.sh: instructions one iteration of a Go benchmark executes,
# counted by valgrind's cachegrind. On a shared 2-core machine wall-clock
# benchmarks move by 10-20 % between runs; instruction counts move by less
# than 0.1 %, which is what a change of a few percent needs to be seen.
#
#   test/bench/instructions.sh PACKAGE BENCH [N1 N2]
#   test/bench/instructions.sh ./labels/ '^BenchmarkLabelAll$/^checked$/^entries=1000$'
#
# It runs the benchmark N1 and N2 times (default 10 and 30) under cachegrind
# with GOMAXPROCS=1 and GOGC=off, so that neither the scheduler nor the
# collector varies, and prints (instructions(N2) - instructions(N1)) /
# (N2 - N1): the setup both runs share drops out. Counts leave out the
# collector's work (GOGC=off), so read allocations from -benchmem. Needs
# valgrind (apt-get install valgrind). Compare two commits by building each
# one's test binary (git worktree) and passing it with BIN=path.
set -euo pipefail
pkg=${1:?package, e.g. ./labels/}
bench=${2:?benchmark regexp}
n1=${3:-10}
n2=${4:-30}
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is missing (apt-get install valgrind)" >&2; exit 2; }
bin=${BIN:-}
if [ -z "$bin" ]; then
	bin=$(mktemp /tmp/ds4p-instr.XXXXXX)
	trap 'rm -f "$bin"' EXIT
	go test -c -o "$bin" "$pkg"
fi
count() {
	local out
	out=$(GOMAXPROCS=1 GOGC=off valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
		"$bin" -test.run '^$' -test.bench "$bench" -test.benchtime "${1}x" 2>&1)
	if grep -q 'unhandled instruction bytes' <<<"$out"; then
		echo "instructions.sh: $(valgrind --version) cannot run this test binary: it does not decode an instruction the Go runtime executes" >&2
		echo "  (Go 1.26's runtime reads the clock with rdtscp; valgrind 3.19 stops there with SIGILL). Use a newer valgrind, or compare -benchmem and interleaved CPU figures." >&2
		grep -m1 'unhandled instruction bytes' <<<"$out" >&2
		return 2
	fi
	local ran
	ran=$(grep -c '^Benchmark' <<<"$out" || true)
	if [ "$ran" != 1 ]; then
		echo "instructions.sh: $bench ran $ran benchmarks, want exactly 1 (anchor it: '^BenchmarkX\$/sub\$')" >&2
		grep '^Benchmark' <<<"$out" >&2 || true
		return 1
	fi
	awk '/I[ ]+refs:/ { gsub(",", "", $4); print $4 }' <<<"$out"
}
a=$(count "$n1")
b=$(count "$n2")
echo $(((b - a) / (n2 - n1)))
