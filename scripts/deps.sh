#!/bin/sh
# Install what kameng needs to build, run and test, if it is missing: Debian packages (as root,
# with apt-get) and the npm packages pinned in package-lock.json (npm ci).
set -eu
cd "$(dirname "$0")/.."

packages="build-essential pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev postgresql libsodium-dev
libcurl4-openssl-dev libssl-dev libjemalloc-dev libcriterion-dev sqlite3 curl ca-certificates openssl chromium wrk
fonts-wqy-microhei clang libclang-rt-14-dev"
command -v node >/dev/null 2>&1 || packages="$packages nodejs npm"

missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "kameng needs these Debian packages:$missing" >&2
        echo "install them as root: apt-get install -y$missing" >&2
        exit 1
    fi
    echo "installing Debian packages:$missing"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
fi
