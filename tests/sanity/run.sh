#!/usr/bin/env bash
# Run `ansible-test sanity` offline on a copy of the checkout.
#
# ansible-test only runs from a directory ending in ansible_collections/<namespace>/<name>, so the
# collection is copied to tests/output/sanity/ansible_collections/sfops/integration_users. A copy of
# what git lists (tracked plus untracked-but-not-ignored files) is what ansible-test would see in the
# checkout itself; a symlink would drag tests/output along. The copy gets its own empty git repository
# because ansible-test looks for .git upwards and would otherwise list files through the checkout's.
#
# tests/emulator is left out of the copy on purpose: it is a test HTTPS server, not collection content
# (galaxy.yml build_ignores it), and sanity would hold it to the rules for modules and plugins.
# Its own pytest suite tests it.
#
# Usage: tests/sanity/run.sh [ansible-test sanity options...]   (e.g. --test validate-modules)
# Needs ansible-test (from tests/requirements.txt) first on PATH.
set -euo pipefail

checkout="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
copy_root="$checkout/tests/output/sanity"
copy="$copy_root/ansible_collections/sfops/integration_users"
# ansible-test's own interpreter, so the helper can ask it which pip version to seed.
test_python="$(head -n 1 "$(command -v ansible-test)" | sed 's/^#! *//')"

"$test_python" "$checkout/tests/tools/seed_get_pip.py" >/dev/null

rm -rf "$copy_root"
mkdir -p "$copy"
(
    cd "$checkout"
    git ls-files -z --cached --others --exclude-standard -- . ':!:tests/emulator' |
        while IFS= read -r -d '' path; do
            # Files deleted in the work tree are still listed by --cached.
            [[ -e "$path" || -L "$path" ]] && printf '%s\0' "$path"
        done |
        tar --null --files-from=- --create --file=- |
        tar --extract --file=- --directory="$copy"
)
git -C "$copy" init --quiet

cd "$copy"
status=0
# --python always: without it a stray python3.8 shim on PATH makes ansible-test exit 127.
ansible-test sanity --python 3.11 --color no "$@" || status=$?
if [[ -d tests/output/bot || -d tests/output/junit ]]; then
    echo "sanity results: $copy/tests/output/"
fi
exit "$status"
