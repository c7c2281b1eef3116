# Shared by writer_cpu.sh and instructions.sh, sourced after they set ROOT, BIN and NAME: a
# scratch directory W, the load generator built into it, and stop() for the kameng in PID, all
# cleaned up on exit.
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
