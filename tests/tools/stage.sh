#!/usr/bin/env bash
# Run one build stage, print how long it took and fail with its exit status.
# Usage: tests/tools/stage.sh LABEL COMMAND [ARGS...]
set -uo pipefail

label="$1"
shift
echo "==> $label: $*"
start=$SECONDS
"$@"
status=$?
echo "<== $label: $((SECONDS - start))s, exit $status"
if [[ $status -eq 5 && "$*" == *pytest* ]]; then
    # pytest's "no tests collected": every suite run by make is expected to have tests.
    echo "ERROR: $label collected no tests; the suite is expected to exist (see Makefile)" >&2
fi
exit "$status"
