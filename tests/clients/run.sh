#!/usr/bin/env bash
# Real-client suite: the Salesforce CLI (sf) and jsforce 3 on Node.js 22 against the emulator over HTTPS.
# Installs the pinned packages once (tests/tools/install_clients.sh, into tests/output/clients/), starts
# one emulator on tests/clients/estate.yml, runs tests/clients/*.test.mjs with node's test runner.
#   tests/clients/run.sh [PYTHON]        (PYTHON: the interpreter that has the emulator's requirements)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="${1:-${SFEMU_PYTHON:-$root/.venv/bin/python}}"
node="$("$root/tests/tools/install_clients.sh")"

work="$(mktemp -d "${TMPDIR:-/tmp}/sfemu-clients.XXXXXX")"
PYTHONPATH="$root/tests/emulator" "$python" -m sfemu serve --estate "$root/tests/clients/estate.yml" --port 0 \
    --ready-file "$work/READY.json" --state-dir "$work/state" --seed 5 >"$work/emulator.log" 2>&1 &
emulator=$!
# shellcheck disable=SC2329  # called by the EXIT trap
cleanup() {
    kill -TERM "$emulator" 2>/dev/null && wait "$emulator" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 600); do
    [[ -f "$work/READY.json" ]] && break
    if ! kill -0 "$emulator" 2>/dev/null; then
        cat "$work/emulator.log" >&2
        echo "ERROR: the emulator exited before it was ready" >&2
        exit 1
    fi
    sleep 0.1
done
[[ -f "$work/READY.json" ]] || { echo "ERROR: the emulator was not ready within 60 s" >&2; exit 1; }

# NODE_EXTRA_CA_CERTS is read when Node.js starts: the tests and every `sf` they run trust the emulator's CA.
# loopback-only.cjs keeps them all on this machine (see that file).
status=0
NODE_OPTIONS="--require $root/tests/clients/loopback-only.cjs" \
    NODE_EXTRA_CA_CERTS="$work/state/ca.pem" SFEMU_READY="$work/READY.json" SFEMU_WORK="$work" \
    CLIENTS_DIR="$root/tests/output/clients" \
    "$node" --test --test-concurrency=1 --test-reporter=spec "$root"/tests/clients/*.test.mjs || status=$?
if ((status)); then
    echo "--- emulator log (last 40 lines)" >&2
    tail -n 40 "$work/emulator.log" >&2
fi
exit "$status"
