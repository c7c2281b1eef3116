# Shared by writer_cpu.sh and instructions.sh, sourced after they set ROOT, BIN, PORT, BASE and
# NAME: a scratch directory W, the load generator built into it, start_seeded() and stop() for the
# kameng in PID, all cleaned up on exit.
[ -x "$BIN" ] || { echo "$NAME: $BIN is missing; run 'make'" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/kameng-$NAME.XXXXXX")
PID=
stop() {
    [ -n "$PID" ] || return 0
    # A SIGTERM drains the notification backlog first; the next run must not share the CPU with
    # it, and the data is thrown away, so the server is killed outright.
    kill -KILL "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=
}
trap 'stop; rm -rf "$W"' EXIT INT TERM
cc -std=c11 -O2 -Wall -pthread -o "$W/loadgen" "$ROOT/bench/loadgen.c"

# Starts kameng on a fresh demo shop in W/data, under the command given after the two counts if
# any (valgrind), waits until it answers, and seeds PRODUCTS products of KEYS card keys each
# through the API into W/products. Sets PID.
start_seeded() {
    products=$1
    keys=$2
    shift 2
    rm -rf "$W/data"
    "$BIN" demo --data "$W/data" >/dev/null 2>&1
    "$@" "$BIN" serve --data "$W/data" --port "$PORT" >/dev/null 2>"$W/server.log" &
    PID=$!
    i=0
    until curl -s -o /dev/null "$BASE/healthz"; do
        i=$((i + 1)); [ $i -lt 600 ] || { echo "$NAME: kameng did not start" >&2; exit 1; }
        sleep 0.1
    done
    admin=$(awk '$1 == "admin" { print $2 }' "$W/data/demo-keys.txt")
    node "$ROOT/bench/seed.mjs" "$BASE" "$admin" "$products" "$keys" 2 "$W/products" >/dev/null 2>&1
}
