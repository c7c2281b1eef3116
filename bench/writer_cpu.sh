#!/bin/sh
# The writer thread's CPU time per committed command over one B-style flow (create -> pay ->
# sandbox pay, stock spread over 100 products of 2,000 keys, 200 connections), and every other
# thread's.
# Requests/s scatter with the machine's other work; CPU per command, read from the threads' own
# counters, scatters much less, so this is the figure to compare when changing the write path.
# Runs RUNS (default 3) times, each on a fresh data directory, and prints two lines per run.
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
    c0=$(commands); t0=$(ticks "$writer"); s0=$(date +%s.%N)
    "$W/loadgen" --port "$PORT" --mode flow --product "@$W/products" --conns "${CONNS:-200}" \
        --seconds "$FLOW_S" --out "$W/paid" >"$W/flow.kv"
    c1=$(commands); t1=$(ticks "$writer"); s1=$(date +%s.%N)
    threads >"$W/threads1"
    awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v s0="$s0" -v s1="$s1" \
        -v hz="$(getconf CLK_TCK)" -v r="$(awk -F= '$1 == "total_rps" { print $2 }' "$W/flow.kv")" \
        -v p99="$(awk -F= '$1 == "total_p99_ms" { print $2 }' "$W/flow.kv")" \
        'BEGIN { printf "run %d: %d write requests/s (p99 %s ms), %d commands/s, writer %.0f%% busy, %.1f us of writer CPU per command\n",
                 '"$run"', r, p99, (c1 - c0) / (s1 - s0), 100 * (t1 - t0) / hz / (s1 - s0),
                 (t1 - t0) / hz * 1e6 / (c1 - c0) }'
    # Every thread's CPU per committed command: the server threads, the writer, the syncer, the
    # checkpointer, the timers and the view warmer.
    join "$W/threads0" "$W/threads1" | awk -v c="$(($c1 - $c0))" -v hz="$(getconf CLK_TCK)" '
        { d = ($3 - $2) / hz * 1e6 / c; sum += d; if (d >= 0.05) line = line sprintf(" %s %.1f,", $1, d) }
        END { printf "       us of CPU per command by thread:%s all %.1f\n", line, sum }'
    stop
    run=$((run + 1))
done
