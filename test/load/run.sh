#!/usr/bin/env bash
# test/load/run.sh: ds4p against a direct call and a plain reverse proxy, in one go.
#
# For each upstream (a static Go server that answers with fixed bytes, and Medplum loaded
# with the same generated population), it starts a pass-through proxy
# (httputil.ReverseProxy) and `ds4p serve` (real policy, consent store with one Part 2
# consent, fsynced ledger, dev tokens), then sends, interleaved round by round,
# direct → pass-through → ds4p, for
#   (a) a single read, (b) a 1,000-entry search, (c) Patient/$everything,
# at concurrency 1 and 8, with wrk (Debian's; installed when missing, else the Go
# fallback test/load/loadgen). It prints and writes (OUT) a markdown table: requests/s,
# the ratios ds4p/direct and ds4p/pass-through, p50/p99, the CPU each proxy used per
# request, ds4p's peak RSS, and the machine. Ratios from one run are what count: absolute numbers move between runs on a
# shared 2-core machine.
#
# Loopback only. Every run is bounded by DURATION and MAX_REQUESTS; every server started
# here exits by itself after LIFETIME and is stopped (by its PID) when the script ends.
#
# Environment (defaults): DURATION=5 (seconds per run) ROUNDS=2 CONCURRENCY="1 8"
#   UPSTREAMS="static medplum" KINDS="read search everything" MAX_REQUESTS=500000
#   LOADGEN=auto (wrk|go) OUT=test/load/results/latest.md LIFETIME=45m KEEP=0 (keep logs)
#   LOAD_REVISION (what the table names as the code measured; default: git HEAD)
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-2}
CONCURRENCY=${CONCURRENCY:-"1 8"}
UPSTREAMS=${UPSTREAMS:-"static medplum"}
KINDS=${KINDS:-"read search everything"}
MAX_REQUESTS=${MAX_REQUESTS:-500000}
LOADGEN=${LOADGEN:-auto}
OUT=${OUT:-test/load/results/latest.md}
LIFETIME=${LIFETIME:-45m}
KEEP=${KEEP:-0}

work=$(mktemp -d "${TMPDIR:-/tmp}/ds4p-load.XXXXXX")
bin=$work/bin
pids=()

cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ] || [ "$KEEP" = 1 ]; then
    echo "logs kept in $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "== $*" >&2; }

# ---- the load generator
choose_loadgen() {
  if [ "$LOADGEN" = go ]; then return; fi
  if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      log "installing wrk (Debian)"
      timeout 300 apt-get install -y wrk >"$work/apt.log" 2>&1 ||
        { timeout 300 apt-get update >>"$work/apt.log" 2>&1 && timeout 300 apt-get install -y wrk >>"$work/apt.log" 2>&1; } || true
    fi
  fi
  if command -v wrk >/dev/null; then
    LOADGEN=wrk
  elif [ "$LOADGEN" = wrk ]; then
    echo "wrk is not installed and could not be installed" >&2
    exit 1
  else
    log "wrk unavailable: using the Go load generator (test/load/loadgen)"
    LOADGEN=go
  fi
}

loadgen_version() {
  if [ "$LOADGEN" = wrk ]; then
    { wrk -v 2>&1 || true; } | head -n1 | cut -d' ' -f1-2
  else
    echo 'test/load/loadgen (Go)'
  fi
}

# ---- processes
# start NAME CMD...: runs CMD under `timeout LIFETIME`, stdout to $work/NAME.out, stderr to
# $work/NAME.err, and waits (60 s at most) for its LISTENING / "listening on" line. Sets
# STARTED_URL and STARTED_PID (the command's own PID, for /proc).
start() {
  local name=$1
  shift
  timeout "$LIFETIME" "$@" >"$work/$name.out" 2>"$work/$name.err" &
  local tpid=$!
  pids+=("$tpid")
  STARTED_URL=""
  for _ in $(seq 1 600); do
    STARTED_URL=$(sed -n -e 's/^LISTENING \([^ ]*\).*/\1/p' -e 's/^ds4p listening on \([^ ]*\).*/\1/p' "$work/$name.out" | head -n1)
    [ -n "$STARTED_URL" ] && break
    kill -0 "$tpid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$STARTED_URL" ]; then
    echo "$name did not start; stderr:" >&2
    tail -n 30 "$work/$name.err" >&2
    exit 1
  fi
  STARTED_PID=$(pgrep -P "$tpid" | head -n1)
  STARTED_PID=${STARTED_PID:-$tpid}
}

rss_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# cpu_ticks PID: the process's user+system CPU so far, in clock ticks (CLK_TCK).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
reset_hwm() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || true; }

# expect_200 URL [TOKEN]
expect_200() {
  local code
  local auth=()
  [ -n "${2:-}" ] && auth=(-H "Authorization: Bearer $2")
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "${auth[@]}" -H 'Accept: application/fhir+json' "$1")
  if [ "$code" != 200 ]; then
    echo "GET $1 answered $code" >&2
    exit 1
  fi
}

# ---- one upstream with its two proxies
declare -A DIRECT PASS DS4P TOKEN DS4P_PID PASS_PID
READ_PATH=""

setup_upstream() {
  local u=$1 base
  case $u in
    static)
      start upstream-static "$bin/upstream"
      base=$STARTED_URL
      ;;
    medplum)
      log "installing Medplum (npm registry; a no-op when present)"
      bash test/medplum/install.sh >"$work/medplum-install.log" 2>&1 ||
        { tail -n 30 "$work/medplum-install.log" >&2; exit 1; }
      start upstream-medplum test/medplum/node_modules/node/bin/node test/medplum/server.mjs --port 0
      base=$STARTED_URL
      log "loading the population into Medplum"
      timeout 600 "$bin/medplumload" --base "$base" 2>&1 | sed 's/^/   /' >&2
      ;;
    *)
      echo "unknown upstream $u" >&2
      exit 1
      ;;
  esac
  DIRECT[$u]=$base
  start "passthrough-$u" "$bin/passthrough" --upstream "$base"
  PASS[$u]=$STARTED_URL
  PASS_PID[$u]=$STARTED_PID
  local data=$work/data-$u
  # One token at full speed: the per-caller rate limits would measure themselves (README).
  # Metrics go to the sink every 250 ms: the ledger's durability wait is read from them.
  start "ds4p-$u" env DS4P_RATE_LIMITS_ENABLED=false OTEL_EXPORTER_OTLP_ENDPOINT="$SINK" \
    OTEL_TRACES_EXPORTER=none OTEL_METRIC_EXPORT_INTERVAL=250 OTEL_SERVICE_NAME="ds4p-$u" \
    "$bin/ds4p" serve --upstream "$base" --listen 127.0.0.1:0 --data "$data" --dev-auth
  DS4P[$u]=$STARTED_URL
  DS4P_PID[$u]=$STARTED_PID
  TOKEN[$u]=$("$bin/ds4p" token --data "$data" --sub load --org Organization/bench --client load \
    --purpose TREAT --scope 'user/*.read' --ttl 2h)
  local admin code
  admin=$("$bin/ds4p" token --data "$data" --sub load-admin --org Organization/ds4p-operator --client load \
    --scope ds4p/consent-manager --ttl 1h)
  code=$(curl -s -o "$work/consent-$u.json" -w '%{http_code}' --max-time 30 -X POST \
    -H "Authorization: Bearer $admin" -H 'Content-Type: application/fhir+json' \
    --data-binary @test/load/consent.json "${DS4P[$u]%/fhir}/admin/Consent")
  if [ "$code" != 201 ] && [ "$code" != 200 ]; then
    echo "storing the Part 2 consent through $u's ds4p answered $code: $(head -c 400 "$work/consent-$u.json")" >&2
    exit 1
  fi
  for k in $KINDS; do
    expect_200 "${DIRECT[$u]}/$(path_of "$k")"
    expect_200 "${PASS[$u]}/$(path_of "$k")"
    expect_200 "${DS4P[$u]}/$(path_of "$k")" "${TOKEN[$u]}"
  done
  log "$u: direct ${DIRECT[$u]}, pass-through ${PASS[$u]}, ds4p ${DS4P[$u]} (pid ${DS4P_PID[$u]}, idle RSS $(($(rss_kb "${DS4P_PID[$u]}" VmRSS) / 1024)) MB)"
}

path_of() {
  case $1 in
    read) echo "$READ_PATH" ;;
    search) echo 'Observation?_count=1000' ;;
    everything) echo 'Patient/pat-0/$everything' ;;
  esac
}

# ledger_totals U: "COUNT SUM_SECONDS" of U's ds4p appends so far, as its
# latest metrics export says (after a pause longer than the export interval).
ledger_totals() {
  sleep 0.6
  curl -s --max-time 5 "$SINK/ledger?service=ds4p-$1" || echo "0 0"
}

# load URL C TOKEN: one bounded run; prints the RESULT line's fields.
load() {
  local url=$1 c=$2 token=$3 line
  if [ "$LOADGEN" = wrk ]; then
    local t=$((c < 2 ? c : 2))
    line=$(TOKEN=$token WRK_THREADS=$t MAX_REQUESTS=$MAX_REQUESTS \
      timeout $((DURATION + 60)) wrk -t "$t" -c "$c" -d "${DURATION}s" --timeout 10s -s test/load/wrk.lua "$url" | grep '^RESULT' || true)
  else
    local auth=()
    [ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
    line=$(timeout $((DURATION + 60)) "$bin/loadgen" -url "$url" -c "$c" -d "${DURATION}s" \
      -max-requests "$MAX_REQUESTS" -H 'Accept: application/fhir+json' "${auth[@]}" | grep '^RESULT' || true)
  fi
  if [ -z "$line" ]; then
    echo "the load generator gave no result for $url" >&2
    exit 1
  fi
  # RESULT requests=.. duration_s=.. rps=.. p50_ms=.. p90_ms=.. p99_ms=.. max_ms=.. non2xx=.. errors=.. bytes=..
  echo "$line" | sed -e 's/^RESULT //' -e 's/[a-z0-9_]*=//g' | tr ' ' '\t'
}

# ---- main
choose_loadgen
mkdir -p "$bin" "$(dirname "$OUT")"
log "building ds4p and the load-test programs"
go build -o "$bin/" ./cmd/ds4p ./test/load/upstream ./test/load/passthrough ./test/load/medplumload \
  ./test/load/loadgen ./test/load/report ./test/load/otlpsink
READ_PATH=$("$bin/upstream" --print-read-path)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
start otlpsink "$bin/otlpsink"
SINK=$STARTED_URL
for u in $UPSTREAMS; do setup_upstream "$u"; done

rows=$work/rows.tsv
printf 'round\tupstream\tkind\tc\ttarget\trequests\tduration_s\trps\tp50_ms\tp90_ms\tp99_ms\tmax_ms\tnon2xx\terrors\tbytes\thwm_kb\tledger_appends\tledger_wait_ms\tcpu_us\n' >"$rows"
runs=$(($(wc -w <<<"$UPSTREAMS") * $(wc -w <<<"$KINDS") * $(wc -w <<<"$CONCURRENCY") * 3 * ROUNDS))
log "$runs runs of ${DURATION}s with $LOADGEN (about $((runs * (DURATION + 1) / 60 + 1)) min)"
for round in $(seq 1 "$ROUNDS"); do
  for u in $UPSTREAMS; do
    for k in $KINDS; do
      p=$(path_of "$k")
      for c in $CONCURRENCY; do
        for target in direct pass-through ds4p; do
          tok="" pid=""
          case $target in
            direct) url=${DIRECT[$u]}/$p ;;
            pass-through) url=${PASS[$u]}/$p pid=${PASS_PID[$u]} ;;
            ds4p) url=${DS4P[$u]}/$p tok=${TOKEN[$u]} pid=${DS4P_PID[$u]} ;;
          esac
          [ -n "$pid" ] && reset_hwm "$pid"
          [ "$target" = ds4p ] && before=$(ledger_totals "$u")
          t0=0
          [ -n "$pid" ] && t0=$(cpu_ticks "$pid")
          fields=$(load "$url" "$c" "$tok")
          # The proxy's CPU per request during the run (none for direct): less
          # noisy than throughput on a shared machine.
          cpu=0
          [ -n "$pid" ] && cpu=$(awk -v a="$t0" -v b="$(cpu_ticks "$pid")" -v hz="$CLK_TCK" -v f="$fields" \
            'BEGIN { split(f, x, "\t"); printf "%.1f", (x[1] > 0 ? (b - a) / hz * 1e6 / x[1] : 0) }')
          hwm=0
          [ -n "$pid" ] && hwm=$(rss_kb "$pid" VmHWM)
          ledger="0	0"
          if [ "$target" = ds4p ]; then
            after=$(ledger_totals "$u")
            ledger=$(awk -v b="$before" -v a="$after" 'BEGIN { split(b, x, " "); split(a, y, " "); n = y[1] - x[1];
              printf "%d\t%.3f", n, (n > 0 ? (y[2] - x[2]) / n * 1000 : 0) }')
          fi
          printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$u" "$k" "$c" "$target" "$fields" "$hwm" "$ledger" "$cpu" >>"$rows"
          printf '   round %s %-7s %-10s c=%s %-12s %s\n' "$round" "$u" "$k" "$c" "$target" \
            "$(awk -F'\t' '{ printf "%8.1f req/s  p50 %7.2f ms  p99 %7.2f ms", $3, $4, $6 }' <<<"$fields")" >&2
        done
      done
    done
  done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

machine=$work/machine.md
{
  echo "# ds4p load test"
  echo
  echo "Written by \`test/load/run.sh\` on $(date -u +%Y-%m-%dT%H:%MZ). Reproduce: \`bash test/load/run.sh\` (see its header for the knobs)."
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| cores (nproc) | $(nproc) |"
  echo "| CPU | $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo) |"
  echo "| memory | $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) |"
  echo "| kernel | $(uname -sr) |"
  echo "| Go | $(go version | cut -d' ' -f3-) |"
  echo "| load generator | $(loadgen_version) |"
  echo "| ds4p | ${LOAD_REVISION:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$([ -n "$(git status --porcelain 2>/dev/null | grep -v '^??' || true)" ] && echo ' + uncommitted changes')} |"
  echo "| runs | $ROUNDS rounds × ${DURATION}s per run, concurrency $CONCURRENCY; wrk threads = min(c, 2) |"
  echo "| load average (1/5/15 min) | start $load_start, end $load_end |"
  echo
  echo "Everything runs on this one machine over loopback: the load generator, the upstream, the"
  echo "pass-through proxy and ds4p share its cores. ds4p: embedded policy, one Part 2 consent"
  echo "(pat-0, permitting Organization/bench for TREAT), ledger fsynced with group commit, info"
  echo "logging to a file; the caller is Organization/bench with purpose TREAT, so nothing is withheld"
  echo "and every entry is labelled, decided, recorded and written. Requests: read = one ordinary"
  echo "Observation; search = \`Observation?_count=1000\` (1,000 entries); everything ="
  echo "\`Patient/pat-0/\$everything\` (the Patient and its compartment)."
} >"$machine"
"$bin/report" -in "$rows" -machine "$machine" -max-requests "$MAX_REQUESTS" >"$OUT"
cp "$rows" "${OUT%.md}.tsv"
cat "$OUT"
log "written to $OUT and ${OUT%.md}.tsv"
