"""Scale: one generated org of 10,000 users served over HTTPS. Prints figures; asserts only results."""
import os
import subprocess
import sys
import time

import pytest
import yaml

from conftest import EMULATOR_ROOT

USERS = 10000


@pytest.mark.slow
def test_query_over_ten_thousand_users(tmp_path, emulator_factory):
    generated = tmp_path / "generated.yml"
    env = dict(os.environ, PYTHONPATH=EMULATOR_ROOT)
    subprocess.run([sys.executable, "-m", "sfemu", "generate", "--orgs", "1", "--users", str(USERS), "--seed", "3",
                    "--out", str(generated)], env=env, check=True, timeout=600)
    estate = yaml.safe_load(generated.read_text())
    # Only the production org: its sandbox copy would double the load time without adding anything here.
    estate["orgs"] = [org for org in estate["orgs"] if not org.get("production")]
    single = tmp_path / "single.yml"
    single.write_text(yaml.safe_dump(estate, sort_keys=False))

    started = time.monotonic()
    running = emulator_factory(estate=str(single), name="scale")
    print("\nstart-up with %d users: %.1fs" % (USERS, time.monotonic() - started))
    org = next(iter(running.ready["orgs"]))
    soql = "SELECT Id, Username, IsActive, Profile.Name, Profile.UserLicense.Name, LastLoginDate FROM User"
    for attempt in range(2):
        started = time.monotonic()
        page = running.query(org, soql)
        fetched = len(page["records"])
        while not page["done"]:
            page = running.rest(org, "GET", running.base_url + page["nextRecordsUrl"]).json()
            fetched += len(page["records"])
        elapsed = time.monotonic() - started
        print("query %d: %d users in %.3fs (all pages)" % (attempt + 1, fetched, elapsed))
        assert fetched >= USERS
    started = time.monotonic()
    count = running.query(org, "SELECT COUNT() FROM User WHERE Profile.UserLicense.Name = 'Salesforce'")
    print("COUNT() with relationship filter: %.3fs" % (time.monotonic() - started))
    assert 0 < count["totalSize"] <= fetched
