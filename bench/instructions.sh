#!/bin/sh
# Instructions per paid order, counted by callgrind over a small B-style flow: create -> pay ->
# sandbox pay, then the sandbox provider's notification, which captures the payment and delivers
# the key. On a shared machine requests/s and even CPU time per request scatter by a third from
# one run to the next; instruction counts repeat within a few per cent, so this is the figure to
# compare when a change should make the write path cheaper. It counts user space only: system
# calls, the kernel's TCP and the disk are not in it.
#
# Needs valgrind (apt-get install valgrind). Runs about 20 s. Environment: BENCH_PORT (default
# 18195), KAMENG_BIN (default build/kameng), FLOW_S (10).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${KAMENG_BIN:-$ROOT/build/kameng}
PORT=${BENCH_PORT:-18195}
BASE=http://127.0.0.1:$PORT
FLOW_S=${FLOW_S:-10}
command -v callgrind_control >/dev/null || {
    echo "instructions: valgrind is not installed (apt-get install valgrind)" >&2
    exit 1
}
NAME=instructions
. "$ROOT/bench/lib.sh"

start_seeded 10 200 valgrind --tool=callgrind --callgrind-out-file="$W/callgrind.out"

callbacks() {
    curl -s "$BASE/metrics" |
        awk '/^kameng_http_requests_total\{route="callbacks.payment",status="2xx"\}/ { v = $2 } END { print v + 0 }'
}
c0=$(callbacks)
callgrind_control -z "$PID" >/dev/null 2>&1
"$W/loadgen" --port "$PORT" --mode flow --product "@$W/products" --conns 8 --seconds "$FLOW_S" \
    --out "$W/paid" >"$W/flow.kv"
paid=$(wc -l <"$W/paid")
i=0 # every paid order's notification, so each order is counted whole
while [ $(($(callbacks) - c0)) -lt "$paid" ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
callgrind_control -d "$PID" >/dev/null 2>&1
stop
[ "$paid" -gt 0 ] || { echo "instructions: no order was paid" >&2; exit 1; }

# callgrind_annotate prints "  1,234,567 (12.34%)  file.c:function [object]" for inclusive costs.
callgrind_annotate --inclusive=yes "$W"/callgrind.out.* 2>/dev/null | awk -v n="$paid" '
    function row(label, key) { if (key in cost) printf "%12.0f  %s\n", cost[key] / n, label }
    match($0, /^ *[0-9,]+ \( *[0-9.]+%\) +/) {
        v = substr($0, 1, RLENGTH); gsub(/[ ,]|\(.*/, "", v)
        name = substr($0, RLENGTH + 1); sub(/ \[.*/, "", name); sub(/.*:/, "", name)
        if (!(name in cost)) cost[name] = v
        if ($0 ~ /PROGRAM TOTALS/) cost["total"] = v
    }
    END {
        printf "%d paid orders, each with its notification; instructions per paid order:\n", n
        row("the whole process (user space)", "total")
        row("  the writer thread", "writer_main")
        row("    create the order", "create_write")
        row("    open the payment", "payment_create_write")
        row("    pay at the sandbox provider", "sandbox_pay_write")
        row("    capture and deliver (the notification)", "capture_write")
        row("  the server threads, kameng'"'"'s request handling", "on_request")
        row("  the timers (the sandbox provider notifying, expiries)", "jobs_main")
        row("  the view warmer (views rebuilt ahead of reads)", "warmer_main")
    }'
