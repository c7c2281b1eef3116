#!/bin/sh
# Turn the numbered SQL migration files into a C array, so the binary carries its own schema.
# The first argument is PostgreSQL's baseline (the schema up to its number, in its dialect).
set -eu
baseline=$1
shift
echo '/* Generated from the numbered files in src/store/migrations by scripts/embed-migrations.sh. */'
echo '#include "store/migrations.h"'
echo 'const struct migration migrations[] = {'
for f in "$@"; do
    base=$(basename "$f" .sql)
    version=$(echo "$base" | sed 's/^0*//; s/_.*//')
    printf '    {%s, "%s",\n' "$version" "$base"
    sed 's/\\/\\\\/g; s/"/\\"/g; s/^/     "/; s/$/\\n"/' "$f"
    echo '    },'
done
echo '};'
echo "const int migration_count = (int)(sizeof migrations / sizeof migrations[0]);"
base=$(basename "$baseline" .sql)
version=$(echo "$base" | sed 's/^0*//; s/_.*//')
printf 'const struct migration postgres_baseline = {%s, "%s",\n' "$version" "$base"
sed 's/\\/\\\\/g; s/"/\\"/g; s/^/     "/; s/$/\\n"/' "$baseline"
echo '};'
