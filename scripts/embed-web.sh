#!/bin/sh
# Embed the web pages (web/*) in the binary as byte arrays, so kameng serves its own pages with no
# files beside it and nothing fetched at run time.
set -eu
echo '/* Generated from web/ by scripts/embed-web.sh. */'
echo '#include "http/web_assets.h"'
i=0
for f in "$@"; do
    echo "static const unsigned char asset_$i[] = {"
    od -An -v -tx1 "$f" | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'
    echo "0x00};"
    i=$((i + 1))
done
echo 'const struct web_asset web_assets[] = {'
i=0
for f in "$@"; do
    name=$(basename "$f")
    case "$name" in
    *.html) type="text/html; charset=utf-8" ;;
    *.js) type="text/javascript; charset=utf-8" ;;
    *.css) type="text/css; charset=utf-8" ;;
    *.svg) type="image/svg+xml" ;;
    *.png) type="image/png" ;;
    *) type="application/octet-stream" ;;
    esac
    size=$(wc -c < "$f" | tr -d ' ')
    echo "    {\"$name\", \"$type\", asset_$i, $size},"
    i=$((i + 1))
done
echo '};'
echo "const int web_asset_count = $i;"
