#!/usr/bin/env bash
# Create (or reuse) the venv of a release/docs tool from its requirements file; print its path.
# Usage: tests/release/tool-venv.sh NAME REQUIREMENTS_FILE
# Venvs live in $SFOPS_TOOL_VENVS (default ~/.cache/sfops-integration-users/tools), rebuilt when the
# requirements file changes; Python 3.11 (PYTHON_FOR_TOOLS overrides).
set -euo pipefail
name="${1:?usage: $0 NAME REQUIREMENTS_FILE}"
requirements="${2:?usage: $0 NAME REQUIREMENTS_FILE}"
python="${PYTHON_FOR_TOOLS:-python3.11}"
root="${SFOPS_TOOL_VENVS:-$HOME/.cache/sfops-integration-users/tools}"
venv="$root/$name"
stamp="$( (cat "$requirements"; "$python" -VV) | sha256sum | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$venv/.tool-stamp" && "$(cat "$venv/.tool-stamp")" == "$stamp" ]]; then
    echo "$venv"
    exit 0
fi
mkdir -p "$root"
exec 9>"$venv.lock"
flock 9
rm -rf "$venv"
echo "building $venv from $requirements" >&2
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip >&2
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$requirements" >&2
echo "$stamp" >"$venv/.tool-stamp"
echo "$venv"
