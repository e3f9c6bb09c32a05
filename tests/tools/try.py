#!/usr/bin/env python
"""`make try`: the emulator left running with the demo estate, an inventory written for it, and the
commands to run each playbook by hand; `make stop` (``--stop``) ends it.

    python tests/tools/try.py [--work-dir DIR] [--estate FILE]     # start (a running one is restarted)
    python tests/tools/try.py [--work-dir DIR] --stop               # stop

Uses the emulator start and the inventory of ``tests/tools/demo.py`` (one host per org, JWT as each org's
admin, so the inventory holds key file paths and no secret). The inventory also carries a run-state
signing key made for this work directory (``signing.key``, owner-only), so the writing playbooks run
without an ``export``. Work files: ``tests/output/try/`` (inventory.yml, emulator/, runs/).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
from collections_root import ensure_collections_root  # noqa: E402
import demo  # noqa: E402

DEFAULT_WORK_DIR = os.path.join(demo.CHECKOUT, "tests", "output", "try")


def shown(path):
    """A path relative to the checkout when it is inside it (commands are run from the checkout)."""
    relative = os.path.relpath(path, demo.CHECKOUT)
    return path if relative.startswith("..") else relative


def start(work_dir, estate):
    work_dir = os.path.abspath(work_dir)
    demo.stop_detached(work_dir)
    # A new estate: plans and records of an earlier session would describe orgs that no longer exist.
    for stale in ("emulator", "runs"):
        shutil.rmtree(os.path.join(work_dir, stale), ignore_errors=True)
    os.makedirs(work_dir, mode=0o700, exist_ok=True)
    emulator = demo.Emulator(estate, os.path.join(work_dir, "emulator"), detached=True)
    runs_dir = os.path.join(work_dir, "runs")
    inventory = demo.inventory_from_ready(emulator.ready, estate, runs_dir)
    inventory["all"]["vars"]["license_migration_signing_key"] = demo.demo_signing_key(work_dir)
    inventory_file = os.path.join(work_dir, "inventory.yml")
    demo.write_private(inventory_file, yaml.safe_dump(inventory, sort_keys=False))
    orgs = emulator.ready["orgs"]
    sandboxes = [n for n, o in orgs.items() if o["is_sandbox"]]
    inv = shown(inventory_file)
    print("The Salesforce emulator is running (pid %d) at %s with %d orgs from %s:"
          % (emulator.process.pid, emulator.ready["base_url"], len(orgs), shown(estate)))
    for name, org in orgs.items():
        print("  %-14s %s" % (name, "sandbox" if org["is_sandbox"] else "production"))
    print("Inventory: %s (one host per org, JWT as each org's admin; owner-only)" % inv)
    print("""
Run the playbooks by hand from the checkout (%(checkout)s), in this order:

  export PATH=%(bin)s:$PATH
  export ANSIBLE_COLLECTIONS_PATH=%(collections)s
  ansible-playbook -i %(inv)s playbooks/inventory.yml --check --diff
  ansible-playbook -i %(inv)s playbooks/inventory.yml
  ansible-playbook -i %(inv)s playbooks/migrate_sandbox.yml
  ansible-playbook -i %(inv)s playbooks/verify.yml -e license_migration_target=%(sandboxes)s
  ansible-playbook -i %(inv)s playbooks/rollout_production.yml
  ansible-playbook -i %(inv)s playbooks/rollback.yml -e license_migration_rollback_run_id=<run id>

Each run prints one summary line per org and writes %(runs)s/<run id>/report.{json,csv,html}
(the run id is the directory name, also in the play's output); plans are in %(runs)s/plans/.
Stop the emulator with: %(stop)s"""
          % {"checkout": demo.CHECKOUT, "bin": os.path.dirname(sys.executable),
             "collections": ensure_collections_root(), "inv": inv, "runs": shown(runs_dir),
             "sandboxes": ":".join(sandboxes) or "all",
             "stop": "make stop   (or python tests/tools/try.py --stop)" if work_dir == DEFAULT_WORK_DIR
             else "python tests/tools/try.py --work-dir %s --stop" % shown(work_dir)})
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--work-dir", default=DEFAULT_WORK_DIR, help="inventory, emulator files and run reports")
    parser.add_argument("--estate", default=demo.DEMO_ESTATE, help="estate YAML of the emulator")
    parser.add_argument("--stop", action="store_true", help="stop the emulator a previous start left running")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        if args.stop:
            if not os.path.exists(os.path.join(os.path.abspath(args.work_dir), "emulator", "READY.json")):
                print("no emulator of make try is running (%s)" % shown(os.path.abspath(args.work_dir)))
                return 0
            return demo.stop_detached(args.work_dir)
        return start(args.work_dir, os.path.abspath(args.estate))
    except demo.DemoError as error:
        print("make try failed: %s" % error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
