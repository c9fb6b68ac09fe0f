#!/usr/bin/env bash
# test/fuzz.sh TARGET FUZZTIME PACKAGE: runs one fuzz target for FUZZTIME.
#
# With a time budget, `go test -fuzz` sometimes fails with a bare "context
# deadline exceeded" as the time runs out while a worker is mid-call: a race
# in Go's fuzzing coordinator (golang/go#51484, #75804), more likely on a
# loaded machine, that finds nothing. A real finding prints "Failing input
# written to" (the input stays in PACKAGE/testdata/fuzz/TARGET) or a panic.
# So a run that failed with the bare deadline and nothing else is run once
# more; any other failure, or the same one twice, fails.
set -uo pipefail
target=$1 fuzztime=$2 pkg=$3
for attempt in 1 2; do
  log=$(mktemp)
  go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  if [ "$status" -eq 0 ]; then
    rm -f "$log"; exit 0
  fi
  if ! grep -q 'context deadline exceeded' "$log" ||
    grep -Eq 'Failing input written to|panic:' "$log"; then
    rm -f "$log"; exit "$status"
  fi
  rm -f "$log"
  [ "$attempt" -eq 1 ] && echo "== $target: Go's fuzz coordinator missed its own deadline (no failing input); running it once more"
done
exit 1
