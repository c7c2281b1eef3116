#!/bin/sh
# The evidence log benchmark (issue #4): appends per second through evlog_append and inside the
# real order flow over HTTP, inclusion and consistency proof generation from 10^3 to 10^7 entries
# (cost against log2 n), and the time to verify a receipt. Not part of `make check` or
# `make bench`; run it by hand:
#
#   make -j2 && sh bench/log_bench.sh
#
# Environment: KAMENG_BIN (default build/kameng), BENCH_PORT (default 18191), LOG_BENCH_MAX (the
# largest log, default 10000000), BENCH_DISK_GB (default 5) and BENCH_GROW_SECONDS (default 360)
# bound the largest log (see log_bench.c), BENCH_KEEP=1 keeps the temporary directory. The
# largest log takes about 3 GB in the temporary directory (TMPDIR) while it runs; the whole run
# takes 3-5 minutes. All HTTP load goes to 127.0.0.1; every process started is stopped by PID.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${KAMENG_BIN:-$ROOT/build/kameng}
LIB=$ROOT/build/libkameng.a
PORT=${BENCH_PORT:-18191}
BASE=http://127.0.0.1:$PORT
MAX=${LOG_BENCH_MAX:-10000000}
T_FLOW=10     # seconds of create -> pay -> sandbox pay load
CONNS=32      # connections for that load
T_DRAIN=90    # at most this long for the sandbox's callbacks to catch up afterwards

[ -x "$BIN" ] && [ -f "$LIB" ] || { echo "log_bench: build first (make -j2)" >&2; exit 1; }
command -v node >/dev/null || { echo "log_bench: node is not installed" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/kameng-logbench.XXXXXX")
R=$W/results
mkdir -p "$R"
KAMENG_PID=

stop_pid() { # pid, seconds to wait after SIGTERM before SIGKILL
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null || return 0
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$1" 2>/dev/null; then
        echo "log_bench: pid $1 still running ${2}s after SIGTERM; sending SIGKILL" >&2
        kill -KILL "$1" 2>/dev/null || true
    fi
    wait "$1" 2>/dev/null || true
}
cleanup() {
    stop_pid "$KAMENG_PID" 10
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "log_bench: kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT INT TERM
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
get() { awk -F= -v k="$2" '$1 == k { v = $2 } END { print (v == "" ? 0 : v) }' "$1"; }
now() { date +%s.%N; }
log_size() { # entries in the shop's log (entries are for staff: the admin key)
    curl -s -H "authorization: Bearer $ADMIN" "$BASE/v1/log/entries?start=0&limit=1" |
        sed -n 's/.*"size": *\([0-9][0-9]*\).*/\1/p'
}
wait_http() {
    i=0
    until curl -s -o /dev/null "$1"; do
        i=$((i + 1)); [ $i -lt 100 ] || { echo "log_bench: $1 did not answer" >&2; exit 1; }
        sleep 0.1
    done
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "building log_bench against $LIB, and loadgen"
cc -std=c11 -O2 -D_GNU_SOURCE -I"$ROOT/src" -I"$ROOT/build/gen" \
    $(pkg-config --cflags jansson libsodium) -o "$W/log_bench" "$ROOT/bench/log_bench.c" "$LIB" \
    $(pkg-config --libs libmicrohttpd jansson sqlite3 libsodium libcurl libcrypto) -pthread -lm
cc -std=c11 -O2 -pthread -o "$W/loadgen" "$ROOT/bench/loadgen.c"

# ---------------------------------------------------------------- (a) evlog_append alone
log "appends: 200,000 evlog_append in transactions of 1,000, then one per transaction for 3 s"
"$W/log_bench" appends "$W" 200000 >"$R/appends.kv"
rm -f "$W/appends.db" "$W/appends.db-wal" "$W/appends.db-shm"

# ---------------------------------------------------------------- (a) inside the order flow
log "flow: kameng on :$PORT (real clock), 20 products x 1,000 card keys"
"$BIN" demo --data "$W/shop" >/dev/null 2>&1
"$BIN" serve --data "$W/shop" --port "$PORT" 2>"$W/server.log" &
KAMENG_PID=$!
wait_http "$BASE/healthz"
ADMIN=$(awk '$1 == "admin" { print $2 }' "$W/shop/demo-keys.txt")
node "$ROOT/bench/seed.mjs" "$BASE" "$ADMIN" 20 1000 1 "$R/products" >&2
S0=$(log_size); T0=$(now)
[ -n "$S0" ] || { echo "log_bench: cannot read the log's size" >&2; exit 1; }
log "flow: create -> pay -> sandbox pay, ${T_FLOW}s, $CONNS connections"
"$W/loadgen" --port "$PORT" --mode flow --product "@$R/products" --conns "$CONNS" \
    --seconds "$T_FLOW" --out "$R/paid" >"$R/flow.kv"
S1=$(log_size); T1=$(now)
PAID=$(wc -l <"$R/paid")
WANT=$((S0 + 2 * PAID)) # each paid card-key order: a payment entry and a delivery entry
log "flow: $PAID orders paid; waiting up to ${T_DRAIN}s for their callbacks (log at $S1 of $WANT)"
S2=$S1; T2=$T1; i=0
while [ "$S2" -lt "$WANT" ] && [ $i -lt $((T_DRAIN * 4)) ]; do
    sleep 0.25; i=$((i + 1)); S2=$(log_size); T2=$(now)
done
# One order with a longer history for a real receipt: 6 reveals after payment and delivery.
set -- $(head -1 "$R/paid")
ORDER=$1; TOKEN=$2; CK=$3
for k in 1 2 3 4 5 6; do
    curl -s -o /dev/null -X POST -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
        -d '{}' "$BASE/v1/orders/$ORDER/card_keys/$CK/reveal"
done
curl -s -H "authorization: Bearer $TOKEN" "$BASE/v1/orders/$ORDER/receipt" >"$R/receipt.json"
KEY=$("$BIN" log key --data "$W/shop")
"$BIN" log verify --receipt "$R/receipt.json" --key "$KEY" >"$R/receipt.verify" ||
    { cat "$R/receipt.verify" >&2; echo "log_bench: the receipt does not verify" >&2; exit 1; }
METRIC_BATCHES=$(curl -s "$BASE/metrics" | awk '$1 == "kameng_write_batches_total" { print $2 }')
stop_pid "$KAMENG_PID" 10
KAMENG_PID=
"$W/log_bench" receipt "$R/receipt.json" "$KEY" >"$R/receipt.kv"
awk -v s0="$S0" -v s1="$S1" -v s2="$S2" -v t0="$T0" -v t1="$T1" -v t2="$T2" -v paid="$PAID" \
    -v want="$WANT" -v batches="${METRIC_BATCHES:-0}" 'BEGIN {
    printf "flow_seconds=%.1f\nflow_orders_paid=%d\nflow_orders_per_s=%.0f\n", t1 - t0, paid, paid / (t1 - t0)
    printf "flow_entries_during=%d\nflow_entries_during_per_s=%.0f\n", s1 - s0, (s1 - s0) / (t1 - t0)
    printf "drain_seconds=%.1f\ndrain_entries=%d\ndrain_entries_per_s=%.0f\n", t2 - t1, s2 - s1, (t2 > t1 ? (s2 - s1) / (t2 - t1) : 0)
    printf "total_entries=%d\ntotal_seconds=%.1f\ntotal_entries_per_s=%.0f\nentries_expected=%d\n", s2 - s0, t2 - t0, (s2 - s0) / (t2 - t0), want - s0
    printf "entries_per_paid_order=%.2f\n", (paid > 0 ? (s2 - s0) / paid : 0)
}' >"$R/flow_log.kv"

# ---------------------------------------------------------------- (b), (c) proofs and receipts
log "proofs: growing a log to $MAX entries, measuring at each power of ten (a few minutes)"
"$W/log_bench" proofs "$W" "$MAX" >"$R/proofs.kv"
DB_BYTES=$(tail -1 "$R/proofs.kv" | tr ' ' '\n' | awk -F= '$1 == "db_bytes" { print $2 }')
rm -f "$W/tree.db" "$W/tree.db-wal" "$W/tree.db-shm"

# ---------------------------------------------------------------- summary
{
echo
echo "kameng evidence-log bench — $(date -u +%Y-%m-%dT%H:%MZ) — $(nproc) CPU(s): $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo "load average at start: $LOAD_START; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "(a) appends"
printf '  evlog_append, %s per commit (WAL, synchronous=FULL): %s appends/s (%s us each with the commit; %s us in evlog_append)\n' \
    "$(get "$R/appends.kv" append_batched_per_txn)" "$(get "$R/appends.kv" append_batched_per_s)" \
    "$(get "$R/appends.kv" append_batched_us)" "$(get "$R/appends.kv" append_call_us)"
printf '  evlog_append, one per commit: %s appends/s (commit p50 %s ms, p99 %s ms)\n' \
    "$(get "$R/appends.kv" append_single_per_s)" "$(get "$R/appends.kv" append_single_p50_ms)" \
    "$(get "$R/appends.kv" append_single_p99_ms)"
printf '  order flow over HTTP (%s conns, %ss): %s orders paid (%s/s); log entries %s during the load (%s/s)\n' \
    "$CONNS" "$(get "$R/flow_log.kv" flow_seconds)" "$(get "$R/flow_log.kv" flow_orders_paid)" \
    "$(get "$R/flow_log.kv" flow_orders_per_s)" "$(get "$R/flow_log.kv" flow_entries_during)" \
    "$(get "$R/flow_log.kv" flow_entries_during_per_s)"
printf '  then %s more in %ss as the sandbox callbacks caught up (%s/s); %s of %s expected entries; %s entries per paid order\n' \
    "$(get "$R/flow_log.kv" drain_entries)" "$(get "$R/flow_log.kv" drain_seconds)" \
    "$(get "$R/flow_log.kv" drain_entries_per_s)" "$(get "$R/flow_log.kv" total_entries)" \
    "$(get "$R/flow_log.kv" entries_expected)" "$(get "$R/flow_log.kv" entries_per_paid_order)"
echo
echo "(b) proofs: median over 2,000 random indexes per size (store reads = subtree hashes read from SQLite)"
printf '  %10s %5s %9s %10s %10s %7s %10s %10s %7s %8s %10s\n' entries log2 db_MB "incl_us" "incl_p90" reads \
    "cons_us" "cons_p90" reads "us/read" "receipt_us"
grep '^size=' "$R/proofs.kv" | tr ' ' '\n' | awk -F= '
    $1 == "size" { if (n) out(); n = 1 } { v[$1] = $2 }
    function out() {
        printf "  %10d %5d %9.0f %10.1f %10.1f %7.1f %10.1f %10.1f %7.1f %8.2f %10.1f\n", v["size"], v["log2"],
            v["db_bytes"] / 1048576, v["inclusion_p50_us"], v["inclusion_p90_us"], v["inclusion_reads"],
            v["consistency_p50_us"], v["consistency_p90_us"], v["consistency_reads"], v["us_per_read"],
            v["receipt_verify_p50_us"]
    }
    END { if (n) out() }'
grep '^stopped_before' "$R/proofs.kv" | sed 's/^/  /' || true
echo "  largest database: $((${DB_BYTES:-0} / 1048576)) MB"
echo
echo "(c) receipt verification (log_verify_receipt, median of 2,000 runs)"
printf '  real receipt from the HTTP run: %s entries, tree of %s, %s bytes: %s us (p90 %s us)\n' \
    "$(get "$R/receipt.kv" receipt_http_entries)" "$(get "$R/receipt.kv" receipt_http_tree_size)" \
    "$(get "$R/receipt.kv" receipt_http_bytes)" "$(get "$R/receipt.kv" receipt_http_verify_p50_us)" \
    "$(get "$R/receipt.kv" receipt_http_verify_p90_us)"
printf '  8 realistic entries in a log of %s: %s us (p90 %s us)\n' \
    "$(get "$R/appends.kv" receipt_synthetic_size)" "$(get "$R/appends.kv" receipt_synthetic_verify_p50_us)" \
    "$(get "$R/appends.kv" receipt_synthetic_verify_p90_us)"
} | tee "$W/summary.txt"
