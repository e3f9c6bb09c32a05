"""Large realistic estates for scale tests: `python -m sfemu generate --orgs N --users M --seed S`.

Each production org gets a linked `uat` sandbox. Users are mostly humans (UI logins, some with API
logins too), with a realistic share (~5-10%) of integration users (API logins only) and the traps a
migration meets in real orgs: integrations on System Administrator, permission sets bound to the full
license, look-alike "API Only" profiles, Apex / validation rules / flows / custom settings that test
profile names, orgs already short of integration seats, orgs refusing the license change; and what the
profile grants beyond permissions (issue 12): an admin-approved connected app, an Apex REST class, a
custom permission, a default record type and a login IP range reached only through "Integration Admin".
"""
import random

from sfemu.objects import DATA_OBJECTS

_COMPANIES = ("acme", "globex", "initech", "umbrella", "stark", "wayne", "hooli", "vandelay", "soylent",
              "cyberdyne", "tyrell", "wonka", "oceanic", "massive", "aperture", "gringotts", "monarch", "zorg")
_FIRST = ("alice", "bruno", "chloe", "david", "emma", "farid", "grace", "hugo", "ines", "jules", "karim", "lea",
          "marc", "nina", "omar", "paula", "quentin", "rosa", "sami", "tara", "ugo", "vera", "will", "yann")
_LAST = ("martin", "bernard", "dubois", "smith", "garcia", "muller", "rossi", "nguyen", "kowalski", "silva",
         "jones", "khan", "lopez", "moreau", "novak", "olsen", "petit", "quinn", "roux", "sato")
_INTEGRATIONS = ("mulesoft", "etl", "informatica", "boomi", "datadog", "marketo", "docusign", "netsuite",
                 "workday", "tableau", "segment", "zapier", "hubspot", "jira", "snowflake", "fivetran")
_ADMIN_PERMISSIONS = ["ApiEnabled", "ViewSetup", "ManageUsers", "AssignPermissionSets", "ModifyAllData",
                      "ViewAllData", "CustomizeApplication", "AuthorApex", "RunFlow", "ManageProfilesPermissionsets"]
INTEGRATION_PROFILE = "Minimum Access - API Only Integrations"
INTEGRATION_SEATS = 5


def generate(orgs=3, users=200, seed=0):
    """An estate dict with ``orgs`` production orgs (each with a sandbox) of about ``users`` users."""
    rng = random.Random("generate:%s" % seed)
    estate = []
    for index in range(orgs):
        company = _COMPANIES[index % len(_COMPANIES)] + ("" if index < len(_COMPANIES) else str(index))
        prod = _production_org(rng, company, users)
        # A generator of its own, so the rest of the estate stays what the seed gave before issue 12.
        _access_traps(random.Random("generate-access:%s:%s" % (seed, company)), prod)
        # Usage history (issue 18) from a generator of its own too.
        _usage_history(random.Random("generate-usage:%s:%s" % (seed, company)), prod)
        estate.append(prod)
        estate.append({"name": "%s-uat" % company, "sandbox": True, "sandbox_name": "uat",
                       "production": prod["name"]})
    return {"orgs": estate}


def _production_org(rng, company, user_count):
    domain = "%s.example" % company
    edition = rng.choices(("Enterprise", "Unlimited", "Performance"), weights=(7, 2, 1))[0]
    short_of_seats = rng.random() < 0.2
    refuses_change = rng.random() < 0.2
    has_lookalike = rng.random() < 0.6
    has_deprecated_profile = rng.random() < 0.3
    profiles = [
        {"name": "System Administrator", "license": "Salesforce", "permissions": list(_ADMIN_PERMISSIONS)},
        {"name": "Standard User", "license": "Salesforce", "permissions": ["ApiEnabled", "RunFlow"],
         "object_permissions": {"Account": "cru", "Contact": "crud", "Opportunity": "crud", "Case": "cru"}},
        {"name": "Integration Admin", "license": "Salesforce", "permissions": ["ApiEnabled", "ViewSetup"],
         "object_permissions": {"Account": "crud", "Contact": "crud", "Opportunity": "r", "Case": "r"}},
        {"name": "Platform User", "license": "Salesforce Platform", "permissions": ["ApiEnabled"],
         "object_permissions": {"Account": "r", "Contact": "r"}},
        {"name": INTEGRATION_PROFILE, "license": "Salesforce Integration",
         "permissions": ["ApiEnabled", "ApiUserOnly"]},
    ]
    if has_deprecated_profile:
        profiles.append({"name": "Salesforce API Only System Integrations", "license": "Salesforce Integration",
                         "permissions": ["ApiEnabled", "ApiUserOnly"]})
    if has_lookalike:
        profiles.append({"name": "API Only", "license": "Salesforce", "permissions": ["ApiEnabled", "ApiUserOnly"],
                         "object_permissions": {"Account": "crud", "Contact": "r"}})
    permission_sets = [
        {"name": "Sales_Ops", "label": "Sales Ops", "license": "Salesforce",
         "object_permissions": {"Opportunity": "crud"}},
        {"name": "Sync_Read", "label": "Sync read", "license": None,
         "object_permissions": {"Account": "r", "Contact": "r"}},
        {"name": "Integration_Data_Access", "label": "Integration data access", "license": "Salesforce API Integration",
         "object_permissions": {"Account": "r", "Contact": "cru"}, "permissions": ["RunFlow"]},
        {"name": "Connector_Full", "label": "Connector (managed)", "license": "Salesforce", "namespace": "cnx",
         "permissions": ["ApiEnabled"], "object_permissions": {"Account": "r"}},
        # The look-alike trap: bound to the *user license*, it cannot carry standard-object access.
        {"name": "Integration_User_License_Set", "label": "Integration (user license)",
         "license": "Salesforce Integration", "permissions": ["ApiEnabled"]},
    ]
    users = [{"username": "admin@%s" % domain, "profile": "System Administrator", "first_name": "Ada",
              "last_name": "Admin", "logins": {"ui": rng.randrange(20, 60), "api": rng.randrange(0, 20)}}]
    integration_count = max(2, round(user_count * rng.uniform(0.05, 0.10)))
    pre_migrated = INTEGRATION_SEATS if short_of_seats else rng.randrange(0, 3)
    used_names = set()
    for k in range(integration_count):
        users.append(_integration_user(rng, domain, k, has_lookalike, used_names))
    for k in range(pre_migrated):
        users.append({"username": "int.migrated%d@%s" % (k + 1, domain), "profile": INTEGRATION_PROFILE,
                      "last_name": "Migrated %d" % (k + 1), "permission_set_licenses": ["SalesforceAPIIntegrationPsl"],
                      "permission_sets": ["Integration_Data_Access"], "logins": {"api": rng.randrange(20, 200)}})
    while len(users) < user_count:
        users.append(_human_user(rng, domain, len(users), used_names))
    full_active = sum(1 for u in users if u.get("active", True)
                      and _profile_license(profiles, u["profile"]) == "Salesforce")
    platform_active = sum(1 for u in users if u.get("active", True)
                          and _profile_license(profiles, u["profile"]) == "Salesforce Platform")
    org = {
        "name": "%s-prod" % company, "edition": edition, "sandbox": False, "my_domain": company,
        "allow_license_change_to_integration": not refuses_change,
        "licenses": {"Salesforce": full_active + rng.randrange(2, 25), "Salesforce Platform": platform_active + 5,
                     "Salesforce Integration": INTEGRATION_SEATS},
        "permission_set_licenses": {"SalesforceAPIIntegrationPsl": {"label": "Salesforce API Integration",
                                                                    "total": INTEGRATION_SEATS}},
        "profiles": profiles, "permission_sets": permission_sets, "users": users,
        "connected_apps": [{"name": "Ops Automation", "client_id": "%s_OPS_CLIENT" % company.upper(),
                            "client_secret": "generate", "certificate": "generate", "run_as": "admin@%s" % domain}],
        "records": {"Account": rng.randrange(10, 40), "Contact": rng.randrange(20, 80),
                    "Opportunity": rng.randrange(5, 20), "Case": rng.randrange(5, 20)},
    }
    org.update(_code_traps(rng))
    return org


def _profile_license(profiles, name):
    return next(p["license"] for p in profiles if p["name"] == name)


def _integration_user(rng, domain, k, has_lookalike, used_names):
    system = _INTEGRATIONS[k % len(_INTEGRATIONS)] + ("" if k < len(_INTEGRATIONS) else str(k))
    profiles = ["System Administrator", "Integration Admin", "Standard User"] + (["API Only"] if has_lookalike else [])
    profile = rng.choices(profiles, weights=(3, 4, 1, 2)[:len(profiles)])[0]
    user = {"username": "svc.%s@%s" % (system, domain), "profile": profile, "last_name": system.title(),
            "first_name": "Integration", "logins": {"api": rng.randrange(10, 150)}}
    used_names.add(user["username"])
    sets = []
    if profile != "System Administrator" and rng.random() < 0.4:
        sets.append(rng.choice(["Sales_Ops", "Connector_Full"]))   # bound to the full license: blocks the move
    if rng.random() < 0.3:
        sets.append("Sync_Read")
    if sets:
        user["permission_sets"] = sets
    if rng.random() < 0.1:
        user["active"] = False
        user["logins"] = {}
    return user


def _human_user(rng, domain, n, used_names):
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    username = "%s.%s@%s" % (first, last, domain)
    if username in used_names:
        username = "%s.%s%d@%s" % (first, last, n, domain)
    used_names.add(username)
    profile = rng.choices(("Standard User", "Platform User", "System Administrator"), weights=(85, 12, 3))[0]
    logins = {"ui": rng.randrange(1, 15)}
    if rng.random() < 0.25:
        logins["api"] = rng.randrange(1, 10)       # humans using Data Loader or the CLI: not candidates
    user = {"username": username, "profile": profile, "first_name": first.title(), "last_name": last.title(),
            "logins": logins}
    if rng.random() < 0.08:
        user["active"] = False
        user["logins"] = {"ui": rng.randrange(0, 3)}
    elif profile == "Standard User" and rng.random() < 0.2:
        user["permission_sets"] = ["Sales_Ops"]
    return user


def _code_traps(rng):
    out = {
        "apex_classes": [{"name": "IntegrationBypass", "body": (
            "public class IntegrationBypass {\n"
            "  public static Boolean isIntegration() {\n"
            "    String name = [SELECT Name FROM Profile WHERE Id = :UserInfo.getProfileId()].Name;\n"
            "    return name == 'Integration Admin' || name == 'API Only';\n  }\n}\n")},
            {"name": "AccountService", "body": "public with sharing class AccountService {\n"
                                               "  public static void touch(List<Account> rows) {}\n}\n"}],
        "apex_triggers": [{"name": "AccountTrigger", "object": "Account",
                           "body": "trigger AccountTrigger on Account (before insert, before update) {\n"
                                   "  if (IntegrationBypass.isIntegration()) return;\n}\n"}],
        "validation_rules": [{"object": "Account", "name": "Require_Industry", "active": True,
                              "formula": "AND(ISBLANK(TEXT(Industry)), $Profile.Name <> 'Integration Admin')"},
                             {"object": "Opportunity", "name": "Close_Date_Future", "active": rng.random() < 0.5,
                              "formula": "CloseDate < TODAY()"}],
        "flows": [{"name": "Case_Routing", "active": True,
                   "formulas": ["$Profile.Name = \"Integration Admin\""]}],
        "custom_settings": [{"name": "Trigger_Bypass__c",
                             "rows": [{"owner": "org", "fields": {"Disable_All__c": False}},
                                      {"owner": "profile:Integration Admin", "fields": {"Disable_All__c": True}}]}],
    }
    if rng.random() < 0.5:
        out["formula_fields"] = [{"object": "Account", "name": "Is_Integration_Edit", "type": "Checkbox",
                                  "formula": "$Profile.Name = 'API Only'"}]
    return out



def _usage_history(rng, org):
    """A realistic ApiTotalUsage history for the active integrations (``api_usage``): a read-only sync on one
    or two objects, or a read/write one on a few, every day of the window or only some (a weekly job looks
    like a short window), through the app it holds a token of, else the org's first connected app. The
    objects are among those its profile reaches, so least privilege has something true to find."""
    grants = dict((p["name"], p.get("object_permissions") or {}) for p in org["profiles"])
    for user in org["users"]:
        if not user["username"].startswith("svc.") or user.get("active") is False or not user.get("logins", {}).get("api"):
            continue
        reachable = sorted(DATA_OBJECTS) if user["profile"] == "System Administrator" else sorted(
            grants.get(user["profile"]) or {})
        if not reachable:
            continue   # a profile that reaches no object: nothing it could have called on
        objects = rng.sample(reachable, min(len(reachable), rng.choice((1, 2, 2, 3))))
        writes = rng.random() < 0.6
        tokens = user.get("oauth_tokens") or []
        user["api_usage"] = {"days": rng.choice((7, 30, 30, 30)), "calls_per_day": rng.randrange(5, 60),
                             "objects": objects, "methods": ["GET", "PATCH", "POST"] if writes else ["GET"],
                             "app": tokens[0]["app"] if tokens else org["connected_apps"][0]["name"]}


def _access_traps(rng, org):
    """Setup access on the "Integration Admin" profile at realistic rates (no extra keys: start-up stays cheap)."""
    profile = next(p for p in org["profiles"] if p["name"] == "Integration Admin")
    company = org["my_domain"]
    access = {}
    if rng.random() < 0.7:
        org["connected_apps"].append({"name": "Middleware Connector", "client_id": "%s_MIDDLEWARE" % company.upper(),
                                      "client_secret": "generate", "admin_approved": True})
        access["connected_apps"] = ["Middleware Connector"]
        for user in org["users"]:
            if user["profile"] == "Integration Admin" and user.get("logins", {}).get("api") and rng.random() < 0.6:
                user["oauth_tokens"] = [{"app": "Middleware Connector", "use_count": rng.randrange(50, 20000),
                                         "last_used_days_ago": rng.randrange(0, 30)}]
    if rng.random() < 0.5:
        org["apex_classes"].append({"name": "IntegrationOrders", "body": (
            "@RestResource(urlMapping='/integration/orders/*')\n"
            "global with sharing class IntegrationOrders {\n"
            "  @HttpGet global static String ping() { return 'ok'; }\n}\n")})
        access["apex_classes"] = ["IntegrationOrders"]
    if rng.random() < 0.5:
        org["custom_permissions"] = [{"name": "Bypass_Validation", "label": "Bypass validation rules"}]
        access["custom_permissions"] = ["Bypass_Validation"]
    if access:
        profile["setup_access"] = access
    if rng.random() < 0.4:
        org["record_types"] = [{"object": "Account", "name": "Partner", "label": "Partner"}]
        profile["record_types"] = {"Account": {"visible": ["Partner"], "default": "Partner"}}
        admin = next(p for p in org["profiles"] if p["name"] == "System Administrator")
        admin["record_types"] = {"Account": {"visible": ["Partner"]}}
    if rng.random() < 0.3:
        profile["login_ip_ranges"] = [{"start": "127.0.0.1", "end": "127.0.0.255", "description": "Middleware hosts"}]
