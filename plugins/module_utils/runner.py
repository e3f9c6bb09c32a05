# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module shares, whichever way it runs.

A module is declared once as a :class:`ModuleSpec` (its own options, constraints and ``run``
function) in ``module_utils``. Two thin entry points execute it:

- ``plugins/modules/<name>.py`` ``main()`` -> :func:`run_as_module` (AnsibleModule: validation,
  check mode, no_log masking, warnings);
- ``plugins/action/<name>.py`` -> ``plugin_utils.action.SalesforceAction`` (ArgumentSpecValidator,
  the same behaviours, in the controller's worker process).

Both call :func:`execute`, the one place where typed errors become a failed result and where
``api_usage`` is added.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.sfops.integration_users.plugins.module_utils.client import Client
from ansible_collections.sfops.integration_users.plugins.module_utils.connection import (
    PASSWORD_FLOW_RETIREMENT,
    PasswordFlow,
    connection_argument_spec,
)
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import (
    MissingLibraryError,
    SalesforceModuleError,
)

COLLECTION_NAME = "sfops.integration_users"
_CONSTRAINTS = ("mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by")


class ModuleSpec:
    """A module's declaration: its own options (the connection options are added), constraints,
    check-mode support and the ``run(task)`` implementation returning the result dict."""

    def __init__(self, name, argument_spec, run, supports_check_mode=True, connects=True, **constraints):
        unknown = set(constraints) - set(_CONSTRAINTS)
        if unknown:
            raise TypeError("unknown constraint(s): %s" % ", ".join(sorted(unknown)))
        self.name = name
        self.argument_spec = argument_spec
        self.run = run
        self.supports_check_mode = supports_check_mode
        self.connects = connects
        self.constraints = constraints

    def full_argument_spec(self):
        """Connection options + the module's own (a module option may not shadow a connection one)."""
        spec = connection_argument_spec() if self.connects else {}
        clash = set(spec) & set(self.argument_spec)
        if clash:
            raise TypeError("%s redefines connection option(s) %s" % (self.name, ", ".join(sorted(clash))))
        spec.update(self.argument_spec)
        return spec


class Task:
    """What ``run(task)`` receives: validated ``params``, ``check_mode``, ``diff``, ``warn()``,
    ``deprecate()`` and a lazily connected ``client`` (no request before it is first used)."""

    def __init__(self, spec, params, check_mode=False, diff=False, client_factory=Client):
        self.spec = spec
        self.params = params
        self.check_mode = bool(check_mode)
        self.diff = bool(diff)
        self.warnings = []
        self.deprecations = []
        self._client_factory = client_factory
        self._client = None

    def warn(self, message):
        self.warnings.append(message)

    def deprecate(self, message, date=None, version=None):
        self.deprecations.append({"msg": message, "date": date, "version": version,
                                  "collection_name": COLLECTION_NAME})

    @property
    def client(self):
        if self._client is None:
            self._client = self._client_factory(self.params)
            if isinstance(self._client.flow, PasswordFlow):
                self.deprecate(PasswordFlow.deprecation, date=PASSWORD_FLOW_RETIREMENT)
            # Turning certificate checks off must never go unnoticed in a job's output.
            if self.params.get("validate_certs") is False:
                self.warn("validate_certs is false: the server's TLS certificate is not verified, so credentials "
                          "and tokens can be intercepted; give its CA bundle in ca_path instead")
        return self._client

    @property
    def api_usage(self):
        if self._client is None:
            return {"calls": 0, "used": None, "limit": None}
        return self._client.api_usage


def execute(spec, params, check_mode=False, diff=False, client_factory=Client, org_name=None):
    """Run ``spec.run`` and shape the result: ``changed`` as a bool, ``api_usage`` always,
    typed errors -> ``failed`` + ``msg`` (+ ``error`` details). Returns ``(result, task)``.

    ``org_name``: the org's inventory name (the action plugin's ``inventory_hostname``), which every
    failure names before the host, so a job over many orgs says which one failed."""
    task = Task(spec, params, check_mode, diff, client_factory)
    try:
        result = dict(spec.run(task) or {})
        result["changed"] = bool(result.get("changed", False))
    except MissingLibraryError as exc:
        result = {"failed": True, "msg": missing_required_lib(exc.library),
                  "exception": "".join(traceback.format_exception(
                      type(exc.import_error), exc.import_error, exc.import_error.__traceback__))}
    except SalesforceModuleError as exc:
        # Every failure names the org (and the connecting user) once a client exists, even when the raiser
        # did not know them.
        if task._client is not None:
            exc.with_context(task._client.org, task._client.user)
        exc.with_org_name(org_name)
        # A partial failure carries what was done before it failed (``changed`` included): one
        # failure shape for every module, with the partial result beside it.
        result = dict(getattr(exc, "partial", None) or {"changed": False})
        result["changed"] = bool(result.get("changed", False))
        result.update(failed=True, msg=exc.render(),
                      error={"org": exc.org, "user": exc.user, "error_code": exc.error_code,
                             "status": exc.status, "type": type(exc).__name__})
    if spec.connects:
        result["api_usage"] = task.api_usage
    return result, task


def run_as_module(spec, client_factory=Client):
    """The ``main()`` of ``plugins/modules/<name>.py`` (used when the module runs without its action
    plugin, e.g. under ansible-test or a plain ``ansible -m``)."""
    from ansible.module_utils.basic import AnsibleModule

    module = AnsibleModule(argument_spec=spec.full_argument_spec(),
                           supports_check_mode=spec.supports_check_mode, **spec.constraints)
    result, task = execute(spec, module.params, module.check_mode, module._diff, client_factory)
    for message in task.warnings:
        module.warn(message)
    for item in task.deprecations:
        module.deprecate(item["msg"], version=item["version"], date=item["date"],
                         collection_name=COLLECTION_NAME)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)
