#!/usr/bin/env bash
# Run one `ansible-test` command (sanity, units) offline on a copy of the checkout.
#
# ansible-test only runs from a directory ending in ansible_collections/<namespace>/<name>, so the
# collection is copied to $ANSIBLE_TEST_COPY_ROOT/ansible_collections/sfops/integration_users
# (default tests/output/ansible-test/<command>-<ansible-core version>, so runs of several versions
# can go in parallel). A copy of what git lists (tracked plus untracked-but-not-ignored files) is what
# ansible-test would see in the checkout itself; a symlink would drag tests/output along. The copy
# gets its own empty git repository because ansible-test looks for .git upwards and would otherwise
# list files through the checkout's.
#
# tests/emulator is left out of the copy on purpose: it is a test HTTPS server, not collection content
# (galaxy.yml build_ignores it), and sanity would hold it to the rules for modules and plugins.
# Its own pytest suite tests it.
#
# Usage: tests/sanity/ansible-test.sh COMMAND [ansible-test options...]
#   e.g. tests/sanity/ansible-test.sh sanity --test validate-modules
#        tests/sanity/ansible-test.sh units
# Needs ansible-test first on PATH (or ANSIBLE_TEST=/path/to/ansible-test). --python is always given
# (default: the Python ansible-test runs on; ANSIBLE_TEST_PYTHON overrides): without it a stray
# python3.8 shim on PATH makes ansible-test exit 127.
set -euo pipefail

command="${1:?usage: $0 sanity|units [ansible-test options...]}"
shift
checkout="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ansible_test="${ANSIBLE_TEST:-$(command -v ansible-test)}"
# ansible-test's own interpreter, so the helper can ask it which pip version to seed.
test_python="$(head -n 1 "$ansible_test" | sed 's/^#! *//')"
read -r core_version python_version < <("$test_python" -c '
import sys
from ansible.release import __version__
print(__version__, "%d.%d" % sys.version_info[:2])')
python_version="${ANSIBLE_TEST_PYTHON:-$python_version}"

"$test_python" "$checkout/tests/tools/seed_get_pip.py" >/dev/null

copy_root="${ANSIBLE_TEST_COPY_ROOT:-$checkout/tests/output/ansible-test/$command-$core_version}"
copy="$copy_root/ansible_collections/sfops/integration_users"
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
# The copy is the collection: no collections path of the caller's may shadow or add to it.
env -u ANSIBLE_COLLECTIONS_PATH -u ANSIBLE_COLLECTIONS_PATHS \
    "$ansible_test" "$command" --python "$python_version" --color no "$@" || status=$?
if [[ -d tests/output/bot || -d tests/output/junit ]]; then
    echo "ansible-test $command results: $copy/tests/output/"
fi
exit "$status"
