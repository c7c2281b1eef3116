#!/bin/sh
# A throwaway PostgreSQL server for the tests, from Debian's postgresql package:
#   sh scripts/postgres-test.sh start DIR   initdb in DIR, listen on a socket in DIR only,
#                                            print the URL kameng's tests connect to
#   sh scripts/postgres-test.sh stop DIR    stop it and remove DIR
# As root, the server runs as the postgres user (PostgreSQL refuses to run as root). It listens on
# no TCP port, trusts the local socket, and does not fsync: it lives as long as a test run, and the
# tests kill kameng, never PostgreSQL.
set -eu

cmd=${1:?start or stop}
dir=${2:?a directory}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ]; then
    echo "postgres-test: no PostgreSQL server found (apt-get install postgresql)" >&2
    exit 1
fi

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$cmd" in
start)
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres "$dir"
    fi
    as_owner "$bindir/initdb" -D "$dir/data" -A trust -U kameng --no-sync -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    port=5432
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-k $dir -p $port -c listen_addresses= -c fsync=off -c max_connections=400" start \
        >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql://kameng@/postgres?host=$dir&port=$port"
    ;;
stop)
    if [ -d "$dir/data" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "postgres-test: start or stop" >&2
    exit 2
    ;;
esac
