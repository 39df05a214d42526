#!/bin/sh
# Show what inbuilt is for, in a few seconds: build a python with the whole
# stdlib inside, then compare it with stock python3.11 on the filesystem
# calls and the wall time of `import json, decimal, email.mime.text,
# asyncio`.  Usage: sh scripts/demo.sh BUILD_DIR   (`make demo` does this)
exec sh "$(dirname "$0")/../bench/run.sh" demo "$@"
