#!/usr/bin/env python
"""Pre-seed ansible-test's pip bootstrap script so ``ansible-test sanity`` runs offline.

ansible-test bootstraps pip in each sanity venv with a ``get-pip.py`` downloaded from a host that
CI machines cannot reach, unless ``~/.ansible/test/cache/get_pip_<version>.py`` already exists. The
seeded stand-in uses the interpreter's bundled pip (ensurepip) and then installs the pinned pip from
the package index, which is reachable. The version comes from ansible-test itself, so an upgrade of
ansible-test that changes it seeds the right file name.
"""

from __future__ import annotations

import os
import sys
import types

STAND_IN = '''"""Offline stand-in for get-pip.py, written by tests/tools/seed_get_pip.py."""
import subprocess
import sys

# get-pip.py options that pip install does not know.
GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")

subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], check=True)
pip_args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
subprocess.run([sys.executable, "-m", "pip", "install", "--upgrade"] + pip_args, check=True)
# Python 3.11's ensurepip also installs setuptools, which get-pip.py would have left out.
if "--no-setuptools" in sys.argv[1:]:
    subprocess.run([sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet", "setuptools"], check=True)
'''


def pip_version() -> str:
    """Return the pip version ansible-test bootstraps for this Python."""
    # pylint: disable-next=import-outside-toplevel
    from ansible_test._internal.python_requirements import get_venv_packages

    python = types.SimpleNamespace(version=f"{sys.version_info[0]}.{sys.version_info[1]}")
    return get_venv_packages(python)["pip"]


def main() -> int:
    """Write the stand-in unless the cache holds a genuine or identical script; print its path."""
    path = os.path.expanduser(f"~/.ansible/test/cache/get_pip_{pip_version().replace('.', '_')}.py")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    current = None
    if os.path.exists(path):
        with open(path, encoding="utf-8") as existing:
            current = existing.read()
    # A genuine get-pip.py (fetched on a machine with full network access) is left alone.
    genuine = current is not None and not current.startswith(STAND_IN.split("\n", 1)[0])
    if current != STAND_IN and not genuine:
        with open(path, "w", encoding="utf-8") as seeded:
            seeded.write(STAND_IN)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
