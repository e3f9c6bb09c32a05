# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base of the collection's action plugins: run a module's shared implementation on the controller.

Why: every task targets one org over HTTPS, so shipping a module to a Python subprocess per task
(AnsiballZ) only adds start-up cost. The strategy imports the action plugin (and so the client and
its libraries) once in the controller process before forking workers; each task then runs
in-process. The module file keeps documentation and a working ``main()``.

Parity with a module: options are validated with the same argument spec (ArgumentSpecValidator),
check mode and diff come from the task, values of ``no_log`` options (including ones read from
environment fallbacks) are masked in the whole result, and warnings/deprecations are returned the
way module results carry them. ``invocation`` is added exactly when ansible-core would add it to a
module's result: always before 2.21, and from 2.21 on only when the ``INJECT_INVOCATION`` setting
(default false; ``ANSIBLE_INJECT_INVOCATION``, ``ansible_inject_invocation``) is true for the task.
"""

from __future__ import annotations

from ansible import constants as C
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.sfops.integration_users.plugins.module_utils.connection import secret_variants
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import execute


def injects_invocation(task_vars=None):
    """Whether ansible-core adds ``invocation`` to a module's result for a task with these variables.

    ansible-core 2.21 made it a setting (ActionBase hands the value to the module as
    ``_ansible_inject_invocation``); earlier releases have no such setting and always add it.
    """
    if not C.config.get_configuration_definition("INJECT_INVOCATION"):
        return True
    return bool(C.config.get_config_value("INJECT_INVOCATION", variables=task_vars or {}))


def org_name_of(task_vars):
    """The inventory name failures name the org by: each org is an inventory host in this collection's
    playbooks. A play on localhost (provisioning playbooks often are) has no org name to give."""
    name = (task_vars or {}).get("inventory_hostname")
    return None if not name or name in ("localhost", "127.0.0.1", "::1") else name


class SalesforceAction(ActionBase):
    """Subclass with ``SPEC = <ModuleSpec>``; nothing else is needed."""

    SPEC = None
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        spec = self.SPEC
        validator = ArgumentSpecValidator(spec.full_argument_spec(), **spec.constraints)
        validation = validator.validate(self._task.args)
        # Escaped and repr forms too: an error text can quote a secret as 'abc\\n' (issue 13).
        no_log_values = secret_variants(validation._no_log_values)
        warnings = [w["warning"] if isinstance(w, dict) else str(w) for w in validation._warnings]
        deprecations = [dict(d) for d in validation._deprecations]

        if validation.error_messages:
            # Same wording as AnsibleModule: the first error, unknown options named like a module does.
            msg = validation.errors.msg
            if isinstance(validation.errors[0], UnsupportedError):
                msg = "Unsupported parameters for (%s) module: %s" % (self._task.resolved_action or spec.name, msg)
            result.update(failed=True, msg=msg)
        elif self._task.check_mode and not spec.supports_check_mode:
            result.update(skipped=True, changed=False,
                          msg="%s does not support check mode" % spec.name)
        else:
            outcome, task = execute(spec, validation.validated_parameters,
                                    check_mode=self._task.check_mode, diff=self._task.diff,
                                    org_name=org_name_of(task_vars))
            result.update(outcome)
            warnings.extend(task.warnings)
            deprecations.extend(task.deprecations)
            if injects_invocation(task_vars):
                result["invocation"] = {"module_args": validation.validated_parameters}
            else:
                # As AnsibleModule does when the setting is off: none, even one the implementation returned.
                result.pop("invocation", None)
        if warnings:
            result["warnings"] = warnings
        if deprecations:
            result["deprecations"] = deprecations
        return remove_values(result, no_log_values)
