#!/usr/bin/env bash
# Create (or reuse) the virtualenv of one row of tests/matrix/versions.txt and print its path.
#
# Usage: tests/matrix/venv.sh CORE        e.g. tests/matrix/venv.sh 2.16
#
# The venv holds tests/requirements.txt and requirements.txt with the ansible-core pin replaced by
# tests/matrix/core-CORE.txt, on the row's Python. A row that runs neither integration nor molecule
# gets no ansible-lint and molecule: they are only needed there, and they refuse ansible-core 2.17. Venvs live outside the checkout, in
# $SFOPS_MATRIX_VENVS (default ~/.cache/sfops-integration-users/matrix), so CI runs from fresh clones
# on the same machine reuse them; one is rebuilt only when its inputs (requirements, Python) change.
# Set SFOPS_MATRIX_REUSE=/path/to/venv to use an existing venv for the row whose ansible-core minor
# and Python it already has (.ci/run passes .venv, which holds 2.19 on 3.11).
set -euo pipefail

core="${1:?usage: $0 CORE (a row of tests/matrix/versions.txt)}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
checkout="$(cd "$here/../.." && pwd)"

row="$(awk -v core="$core" '$1 == core && $1 !~ /^#/ {print; exit}' "$here/versions.txt")"
if [[ -z "$row" ]]; then
    echo "ERROR: ansible-core $core is not a row of $here/versions.txt" >&2
    exit 2
fi
pyver="$(awk '{print $2}' <<<"$row")"
suites=" $(cut -d' ' -f3- <<<"$(tr -s ' \t' ' ' <<<"$row")") "
pin="$here/core-$core.txt"
[[ -f "$pin" ]] || { echo "ERROR: $pin is missing" >&2; exit 2; }

# The venv's ansible-core minor and Python minor, e.g. "2.19 3.11" (empty when it has no ansible-core).
venv_versions() {
    "$1/bin/python" - <<'EOF' 2>/dev/null || true
import sys
try:
    from ansible.release import __version__
except ImportError:
    sys.exit(0)
print(".".join(__version__.split(".")[:2]), "%d.%d" % sys.version_info[:2])
EOF
}

if [[ -n "${SFOPS_MATRIX_REUSE:-}" && -x "${SFOPS_MATRIX_REUSE}/bin/python" ]] &&
    [[ "$(venv_versions "$SFOPS_MATRIX_REUSE")" == "$core $pyver" ]]; then
    (cd "$SFOPS_MATRIX_REUSE" && pwd)
    exit 0
fi

# The row's interpreter: on PATH, else a pyenv build (3.12 and 3.13 are pyenv builds here).
python=""
pyenv_builds=()
if command -v pyenv >/dev/null; then
    pyenv_builds=("$(pyenv root)/versions/$pyver".*/bin/"python$pyver")
fi
newest_build="$(printf '%s\n' "${pyenv_builds[@]}" | sort -V | tail -n 1)"
for candidate in "python$pyver" "$newest_build"; do
    [[ -n "$candidate" ]] || continue
    if command -v "$candidate" >/dev/null &&
        "$candidate" -c "import sys; sys.exit('%d.%d' % sys.version_info[:2] != '$pyver')" 2>/dev/null; then
        python="$(command -v "$candidate")"
        break
    fi
done
if [[ -z "$python" ]]; then
    echo "ERROR: Python $pyver (for ansible-core $core) not found on PATH nor under pyenv" >&2
    exit 1
fi

root="${SFOPS_MATRIX_VENVS:-$HOME/.cache/sfops-integration-users/matrix}"
venv="$root/core-$core-py$pyver"
mkdir -p "$root"

# Everything the venv is built from; a change in any of it rebuilds the venv.
requirements="$(mktemp)"
trap 'rm -f "$requirements"' EXIT
{
    if [[ "$suites" == *" integration "* || "$suites" == *" molecule "* ]]; then
        drop='ansible-core'
    else
        drop='ansible-core|ansible-lint|molecule'
    fi
    grep -v -E "^[[:space:]]*($drop)([<>=!~ ;[]|\$)" "$checkout/tests/requirements.txt"
    [[ -f "$checkout/requirements.txt" ]] && cat "$checkout/requirements.txt"
    cat "$pin"
} >"$requirements"
stamp="$( (cat "$requirements"; "$python" -VV) | sha256sum | cut -d' ' -f1)"

if [[ -f "$venv/.matrix-stamp" && "$(cat "$venv/.matrix-stamp")" == "$stamp" && -x "$venv/bin/python" ]]; then
    echo "$venv"
    exit 0
fi

# One builder at a time per venv: the suites of one row start together on a fresh machine, so a lane
# that waited for the lock finds the venv another lane just built, and must not delete it under it.
exec 9>"$venv.lock"
flock 9
if [[ -f "$venv/.matrix-stamp" && "$(cat "$venv/.matrix-stamp")" == "$stamp" && -x "$venv/bin/python" ]]; then
    echo "$venv"
    exit 0
fi
rm -rf "$venv"
echo "matrix: building $venv (ansible-core $core, Python $pyver)" >&2
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip >&2
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$requirements" >&2
echo "$stamp" >"$venv/.matrix-stamp"
echo "$venv"
