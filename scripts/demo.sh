#!/bin/sh
# Show what inbuilt is for, in a few seconds: build a python with the whole
# stdlib inside, then compare it with stock python3.11 on the filesystem
# calls and the wall time of `import json, decimal, email.mime.text,
# asyncio`.  Usage: sh scripts/demo.sh BUILD_DIR   (`make demo` does this)
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build_dir=$1
repo=$(cd "$(dirname "$0")/.." && pwd)

if [ ! -x "$build_dir/inbuilt" ]; then
    echo "$0: no $build_dir/inbuilt: run make first" >&2
    exit 1
fi
for tool in strace ldd; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$0: $tool is needed (make deps installs it)" >&2
        exit 1
    fi
done

exec /usr/bin/python3.11 -u "$repo/bench/measure.py" demo "$build_dir"
