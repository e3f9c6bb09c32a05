"""Session set-up for unit tests: import the collection as ``ansible_collections.sfops.integration_users``.

The tests import plugins by their collection name, exactly as Ansible loads them, so the checkout
must sit under an ``ansible_collections/sfops/`` directory on ``sys.path``; the shared helper makes
that symlink under tests/output/ (git-ignored). Under ``ansible-test units`` the checkout already lies in
such a directory and ansible-test has set ``ANSIBLE_COLLECTIONS_PATH`` (a single entry, which its pytest
plugin requires): then that root is used and the environment is left as it is.

ansible-core before 2.19 has no ``ansible.module_utils.testing``; a stand-in with the same
``patch_module_args`` is registered under that name there, so tests import it one way on every core.
"""

from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

import contextlib
import json
import os
import sys
import types
from unittest import mock

_TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools")
if _TOOLS not in sys.path:
    sys.path.insert(0, _TOOLS)
# Shared test helpers of tests/unit (the scripted Salesforce transport) import as plain modules.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from collections_root import ensure_collections_root  # noqa: E402  pylint: disable=wrong-import-position


def _collections_root():
    """The directory holding ``ansible_collections/sfops/integration_users`` for this checkout."""
    checkout = os.path.dirname(os.path.dirname(_HERE))
    parts = os.path.realpath(checkout).split(os.sep)
    if parts[-3:] == ["ansible_collections", "sfops", "integration_users"]:
        return os.sep.join(parts[:-3]) or os.sep
    return ensure_collections_root()


COLLECTIONS_ROOT = _collections_root()

# Done at import time, not in a hook: test modules import the collection while being collected.
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)

# Code under test that starts Ansible machinery (action plugins, loaders) resolves the collection
# through the configured collections path, not sys.path.
_configured = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")
if os.path.realpath(COLLECTIONS_ROOT) not in [os.path.realpath(p) for p in _configured.split(os.pathsep) if p]:
    os.environ["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(p for p in (COLLECTIONS_ROOT, _configured) if p)


def _register_patch_module_args():
    """``ansible.module_utils.testing.patch_module_args`` for ansible-core releases that lack it."""
    try:
        import ansible.module_utils.testing  # noqa: F401  pylint: disable=unused-import
        return
    except ImportError:
        pass
    from ansible.module_utils import basic

    @contextlib.contextmanager
    def patch_module_args(args=None):
        """Expose ``args`` to the AnsibleModule instances created within this context."""
        if not isinstance(args, (dict, type(None))):
            raise TypeError("The `args` arg must be a dict or None.")
        payload = json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}).encode()
        with mock.patch.object(basic, "_ANSIBLE_ARGS", payload):
            yield

    shim = types.ModuleType("ansible.module_utils.testing", _register_patch_module_args.__doc__)
    shim.patch_module_args = patch_module_args
    sys.modules[shim.__name__] = shim
    import ansible.module_utils
    ansible.module_utils.testing = shim


_register_patch_module_args()
