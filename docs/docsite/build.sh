#!/usr/bin/env bash
# `make docs`: lint the collection's docs, build the HTML docsite offline and check it in Chromium.
#
#   1. docs/docsite/md2rst.py turns the guides docs/*.md into docs/docsite/rst/*.rst (extra docs);
#   2. antsibull-docs lint-collection-docs --plugin-docs . must pass (modules, role argument specs,
#      extra docs, links.yml);
#   3. antsibull-docs sphinx-init + collection write the RST, sphinx-build the HTML into
#      tests/output/docsite/build/html. Offline, intersphinx to docs.ansible.com cannot load its
#      inventories: those warnings, and only those, are allowed;
#   4. docs/docsite/check_site.py opens the pages in headless Chromium: every module and the role
#      have a page listing their options.
# The toolchain comes from docs/docsite/requirements.txt in its own cached venv.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
checkout="$(cd "$here/../.." && pwd)"
venv="$("$checkout/tests/release/tool-venv.sh" docs "$here/requirements.txt")"
export PATH="$venv/bin:$PATH"
# The collection as Ansible sees it, through the symlink under tests/output/.
ANSIBLE_COLLECTIONS_PATH="$("$venv/bin/python" "$checkout/tests/tools/collections_root.py")"
export ANSIBLE_COLLECTIONS_PATH ANSIBLE_NOCOLOR=1
out="$checkout/tests/output/docsite"

"$venv/bin/python" "$here/md2rst.py"

echo "docs: antsibull-docs lint-collection-docs --plugin-docs ."
(cd "$checkout" && antsibull-docs lint-collection-docs --plugin-docs .)

rm -rf "$out"
mkdir -p "$out"
antsibull-docs sphinx-init --use-current --dest-dir "$out" sfops.integration_users >/dev/null
mkdir -p "$out/rst"
chmod og-w "$out/rst"
antsibull-docs --config-file "$out/antsibull-docs.cfg" collection --cleanup everything --use-current \
    --dest-dir "$out/rst" sfops.integration_users >"$out/antsibull-docs.log" 2>&1 ||
    { cat "$out/antsibull-docs.log"; exit 1; }

status=0
# Not -W: the intersphinx warnings are expected here; every other warning fails the build below.
(cd "$out" && sphinx-build -M html rst build -c . --keep-going) >"$out/sphinx.log" 2>&1 || status=$?
# Offline, labels of docs.ansible.com that the generated pages link to stay undefined too: these
# three, which live in ansible-core's docsite (reached through intersphinx), and no other label.
intersphinx_labels="undefined label: '(action_plugins|common_return_values|ansible_configuration_settings)'"
warnings="$(grep -E 'WARNING|ERROR' "$out/sphinx.log" |
    grep -v -E "intersphinx|failed to reach any of the inventories|objects\.inv|$intersphinx_labels" || true)"
if [[ $status -ne 0 || -n "$warnings" ]]; then
    tail -n 30 "$out/sphinx.log"
    echo "docs: sphinx-build exit $status; warnings other than intersphinx:"
    echo "${warnings:-none}"
    exit 1
fi
echo "docs: HTML in $out/build/html ($(grep -c -E 'intersphinx|inventories' "$out/sphinx.log" || true) intersphinx warning line(s), nothing else)"

"$venv/bin/python" "$here/check_site.py" "$out/build/html"
