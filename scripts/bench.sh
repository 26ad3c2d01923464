#!/usr/bin/env bash
# scimcheck benchmarks: measured, never asserted. Rewrites BENCHMARKS.md with the results, the
# machine they were measured on, and the exact commands.
#
#   scripts/bench.sh              # full run (a few minutes)
#   RUNS=3 ROUNDS=2 REQS=10000 BIG=10000 RTT_RUNS=1 scripts/bench.sh   # quick look
#
# Needs the Rust toolchain (https://rustup.rs). Installs what else it needs: `oha`
# (cargo install oha --locked) and GNU time (apt-get install time) when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-11}       # suite runs (median)
ROUNDS=${ROUNDS:-5}    # alternating oha / scimcheck rounds (median of each)
REQS=${REQS:-50000}    # requests per client-overhead round
CONC=${CONC:-16}       # concurrency of both load generators
SERVER_CONC=${SERVER_CONC:-64}
CYCLE_USERS=${CYCLE_USERS:-10000}
SMALL=${SMALL:-1000}   # users for the small memory run
BIG=${BIG:-1000000}    # users for the large memory run
LATENCY_MS=${LATENCY_MS:-50}   # the remote-endpoint round trip of the round-trip figure
RTT_JOBS=${RTT_JOBS:-8}
RTT_RUNS=${RTT_RUNS:-5}        # runs of the round-trip figure (median)
OUT=${OUT:-BENCHMARKS.md}

say() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

# --- tools -----------------------------------------------------------------------------------
command -v cargo >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs" >&2; exit 1; }
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v oha >/dev/null; then
  say "installing oha (cargo install oha --locked)"
  cargo install oha --locked
fi
if [ ! -x /usr/bin/time ]; then
  say "installing GNU time"
  if [ "$(id -u)" = 0 ]; then apt-get install -y time; else sudo apt-get install -y time; fi
fi

say "building scimcheck (release)"
cargo build --release --quiet
BIN=target/release/scimcheck

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# The throughput of phase $1 in scimcheck load's human report.
phase_rate() { awk -v p="$1" '$1==p && $NF=="req/s" {print $(NF-1)}'; }
now_ns() { date +%s%N; }

LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)

# --- 1. suite wall time ----------------------------------------------------------------------
say "suite wall time: scimcheck demo -q, $RUNS runs"
CHECKS=$($BIN demo -q | sed -n 's/.*PASSED: \([0-9]*\) passed.*/\1/p' | tail -1)
SUITE_MS=$(for _ in $(seq "$RUNS"); do
  t0=$(now_ns); $BIN demo -q >/dev/null; t1=$(now_ns)
  echo $(( (t1 - t0) / 1000000 ))
done | median)

# --- a reference server in its own process -----------------------------------------------------
TOKEN="bench-$RANDOM$RANDOM"
LOG=$(mktemp)
$BIN serve --port 0 --token "$TOKEN" 2>"$LOG" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 100); do grep -q 'Tenant URL' "$LOG" && break; sleep 0.05; done
BASE=$(sed -n 's/^Tenant URL: \([^ ]*\).*/\1/p' "$LOG")
[ -n "$BASE" ] || { echo "the server did not start" >&2; cat "$LOG" >&2; exit 1; }
# The probe: a users filter that matches nothing (Entra's Test Connection request). scimcheck's
# probe mode sends the same request with its own run prefix in the value.
PROBE="$BASE/Users?filter=userName%20eq%20%22scimcheck-bench-probe%40example.com%22"
oha_rate() {
  oha -n "$1" -c "$2" --no-tui -H "Authorization: Bearer $TOKEN" -H "Accept: application/scim+json" "$PROBE" \
    | awk '/Requests\/sec/ {printf "%.0f\n", $2}'
}
sc_probe_rate() {
  $BIN load --url "$BASE" --token "$TOKEN" --mode probe --users "$1" --rate max --concurrency "$2" \
    | phase_rate probe | awk '{printf "%.0f\n", $1}'
}

# --- 1b. round trips: the suite over a remote-like link -------------------------------------------
# The same server with every response delayed by LATENCY_MS; the wall time of the whole process
# (start-up, Test Connection, the suite, cleanup) in round trips of LATENCY_MS. The verdicts must
# be the loopback run's: every check's outcome, blocked_by and cleanup status, and the summary.
say "round trips: run --dialect both --jobs $RTT_JOBS over serve --latency-ms $LATENCY_MS, $RTT_RUNS runs"
SLOW_LOG=$(mktemp)
$BIN serve --port 0 --token "$TOKEN" --latency-ms "$LATENCY_MS" 2>"$SLOW_LOG" &
SLOW=$!
trap 'kill $SERVER $SLOW 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 100); do grep -q 'Tenant URL' "$SLOW_LOG" && break; sleep 0.05; done
SLOW_BASE=$(sed -n 's/^Tenant URL: \([^ ]*\).*/\1/p' "$SLOW_LOG")
verdicts() { jq -S -c '[.scenarios[] | {id, dialect, checks: [.checks[] | {id, outcome, blocked_by}],
  cleanup: [.cleanup[]?.status]}], (.summary | del(.elapsed_ms))' "$1"; }
RT_DIR=$(mktemp -d)
$BIN run --url "$BASE" --token "$TOKEN" --dialect both --jobs "$RTT_JOBS" -q --report "json=$RT_DIR/loopback.json" >/dev/null || true
RT_ALL=()
SAME=yes
for i in $(seq "$RTT_RUNS"); do
  t0=$(now_ns)
  $BIN run --url "$SLOW_BASE" --token "$TOKEN" --dialect both --jobs "$RTT_JOBS" -q --report "json=$RT_DIR/remote$i.json" >/dev/null || true
  t1=$(now_ns)
  RT_ALL+=("$(( (t1 - t0) / 1000000 ))")
  [ "$(verdicts "$RT_DIR/loopback.json")" = "$(verdicts "$RT_DIR/remote$i.json")" ] || SAME=no
done
kill $SLOW 2>/dev/null || true
RT_MS=$(printf '%s\n' "${RT_ALL[@]}" | median)
RT_TRIPS=$(awk -v ms="$RT_MS" -v l="$LATENCY_MS" 'BEGIN {printf "%.1f", ms / l}')
RT_REQUESTS=$(jq '[.scenarios[].requests] | add' "$RT_DIR/loopback.json")
rm -rf "$RT_DIR" "$SLOW_LOG"

# --- 2. client overhead: scimcheck load vs oha, same endpoint, same concurrency ---------------
say "client overhead: $ROUNDS alternating rounds of $REQS requests at concurrency $CONC"
oha_rate 2000 "$CONC" >/dev/null; sc_probe_rate 2000 "$CONC" >/dev/null   # warm-up
OHA_ALL=(); SC_ALL=()
for _ in $(seq "$ROUNDS"); do
  OHA_ALL+=("$(oha_rate "$REQS" "$CONC")")
  SC_ALL+=("$(sc_probe_rate "$REQS" "$CONC")")
done
OHA_RPS=$(printf '%s\n' "${OHA_ALL[@]}" | median)
SC_RPS=$(printf '%s\n' "${SC_ALL[@]}" | median)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
RATIO=$(ratio "$SC_RPS" "$OHA_RPS")

# --- 3. server throughput ----------------------------------------------------------------------
say "server throughput: oha at concurrency $SERVER_CONC; an Entra cycle of $CYCLE_USERS users"
SERVER_RPS=$(for _ in 1 2 3; do oha_rate "$REQS" "$SERVER_CONC"; done | median)
CYCLE_OUT=$($BIN load --url "$BASE" --token "$TOKEN" --users "$CYCLE_USERS" --groups $((CYCLE_USERS / 100)) \
  --members 50 --update --rate max --concurrency "$CONC")
CYCLE_RPS=$(phase_rate cycle <<<"$CYCLE_OUT" | awk '{printf "%.0f\n", $1}')
CLEANUP_RPS=$(phase_rate cleanup <<<"$CYCLE_OUT" | awk '{printf "%.0f\n", $1}')

# --- 4. peak memory of load ----------------------------------------------------------------------
maxrss() { # users, mode
  /usr/bin/time -v "$BIN" load --url "$BASE" --token "$TOKEN" --users "$1" --groups $(( $1 / 100 )) \
    --mode "$2" --rate max --concurrency "$CONC" 2>&1 >/dev/null | awk '/Maximum resident set size/ {print $NF}'
}
say "peak memory: load at $SMALL and $BIG users"
RSS_CYCLE_SMALL=$(maxrss "$SMALL" cycle)
RSS_CYCLE_BIG=$(maxrss "$BIG" cycle)
RSS_PROBE_SMALL=$(maxrss "$SMALL" probe)
RSS_PROBE_BIG=$(maxrss "$BIG" probe)
mib() { awk -v k="$1" 'BEGIN {printf "%.1f MiB", k/1024}'; }
PER_USER=$(awk -v a="$RSS_CYCLE_SMALL" -v b="$RSS_CYCLE_BIG" -v n="$((BIG - SMALL))" \
  'BEGIN {printf "%.0f", (b - a) * 1024 / n}')

# --- machine -----------------------------------------------------------------------------------
CPU=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
NPROC=$(nproc)
MEM=$(free -h | awk '/^Mem:/ {print $2}')
RUSTC=$(rustc --version)
OHA_V=$(oha --version | head -1)
KERNEL=$(uname -sr)
TODAY=$(date -u +%Y-%m-%d)
LOAD_AT_END=$(cut -d' ' -f1-3 /proc/loadavg)

cat >"$OUT" <<EOF
# Benchmarks

Measured by \`scripts/bench.sh\` (it installs \`oha\` and GNU \`time\` when missing, builds the
release binary, and rewrites this file). Numbers are measurements on the machine below, never
assertions: no test depends on timing. Re-run the script to compare on your machine.

## Machine

| | |
|---|---|
| date | $TODAY |
| CPU | $CPU |
| \`nproc\` | $NPROC |
| memory (\`free -h\`) | $MEM |
| kernel | $KERNEL |
| rustc | $RUSTC |
| oha | $OHA_V |
| load average at start / end | $LOAD_AT_START / $LOAD_AT_END |

The load generators and the reference server share these cores. A load average above zero at
the start means other work was running: the numbers are then lower and noisier than on an idle
machine.

## Results

| benchmark | result |
|---|---|
| built-in suite ($CHECKS checks, both dialects) against the embedded server, wall time incl. server start-up, median of $RUNS | **$SUITE_MS ms** |
| round trips: \`run --dialect both --jobs $RTT_JOBS\` over \`serve --latency-ms $LATENCY_MS\` ($RT_REQUESTS requests), wall time of the process, median of $RTT_RUNS | **$RT_MS ms = $RT_TRIPS round trips** (target ≤ 40); verdicts the same as on loopback: **$SAME** |
| client overhead: \`scimcheck load --mode probe\` vs \`oha\`, same endpoint, concurrency $CONC, median of $ROUNDS alternating rounds of $REQS requests | scimcheck **$SC_RPS req/s**, oha **$OHA_RPS req/s**: ratio **$RATIO** (target ≥ 0.8) |
| server throughput: \`oha\` on the probe endpoint, concurrency $SERVER_CONC, median of 3 | **$SERVER_RPS req/s** |
| server throughput for an Entra cycle (\`load --users $CYCLE_USERS --groups $((CYCLE_USERS / 100)) --members 50 --update --rate max\`) | cycle **$CYCLE_RPS req/s** (match, create, update, group ops); cleanup **$CLEANUP_RPS req/s** (deletes) |
| peak memory (max RSS) of \`load\`, cycle mode, $SMALL users / $((SMALL / 100)) groups | **$(mib "$RSS_CYCLE_SMALL")** |
| peak memory (max RSS) of \`load\`, cycle mode, $BIG users / $((BIG / 100)) groups | **$(mib "$RSS_CYCLE_BIG")** (about $PER_USER bytes per extra user; $(awk -v a="$RSS_CYCLE_SMALL" -v b="$RSS_CYCLE_BIG" 'BEGIN {printf "%.1f", b/a}') × the small run, target < 2 ×) |
| peak memory (max RSS) of \`load\`, probe mode, $SMALL / $BIG requests | **$(mib "$RSS_PROBE_SMALL")** / **$(mib "$RSS_PROBE_BIG")** |

Every round of the client-overhead comparison (req/s): oha ${OHA_ALL[*]}; scimcheck ${SC_ALL[*]}.
Every run of the round-trip figure (ms): ${RT_ALL[*]}.

## Reading the numbers

- **Suite wall time** is what \`scimcheck demo\` costs: start the reference server, run every
  built-in scenario in both PATCH dialects (4 at a time, the \`--jobs\` default), clean up.
- **Round trips.** Over a real network the suite's wall time is counted in round trips, not in
  CPU. The runner starts the longest scenarios first, sends a scenario's independent reads, its
  \`independent\` setup creates and its cleanups side by side, and sends Entra's two Test
  Connection probes and the read of \`/Schemas\` together; connections are kept alive. The
  figure is the whole process (start-up, Test Connection, the suite, cleanup) divided by the
  delay; "verdicts the same" compares every check's outcome and cause, every cleanup and the
  summary with a loopback run.
- **Client overhead.** Both tools hit the same cheap endpoint (a users filter that matches
  nothing) on the same server process with the same number of connections, so the ratio shows
  how much more CPU scimcheck spends per request than a bare HTTP load generator. Probe mode
  sends on its own hyper transport, one kept-alive HTTP/1.1 connection per worker as oha does;
  it still judges every answer (a 200 that is not a JSON object is an error), waits out
  \`Retry-After\` and stops on Ctrl-C. Creates, updates and deletes go through the conformance
  client, with its ledger and write guard. Against a real endpoint none of this matters: at
  25 req/s the client spends well under 1% of one core.
- **Server throughput** is the embedded reference server's capacity with a fast client, and its
  rate for Entra's write-heavy initial cycle. Both are far above the gallery's 25 requests per
  second, so the embedded server is never the bottleneck of a test run.
- **Peak memory.** \`load\` keeps latency histograms (fixed size) instead of samples, and streams
  its work items. The client's ledger of created resources (its safety record for the
  no-foreign-writes rule and what cleanup deletes: a path and a label per resource) keeps the
  newest 4,000 to 8,000 in memory and spills the older ones to an anonymous temporary file,
  which cleanup takes back 10,000 at a time; only the ids the groups' memberships need stay in
  memory besides. Probe mode creates nothing, so it stays flat.

## Commands

\`\`\`sh
scimcheck demo -q                                        # suite wall time
scimcheck serve --port 0 --token TOKEN                   # the server for everything below
oha -n $REQS -c $CONC --no-tui -H "Authorization: Bearer TOKEN" -H "Accept: application/scim+json" \\
  'http://127.0.0.1:PORT/scim/v2/Users?filter=userName%20eq%20%22scimcheck-bench-probe%40example.com%22'
scimcheck load --url http://127.0.0.1:PORT/scim/v2 --token TOKEN --mode probe --users $REQS --rate max --concurrency $CONC
scimcheck serve --port 0 --token TOKEN --latency-ms $LATENCY_MS                 # the remote-like server
time scimcheck run --url http://127.0.0.1:PORT2/scim/v2 --token TOKEN --dialect both --jobs $RTT_JOBS -q --report json=remote.json
oha -n $REQS -c $SERVER_CONC ...same URL and headers...
scimcheck load --url http://127.0.0.1:PORT/scim/v2 --token TOKEN --users $CYCLE_USERS --groups $((CYCLE_USERS / 100)) --members 50 --update --rate max --concurrency $CONC
/usr/bin/time -v scimcheck load --url ... --users N --groups N/100 --mode cycle|probe --rate max --concurrency $CONC
\`\`\`
EOF
say "wrote $OUT"
cat "$OUT"
