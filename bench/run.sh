#!/bin/sh
# Benchmark figures for docs/BENCHMARKS.md: filesystem calls, start-up and
# import wall times (inbuilt vs stock python3.11), build time and size.
# Prints a markdown table; never passes or fails on the numbers.
# Usage: sh bench/run.sh [bench|demo] BUILD_DIR   (`make bench` does this;
# scripts/demo.sh, for `make demo`, asks for the short demo table)
set -eu

mode=bench
if [ $# -eq 2 ]; then
    mode=$1
    shift
fi
if [ $# -ne 1 ] || { [ "$mode" != bench ] && [ "$mode" != demo ]; }; then
    echo "usage: $0 [bench|demo] BUILD_DIR" >&2
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

exec /usr/bin/python3.11 -u "$repo/bench/measure.py" "$mode" "$build_dir"
