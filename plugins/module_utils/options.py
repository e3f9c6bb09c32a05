# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options several modules share, declared once: one name, one type, one default, one check.

``get_spec("users", "lookback_days")`` gives a module's ``ARGUMENT_SPEC`` entries; their
documentation is the ``sfops.integration_users.users`` doc fragment (a unit test compares the two).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils.errors import ConfigurationError

DEFAULT_LOOKBACK_DAYS = 90

SHARED_OPTIONS = {
    # ``username`` is the connection's login user (password / JWT flows): the users a module acts
    # on are ``users``, everywhere.
    "users": dict(type="list", elements="str"),
    "lookback_days": dict(type="int", default=DEFAULT_LOOKBACK_DAYS),
    "include_inactive": dict(type="bool", default=False),
    "target_profile": dict(type="str"),
}


def get_spec(*names):
    """Copies of the shared option declarations ``names``."""
    return dict((name, dict(SHARED_OPTIONS[name])) for name in names)


def checked_lookback_days(params):
    """``params["lookback_days"]``, refused below 1 (the same message in every module)."""
    value = params.get("lookback_days")
    if value is None or value < 1:
        raise ConfigurationError("lookback_days must be at least 1 (got %r)" % (value,))
    return value


def requested_users(params):
    """The usernames of ``users`` in their order, each once (Salesforce usernames are case-insensitive)."""
    seen, unique = set(), []
    for name in params.get("users") or ():
        if name.lower() not in seen:
            seen.add(name.lower())
            unique.append(name)
    return unique
