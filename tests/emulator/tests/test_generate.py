"""The estate generator: shape, determinism, traps, and that what it writes loads."""
import yaml

from sfemu.estate import Estate
from sfemu.generate import INTEGRATION_PROFILE, generate


def test_generate_is_deterministic_by_seed():
    assert generate(orgs=3, users=50, seed=4) == generate(orgs=3, users=50, seed=4)
    assert generate(orgs=3, users=50, seed=4) != generate(orgs=3, users=50, seed=5)


def test_production_orgs_each_have_a_linked_sandbox():
    data = generate(orgs=4, users=30, seed=1)
    prods = [o for o in data["orgs"] if not o.get("sandbox")]
    sandboxes = [o for o in data["orgs"] if o.get("sandbox")]
    assert len(prods) == len(sandboxes) == 4
    assert sorted(s["production"] for s in sandboxes) == sorted(p["name"] for p in prods)
    assert all(s["sandbox_name"] == "uat" for s in sandboxes)


def test_generated_estate_round_trips_through_yaml():
    data = generate(orgs=2, users=30, seed=2)
    assert yaml.safe_load(yaml.safe_dump(data, sort_keys=False)) == data


def test_ten_orgs_of_two_hundred_users_load_with_realistic_shares_and_traps():
    data = generate(orgs=10, users=200, seed=3)
    estate = Estate.from_dict(data, seed=3)
    assert len(estate.orgs) == 20
    prods = [o for o in data["orgs"] if not o.get("sandbox")]
    assert {len(o["users"]) for o in prods} == {200}
    shares = []
    for spec in prods:
        candidates = [u for u in spec["users"] if u["username"].startswith("svc.")]
        shares.append(len(candidates) / len(spec["users"]))
    assert all(0.04 <= share <= 0.11 for share in shares), shares
    # Traps a migration meets: integrations on System Administrator, sets bound to the full license,
    # look-alike profiles, orgs refusing the change, orgs already short of integration seats.
    all_candidates = [u for o in prods for u in o["users"] if u["username"].startswith("svc.")]
    assert any(u["profile"] == "System Administrator" for u in all_candidates)
    assert any(set(u.get("permission_sets", [])) & {"Sales_Ops", "Connector_Full"} for u in all_candidates)
    assert any(u["profile"] == "API Only" for u in all_candidates)
    assert any(not o["allow_license_change_to_integration"] for o in prods)
    short = [o for o in estate.orgs.values() if not o.is_sandbox
             and o.dump_state()["licenses"]["Salesforce Integration"]["used"] == 5]
    assert short, "no org is short of integration seats"
    humans_with_api = [u for o in prods for u in o["users"]
                       if not u["username"].startswith(("svc.", "int.")) and u["logins"].get("api")]
    assert humans_with_api and all(u["logins"].get("ui") for u in humans_with_api)
    org = estate.orgs["acme-prod"]
    admin = org.admin_user
    apex = org.query("SELECT Name FROM ApexClass WHERE Name = 'IntegrationBypass'", admin)
    assert apex.total_size == 1
    profiles = org.query("SELECT Name FROM Profile WHERE UserLicense.Name = 'Salesforce Integration'", admin)
    assert INTEGRATION_PROFILE in {p["Name"] for p in profiles.records}
    # The generated sandbox is a copy with suffixed usernames.
    uat = estate.orgs["acme-uat"]
    assert uat.find_user("admin@acme.example.uat") is not None


def test_many_orgs_keep_unique_names_and_client_ids():
    data = generate(orgs=20, users=5, seed=9)
    names = [o["name"] for o in data["orgs"]]
    assert len(names) == len(set(names)) == 40
    client_ids = [o["connected_apps"][0]["client_id"] for o in data["orgs"] if not o.get("sandbox")]
    assert len(client_ids) == len(set(client_ids))


def test_generated_orgs_carry_setup_access_traps():
    from sfemu import setup_access
    data = generate(orgs=6, users=40, seed=3)
    prods = [o for o in data["orgs"] if not o.get("sandbox")]
    profiles = [next(p for p in o["profiles"] if p["name"] == "Integration Admin") for o in prods]
    assert any("connected_apps" in p.get("setup_access", {}) for p in profiles)
    assert any("apex_classes" in p.get("setup_access", {}) for p in profiles)
    assert any(p.get("record_types") for p in profiles) and any(p.get("login_ip_ranges") for p in profiles)
    assert any(u.get("oauth_tokens") for o in prods for u in o["users"])
    estate = Estate.from_dict(data, seed=3)
    for spec in prods:
        org = estate.orgs[spec["name"]]
        apps = org.query("SELECT Name FROM ConnectedApplication WHERE OptionsAllowAdminApprovedUsersOnly = true",
                         org.admin_user).records
        holders = [u for u in spec["users"] if u["profile"] == "Integration Admin"]
        if apps and holders:
            user = org.find_user(holders[0]["username"])
            assert "Middleware Connector" in setup_access.entity_ids(org, user)["ConnectedApplication"]
    # The traps come from a generator of their own: everything else is what the seed gave before.
    for spec in prods:
        assert [a["name"] for a in spec["connected_apps"]][0] == "Ops Automation"


def test_generated_integrations_have_a_usage_history_the_log_serves():
    """Issue 18: each active integration calls on objects its profile reaches; humans have no history."""
    import csv
    import io

    from sfemu import usage
    data = generate(orgs=4, users=60, seed=2)
    prods = [o for o in data["orgs"] if not o.get("sandbox")]
    histories = [(o, u) for o in prods for u in o["users"] if u.get("api_usage")]
    assert histories and all(u["username"].startswith("svc.") and u.get("active", True) for _o, u in histories)
    assert {("POST" in u["api_usage"]["methods"]) for _o, u in histories} == {True, False}
    for org, user in histories:
        profile = next(p for p in org["profiles"] if p["name"] == user["profile"])
        if user["profile"] != "System Administrator":
            assert set(user["api_usage"]["objects"]) <= set(profile["object_permissions"]), user
    estate = Estate.from_dict(data, seed=2)
    org_spec, user_spec = histories[0]
    org = estate.orgs[org_spec["name"]]
    user_id = org.find_user(user_spec["username"])["Id"]
    newest = max(org.tables["EventLogFile"].values(), key=lambda r: r["LogDate"])
    lines = [r for r in csv.DictReader(io.StringIO(usage.log_file(org, newest["Id"])))
             if r["USER_ID_DERIVED"] == user_id]
    assert len(lines) == user_spec["api_usage"]["calls_per_day"]
    assert set(r["ENTITY_NAME"] for r in lines) == set(user_spec["api_usage"]["objects"])
