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
way module results carry them.
"""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.sfops.integration_users.plugins.module_utils.runner import execute


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
        no_log_values = validation._no_log_values
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
                                    check_mode=self._task.check_mode, diff=self._task.diff)
            result.update(outcome)
            warnings.extend(task.warnings)
            deprecations.extend(task.deprecations)
            result["invocation"] = {"module_args": validation.validated_parameters}
        if warnings:
            result["warnings"] = warnings
        if deprecations:
            result["deprecations"] = deprecations
        return remove_values(result, no_log_values)
