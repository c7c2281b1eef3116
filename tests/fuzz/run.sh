#!/bin/sh
# Build the libFuzzer targets for the evidence log's parsers (signed notes, checkpoint bodies,
# Merkle proofs from raw bytes) under ASan and UBSan, and run each for a while.
# Usage: tests/fuzz/run.sh [seconds per target, default 20]. Needs clang with libFuzzer.
# With 0 seconds each target only builds and runs the seed inputs in tests/fuzz/seeds once, which
# is what the sanitizer build of `make check` does: the targets keep linking and every regression
# seed keeps passing, with nothing left to chance.
set -eu

seconds=${1:-20}
case $seconds in
'' | *[!0-9]*)
    echo "usage: $0 [seconds per target]" >&2
    exit 2
    ;;
esac

root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/build/fuzz"  # build/ is ignored by git; the corpus grows here between runs
cc=${FUZZ_CC:-clang}
mkdir -p "$out"

for target in fuzz_note fuzz_checkpoint fuzz_proof fuzz_receipt; do
    echo "== $target: building"
    "$cc" -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -fno-omit-frame-pointer -D_GNU_SOURCE -I"$root/src" \
        "$root/src/core/err.c" "$root/src/core/sha256.c" "$root/src/domain/merkle.c" \
        "$root/src/domain/note.c" \
        "$root/src/service/log_verify.c" "$root/src/adapters/http_out.c" \
        "$root/src/store/store_log.c" "$root/src/store/db.c" "$root/src/store/db_sqlite.c" \
        "$root/src/store/db_postgres.c" "$root/src/core/log.c" \
        "$root/src/core/files.c" "$root/src/store/sqlite_pcache.c" \
        "$root/src/store/sqlite_walbuf.c" "$root/src/store/sqlite_watch.c" \
        "$root/tests/fuzz/$target.c" $(pkg-config --cflags --libs libpq) -lsodium -lcrypto -ljansson \
        -lcurl -lsqlite3 -pthread \
        -o "$out/$target"
    corpus="$out/corpus/$target"
    mkdir -p "$corpus"
    seeds="$root/tests/fuzz/seeds/$target"
    [ -d "$seeds" ] || seeds=""
    if [ "$seconds" -eq 0 ]; then
        echo "== $target: its seeds"
        "$out/$target" -runs=0 -artifact_prefix="$out/$target-" $seeds
        continue
    fi
    echo "== $target: running for ${seconds}s"
    # New inputs go to the first directory only; the seeds in the tree stay as they are.
    # Crash reproducers land in $out/ (artifact_prefix), named after the target.
    "$out/$target" -max_total_time="$seconds" -max_len=10000 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$out/$target-" "$corpus" $seeds
done
echo "== all fuzz targets ran ${seconds}s each without a finding (0: their seeds only)"
