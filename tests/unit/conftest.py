"""Session set-up for unit tests: import the collection as ``ansible_collections.sfops.integration_users``.

The tests import plugins by their collection name, exactly as Ansible loads them, so the checkout
must sit under an ``ansible_collections/sfops/`` directory on ``sys.path``; the shared helper makes
that symlink under tests/output/ (git-ignored).
"""

from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

import os
import sys

_TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools")
if _TOOLS not in sys.path:
    sys.path.insert(0, _TOOLS)
# Shared test helpers of tests/unit (the scripted Salesforce transport) import as plain modules.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from collections_root import ensure_collections_root  # noqa: E402  pylint: disable=wrong-import-position

COLLECTIONS_ROOT = ensure_collections_root()

# Done at import time, not in a hook: test modules import the collection while being collected.
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)

# Code under test that starts Ansible machinery (action plugins, loaders) resolves the collection
# through the configured collections path, not sys.path.
_configured = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")
if COLLECTIONS_ROOT not in _configured.split(os.pathsep):
    os.environ["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(p for p in (COLLECTIONS_ROOT, _configured) if p)
