#!/usr/bin/env bash
# `make release-check`: build the collection tarball and run galaxy-importer on it with Automation
# Hub's settings (tests/release/galaxy-importer.cfg). Fails when the importer fails, or logs an error
# or a warning (flake8 findings, unresolved modules, ansible-doc or ansible-lint problems are
# warnings there), or when galaxy.yml's version has no release in changelogs/changelog.yaml.
#
# Usage: tests/release/check.sh          (the importer's log: tests/output/release/importer.log)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
checkout="$(cd "$here/../.." && pwd)"
out="$checkout/tests/output/release"
venv="$("$here/tool-venv.sh" importer "$here/requirements.txt")"
export PATH="$venv/bin:$PATH"

version="$("$venv/bin/python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$checkout/galaxy.yml")"
if ! "$venv/bin/python" - "$checkout/changelogs/changelog.yaml" "$version" <<'EOF'; then
import sys, yaml
releases = (yaml.safe_load(open(sys.argv[1])) or {}).get("releases") or {}
sys.exit(0 if sys.argv[2] in releases else "galaxy.yml version %s has no release in %s (antsibull-changelog release)"
         % (sys.argv[2], sys.argv[1]))
EOF
    exit 1
fi
[[ -f "$checkout/CHANGELOG.md" ]] || { echo "ERROR: no CHANGELOG.md (antsibull-changelog generate)" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
(cd "$checkout" && ansible-galaxy collection build --force --output-path "$out" >/dev/null)
tarball="$out/sfops-integration_users-$version.tar.gz"
[[ -f "$tarball" ]] || { echo "ERROR: ansible-galaxy built no $tarball" >&2; exit 1; }
echo "release-check: $(basename "$tarball"), $(tar -tzf "$tarball" | wc -l) files"

status=0
(cd "$out" && GALAXY_IMPORTER_CONFIG="$here/galaxy-importer.cfg" \
    "$venv/bin/python" -m galaxy_importer.main "$tarball") >"$out/importer.log" 2>&1 || status=$?
# Lines the importer logs at warning level or above (its log prints the level name first).
# W503 and W504 (a line break before / after a binary operator) contradict each other and pycodestyle
# ignores both by default; the importer's flake8 reports whichever a continued expression meets.
problems="$(grep -E '^(WARNING|ERROR|CRITICAL)' "$out/importer.log" | grep -vE ': W50[34] line break (before|after) binary operator$' || true)"
if [[ $status -ne 0 || -n "$problems" ]]; then
    echo "release-check: galaxy-importer exit $status; problems:"
    [[ -n "$problems" ]] && printf '    %s\n' "${problems//$'\n'/$'\n'    }"
    [[ $status -ne 0 ]] && tail -n 20 "$out/importer.log" | sed 's/^/    /'
    echo "release-check: FAILED (full log: $out/importer.log)"
    exit 1
fi
echo "release-check: galaxy-importer passed with Hub settings, no warning (log: $out/importer.log)"
