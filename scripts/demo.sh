#!/bin/sh
# Start the demo shop: create var/demo (master key, schema, demo data and API keys) on first run,
# then serve on http://127.0.0.1:8080 until Ctrl-C.
set -eu
cd "$(dirname "$0")/.."
bin=${KAMENG_BIN:-build/kameng}
data=${KAMENG_DATA:-var/demo}
port=${KAMENG_PORT:-8080}
mkdir -p var
"$bin" demo --data "$data"
echo
echo "kameng is starting on http://127.0.0.1:$port  (Ctrl-C stops it)"
echo "  try: curl -s http://127.0.0.1:$port/v1/products"
exec "$bin" serve --data "$data" --port "$port"
