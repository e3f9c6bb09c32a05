#!/usr/bin/env bash
# Run `ansible-test sanity` offline on a copy of the checkout (see tests/sanity/ansible-test.sh).
#
# Usage: tests/sanity/run.sh [ansible-test sanity options...]   (e.g. --test validate-modules)
# Needs ansible-test (from tests/requirements.txt) first on PATH.
exec "$(dirname "${BASH_SOURCE[0]}")/ansible-test.sh" sanity "$@"
