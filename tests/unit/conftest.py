# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit-test set-up: make ``ansible_collections.sfops.integration_users`` importable from the checkout."""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)


def _collections_root():
    # Running from .../ansible_collections/sfops/integration_users: the root is three levels up.
    parts = ROOT.split(os.sep)
    if parts[-3:-2] == ["ansible_collections"] and len(parts) >= 3:
        return os.sep.join(parts[:-3])
    # Otherwise build (once) a private symlink farm outside the checkout.
    farm = os.path.join(os.environ.get("TMPDIR", "/tmp"), "sfops-unit-collections-%d" % os.getuid())
    link = os.path.join(farm, "ansible_collections", "sfops", "integration_users")
    if not os.path.islink(link) or os.path.realpath(link) != os.path.realpath(ROOT):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        tmp = link + ".%d" % os.getpid()
        os.symlink(ROOT, tmp)
        os.replace(tmp, link)
    return farm


COLLECTIONS_ROOT = _collections_root()
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)
