#!/usr/bin/env python
"""Make the checkout reachable as ``ansible_collections.sfops.integration_users``.

Ansible (and Python imports of ``ansible_collections.*``) only find a collection inside a directory
named ``ansible_collections/<namespace>/<name>``; the repository root is the collection root, so a
symlink under ``tests/output/`` (git-ignored) gives every tool the same view without copying.
Run as a script it prints the collections root, for ``ANSIBLE_COLLECTIONS_PATH``.
"""

from __future__ import annotations

import os
import sys

NAMESPACE = "sfops"
NAME = "integration_users"
CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def ensure_collections_root(checkout: str = CHECKOUT) -> str:
    """Create (or repair) the symlink and return the directory to put on the collections path."""
    root = os.path.join(checkout, "tests", "output", ".collections")
    parent = os.path.join(root, "ansible_collections", NAMESPACE)
    link = os.path.join(parent, NAME)
    os.makedirs(parent, exist_ok=True)
    if os.path.islink(link) and os.path.realpath(link) == os.path.realpath(checkout):
        return root
    # A stale link (checkout moved) or a leftover directory must not shadow the checkout.
    if os.path.islink(link):
        os.unlink(link)
    elif os.path.exists(link):
        raise RuntimeError(f"{link} exists and is not a symlink; remove it")
    # Parallel pytest workers may race here: losing the race to an identical link is fine.
    try:
        os.symlink(os.path.realpath(checkout), link)
    except FileExistsError:
        if os.path.realpath(link) != os.path.realpath(checkout):
            raise
    return root


if __name__ == "__main__":
    sys.stdout.write(ensure_collections_root() + "\n")
