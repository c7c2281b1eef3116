#!/bin/sh
# Embed one data file in the binary as a NUL-terminated byte array: embed-file.sh NAME FILE.
set -eu
name=$1
file=$2
echo "/* Generated from $(basename "$file") by scripts/embed-file.sh. */"
echo '#include <stddef.h>'
echo "extern const unsigned char ${name}[];"
echo "extern const size_t ${name}_len;"
echo "const unsigned char ${name}[] = {"
od -An -v -tx1 "$file" | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'
echo "0x00};"
echo "const size_t ${name}_len = $(wc -c < "$file" | tr -d ' ');"
