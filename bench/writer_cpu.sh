#!/bin/sh
# The writer thread's CPU time per committed command over one B-style flow (create -> pay ->
# sandbox pay, stock spread over 100 products of 2,000 keys, 200 connections), and every other
# thread's, per command and per write request (the four of an order: the buyers' three and the
# sandbox provider's notifications the shop answered during the flow).
# Requests/s scatter with the machine's other work; CPU per command, read from the threads' own
# counters, scatters much less, so this is the figure to compare when changing the write path.
# Runs RUNS (default 3) times, each on a fresh data directory, and prints three lines per run.
#
# Environment: BENCH_PORT (default 18191), KAMENG_BIN (default build/kameng), RUNS, FLOW_S (10),
# CONNS (200).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${KAMENG_BIN:-$ROOT/build/kameng}
PORT=${BENCH_PORT:-18191}
BASE=http://127.0.0.1:$PORT
RUNS=${RUNS:-3}
FLOW_S=${FLOW_S:-10}
NAME=writer-cpu
. "$ROOT/bench/lib.sh"

commands() { curl -s "$BASE/metrics" | awk '$1 == "kameng_write_commands_total" { print $2 }'; }
callbacks() { # the provider's notifications the shop answered 2xx
    curl -s "$BASE/metrics" |
        awk '/^kameng_http_requests_total\{route="callbacks.payment",status="2xx"\}/ { v = $2 } END { print v + 0 }'
}
ticks() { awk '{ print $14 + $15 }' "/proc/$PID/task/$1/stat"; } # utime + stime, clock ticks
# "name ticks" for each kind of thread (the four server threads summed), sorted by name
threads() {
    for t in /proc/$PID/task/*; do
        printf '%s %s\n' "$(tr ' ' _ <"$t/comm")" "$(awk '{ print $14 + $15 }' "$t/stat")"
    done | awk '{ a[$1] += $2 } END { for (k in a) print k, a[k] }' | sort
}

run=1
while [ $run -le "$RUNS" ]; do
    start_seeded 100 2000
    writer=$(grep -l '^kameng-writer$' /proc/$PID/task/*/comm | head -1 | cut -d/ -f5)
    threads >"$W/threads0"
    c0=$(commands); n0=$(callbacks); t0=$(ticks "$writer"); s0=$(date +%s.%N)
    "$W/loadgen" --port "$PORT" --mode flow --product "@$W/products" --conns "${CONNS:-200}" \
        --seconds "$FLOW_S" --out "$W/paid" >"$W/flow.kv"
    c1=$(commands); n1=$(callbacks); t1=$(ticks "$writer"); s1=$(date +%s.%N)
    threads >"$W/threads1"
    awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v s0="$s0" -v s1="$s1" \
        -v hz="$(getconf CLK_TCK)" -v r="$(awk -F= '$1 == "total_rps" { print $2 }' "$W/flow.kv")" \
        -v p99="$(awk -F= '$1 == "total_p99_ms" { print $2 }' "$W/flow.kv")" \
        -v n="$((n1 - n0))" \
        'BEGIN { printf "run %d: %d buyer write requests/s (p99 %s ms) and %d notifications/s answered, %d commands/s, writer %.0f%% busy, %.1f us of writer CPU per command\n",
                 '"$run"', r, p99, n / (s1 - s0), (c1 - c0) / (s1 - s0), 100 * (t1 - t0) / hz / (s1 - s0),
                 (t1 - t0) / hz * 1e6 / (c1 - c0) }'
    # Every thread's CPU per committed command: the server threads, the writer, the syncer, the
    # checkpointer, the timers and the view warmer.
    # And per write request, the four of an order (the buyers' three and the notifications).
    writes=$(awk -v r="$(awk -F= '$1 == "total_rps" { print $2 }' "$W/flow.kv")" -v f="$FLOW_S" \
        -v n="$((n1 - n0))" 'BEGIN { printf "%d", r * f + n }')
    join "$W/threads0" "$W/threads1" | awk -v c="$(($c1 - $c0))" -v w="$writes" -v hz="$(getconf CLK_TCK)" '
        { d = ($3 - $2) / hz * 1e6; sum += d; if (d / c >= 0.05) line = line sprintf(" %s %.1f,", $1, d / c)
          if (d / w >= 0.05) wline = wline sprintf(" %s %.1f,", $1, d / w) }
        END { printf "       us of CPU per command by thread:%s all %.1f\n", line, sum / c
              printf "       us of CPU per write request (all four) by thread:%s all %.1f\n", wline, sum / w }'
    stop
    run=$((run + 1))
done
