#!/bin/sh
# A simulated day of refund traffic on the test clock (issue #3, "Measured in bench/"). For each
# start time in SIM_CLOCKS it starts a fresh kameng (demo seed, --test-clock, public_url pointing
# at the simulation's callback proxy), runs bench/refund_sim.mjs against it and stops it by PID.
# Loads go to 127.0.0.1 only. Not part of `make check`.
#
# Environment: SIM_CLOCKS (default: the week before the 2026 Spring Festival, then a plain week),
# SIM_ORDERS (default 4000), SIM_SEED, SIM_PORT (default 18281; the proxy uses SIM_PORT+1),
# KAMENG_BIN (default build/kameng), SIM_KEEP=1 keeps the temporary directories.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${KAMENG_BIN:-$ROOT/build/kameng}
PORT=${SIM_PORT:-18281}
PROXY_PORT=$((PORT + 1))
CLOCKS=${SIM_CLOCKS:-"2026-02-09T00:00:00Z 2026-03-09T00:00:00Z"}
ORDERS=${SIM_ORDERS:-4000}
SEED=${SIM_SEED:-20260209}

[ -x "$BIN" ] || { echo "refund_sim: $BIN is missing; run 'make -j2'" >&2; exit 1; }
command -v node >/dev/null || { echo "refund_sim: node is not installed" >&2; exit 1; }

KAMENG_PID=
W=
stop_kameng() {
    [ -n "$KAMENG_PID" ] || return 0
    kill -TERM "$KAMENG_PID" 2>/dev/null || { KAMENG_PID=; return 0; }
    i=0
    while kill -0 "$KAMENG_PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$KAMENG_PID" 2>/dev/null; then
        echo "refund_sim: kameng $KAMENG_PID still running 10 s after SIGTERM; SIGKILL" >&2
        kill -KILL "$KAMENG_PID" 2>/dev/null || true
    fi
    wait "$KAMENG_PID" 2>/dev/null || true
    KAMENG_PID=
}
cleanup() {
    stop_kameng
    if [ -n "$W" ]; then
        if [ "${SIM_KEEP:-0}" = 1 ]; then echo "refund_sim: kept $W" >&2; else rm -rf "$W"; fi
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

RC=0
START_ALL=$(date +%s)
for CLOCK in $CLOCKS; do
    W=$(mktemp -d "${TMPDIR:-/tmp}/kameng-refund-sim.XXXXXX")
    # A copy of the binary, so a rebuild during the run does not change the server under it.
    cp "$BIN" "$W/kameng"
    "$W/kameng" demo --data "$W/data" >/dev/null
    printf 'public_url = http://127.0.0.1:%s\n' "$PROXY_PORT" > "$W/sim.conf"
    "$W/kameng" serve --data "$W/data" --port "$PORT" --config "$W/sim.conf" \
        "--test-clock=$CLOCK" 2>"$W/kameng.log" &
    KAMENG_PID=$!
    i=0
    until curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 "$KAMENG_PID" 2>/dev/null; then
            echo "refund_sim: kameng did not start; log:" >&2
            cat "$W/kameng.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    OUT=${TMPDIR:-/tmp}/kameng-refund-sim-$(echo "$CLOCK" | cut -c1-10).json
    SIM_BASE="http://127.0.0.1:$PORT" SIM_PROXY_PORT=$PROXY_PORT SIM_DATA="$W/data" \
        SIM_CLOCK="$CLOCK" SIM_ORDERS=$ORDERS SIM_SEED=$SEED SIM_OUT="${SIM_OUT:-$OUT}" \
        node "$ROOT/bench/refund_sim.mjs" || RC=1
    stop_kameng
    if grep -q '"level":"error"' "$W/kameng.log" 2>/dev/null; then
        echo "refund_sim: errors in the server log:" >&2
        grep '"level":"error"' "$W/kameng.log" | head -5 >&2
    fi
    if [ "${SIM_KEEP:-0}" = 1 ]; then echo "refund_sim: kept $W" >&2; else rm -rf "$W"; fi
    W=
done
echo "refund_sim: results as JSON in ${TMPDIR:-/tmp}/kameng-refund-sim-*.json; done in $(( $(date +%s) - START_ALL )) s"
exit $RC
