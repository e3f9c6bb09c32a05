# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs sf_permission_set on the controller (see plugins/plugin_utils/action.py)."""

from __future__ import annotations

from ansible_collections.sfops.integration_users.plugins.module_utils.impl.sf_permission_set import SPEC
from ansible_collections.sfops.integration_users.plugins.plugin_utils.action import SalesforceAction


class ActionModule(SalesforceAction):
    SPEC = SPEC
