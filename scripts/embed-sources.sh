#!/bin/sh
# embed-sources.sh FILE...: print C source holding each FILE's path and
# bytes, the table inb_runtime_files (struct inb_runtime_file, runtime.h)
# that the builder compiles the runtime library from for each target.
set -eu
echo '#include <stddef.h>'
echo '#include "runtime.h"'
i=0
for f in "$@"; do
    echo "static const char f$i[] = {"
    od -An -v -tx1 "$f" | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'
    echo '0};'
    i=$((i + 1))
done
echo 'const struct inb_runtime_file inb_runtime_files[] = {'
i=0
for f in "$@"; do
    echo "    {\"$f\", f$i, sizeof(f$i) - 1},"
    i=$((i + 1))
done
echo '    {NULL, NULL, 0},'
echo '};'
