# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report a manager presents: one source for the figures of JSON, CSV and HTML (per-user savings add
up to the org's), projections in check mode, findings shown resolved or carried, the risk flag on
admin-level rights, long refusals once, the contents in production-then-sandbox order, next actions and
the rollback command."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import html.parser
import io
import re

from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_migration_report_render as reporting

PRICES = {"full_license": 165, "integration_seat": 10, "currency": "USD"}
INTEGRATION = {"user_license": {"total": 5, "used": 3, "free": 2}, "psl": {"free": 2}}
TARGET = "Minimum Access - API Only Integrations"
REFUSAL = "FIELD_INTEGRITY_EXCEPTION: the org refuses the license change. " + "Long advice. " * 70


def entry(name, status="move", **extra):
    item = {"username": name, "status": status, "reasons": [], "profile": "System Administrator", "license": "Salesforce"}
    item.update(extra)
    return item


def production(migrate=None, dry_run=False):
    gap = {"system": ["ModifyAllData", "ApiEnabled", "ViewAllData"], "objects": {"Account": ["Read"]}}
    findings = [
        {"code": "ACCESS_GAP", "severity": "warning", "user": "svc.a@x", "message": "would lose access"},
        {"code": "ADMIN_RIGHTS", "severity": "warning", "user": "svc.a@x", "message": "admin-level rights"},
        {"code": "PERMISSION_SET_LICENSE_CONFLICT", "severity": "blocker", "user": "svc.b@x", "message": "bound"},
        {"code": "NO_SEATS", "severity": "blocker", "user": "svc.c@x", "message": "no seat"},
        {"code": "PROFILE_NAME_REFERENCE", "severity": "blocker", "user": "svc.d@x", "message": "Apex tests the name"},
    ]
    result = {
        "org": "acme-prod", "org_type": "production", "production_org": None, "error": None,
        "inventory": {"integration": INTEGRATION, "salesforce_seats": {"used": 9}, "findings": findings,
                      "users": [{"username": "svc.%s@x" % n, "candidate": True, "license": "Salesforce",
                                 "profile": {"name": "System Administrator"}} for n in "abcd"]},
        "plan": {"seats": {"integration_free": 2, "integration_total": 5, "integration_used": 3, "psl_free": 2},
                 "target_profile": {"name": TARGET}, "findings": findings, "path": "/home/op/runs/plans/acme-prod.json",
                 "entries": [entry("svc.a@x", permission_set={"name": "Integration_Access_svc_a", "access_gap": gap}),
                             entry("svc.b@x"), entry("svc.c@x", "wait"),
                             entry("svc.d@x", "blocked", reasons=["PROFILE_NAME_REFERENCE: Apex tests the name"])]},
    }
    if migrate is not None:
        result["migrate"] = {"dry_run": dry_run, "users": [
            {"username": name, "changed": True,
             "after": {"profile": {"name": TARGET, "license": "Salesforce Integration"}} if not dry_run else {}}
            for name in migrate]}
        result["seats_before"] = {"integration": INTEGRATION, "salesforce_seats": {"used": 9}}
    return result


def sandbox(name, prod, refused=()):
    result = {"org": name, "org_type": "sandbox", "production_org": prod, "error": None,
              "migrate": {"users": [], "failed_usernames": list(refused), "errors": [REFUSAL] * len(refused)}}
    return result


def doc_of(*results, dry_run=False):
    provenance = {"collection": "sfops.integration_users", "version": "1.2.3", "operator": "op",
                  "inventory": ["inventory/"], "runs_dir": "~/runs"}
    return reporting.build_report(list(results), "run-7", "2026-12-03T10:00:00Z", dry_run, PRICES,
                                  provenance=provenance, local_paths={"/home/op/runs": "~/runs"})


def csv_rows(doc):
    return list(csv.DictReader(io.StringIO(reporting.render_csv(doc))))


def test_per_user_savings_add_up_to_the_org_figure_in_json_and_csv():
    doc = doc_of(production(migrate=["svc.a@x", "svc.b@x"]))
    org = doc["orgs"][0]
    users = dict((u["username"], u) for u in org["users"])
    # Two moves into the plan's two free seats; the waiting third would need an extra seat.
    assert org["monthly_saving"] == 330 and org["potential_monthly_saving"] == 330 + 155
    assert (users["svc.a@x"]["monthly_saving"], users["svc.b@x"]["monthly_saving"]) == (165, 165)
    assert users["svc.c@x"]["potential_monthly_saving"] == 155 and users["svc.c@x"]["monthly_saving"] is None
    assert (org["extra_seats_needed"], org["extra_seats_monthly_cost"], org["extra_seats_unlock"]) == (1, 10, 155)
    assert doc["totals"]["annual_saving"] == 12 * 330 and doc["totals"]["potential_annual_saving"] == 12 * 485
    rows = csv_rows(doc)
    assert sum(int(r["monthly_saving"] or 0) for r in rows) == org["monthly_saving"]
    assert sum(int(r["potential_monthly_saving"] or 0) for r in rows) == org["potential_monthly_saving"]
    row = next(r for r in rows if r["username"] == "svc.a@x")
    assert (row["previous_profile"], row["previous_license"]) == ("System Administrator", "Salesforce")
    assert (row["new_profile"], row["new_license"]) == (TARGET, "Salesforce Integration")
    assert row["finding_codes"] == "ACCESS_GAP | ADMIN_RIGHTS"


def test_the_potential_saving_is_the_same_at_every_step():
    inventory = doc_of(production())["orgs"][0]
    moved = doc_of(production(migrate=["svc.a@x", "svc.b@x"]))["orgs"][0]
    restored = production(migrate=["svc.a@x", "svc.b@x"])
    restored["rollback"] = {"run_id": "run-7", "usernames": ["svc.a@x", "svc.b@x"]}
    restored = doc_of(restored)["orgs"][0]
    assert inventory["potential_monthly_saving"] == moved["potential_monthly_saving"] == \
        restored["potential_monthly_saving"] == 485
    assert (inventory["monthly_saving"], moved["monthly_saving"], restored["monthly_saving"]) == (0, 330, 0)
    row = next(u for u in restored["users"] if u["username"] == "svc.a@x")
    assert (row["status"], row["profile"], row["new_profile"]) == ("restored", "System Administrator", None)


def test_a_dry_run_projects_seats_and_saving():
    doc = doc_of(production(migrate=["svc.a@x", "svc.b@x"], dry_run=True), dry_run=True)
    org = doc["orgs"][0]
    assert org["seats_after"]["integration_free"] == 0 and org["seats_after"]["projected"]
    assert org["seats_after"]["salesforce_used"] == 7
    assert org["monthly_saving"] == 0 and org["projected_monthly_saving"] == 330
    assert "integration seats free 2/5 -> 0/5 (projected)" in org["summary"]
    assert "only a real run shows what the org refuses" in org["summary"]
    page = reporting.render_html(doc)
    assert "Would save <span data-figure=\"totals.projected_monthly_saving\">$330</span> a month" in page
    assert "After (projected)" in page


def test_findings_read_resolved_or_carried_and_admin_rights_are_flagged():
    before = dict((f["code"], f) for f in doc_of(production())["orgs"][0]["findings"])
    assert before["ACCESS_GAP"]["state"] == "carried"
    assert "re-granted by permission set Integration_Access_svc_a at the move" == before["ACCESS_GAP"]["resolution"]
    assert before["PERMISSION_SET_LICENSE_CONFLICT"]["state"] == "open"
    assert before["ADMIN_RIGHTS"]["state"] == "review"
    doc = doc_of(production(migrate=["svc.a@x", "svc.b@x", "svc.c@x"]))
    after = dict((f["code"], f) for f in doc["orgs"][0]["findings"])
    assert after["ACCESS_GAP"]["state"] == "resolved"
    assert after["PERMISSION_SET_LICENSE_CONFLICT"]["state"] == "resolved"
    assert "removed at the move" in after["PERMISSION_SET_LICENSE_CONFLICT"]["resolution"]
    assert after["NO_SEATS"]["state"] == "resolved" and after["PROFILE_NAME_REFERENCE"]["state"] == "open"
    assert doc["risks"] == [{"org": "acme-prod", "user": "svc.a@x", "permission_set": "Integration_Access_svc_a",
                             "rights": ["ModifyAllData", "ViewAllData"]}]
    assert doc["totals"]["blocked_by"] == {"PROFILE_NAME_REFERENCE": 1}
    page = reporting.render_html(doc)
    assert page.count('data-risk="admin-rights"') == 2   # the summary's security list and the user's row
    assert '<td class="severity resolved">blocker</td><td class="resolved">resolved</td>' \
           '<td>PERMISSION_SET_LICENSE_CONFLICT</td>' in page
    assert next(r for r in csv_rows(doc) if r["username"] == "svc.a@x")["risk"] == "ModifyAllData | ViewAllData"


def test_a_long_refusal_is_said_once_per_org():
    refused = ["svc.a@x.uat", "svc.b@x.uat", "svc.c@x.uat"]
    doc = doc_of(production(), sandbox("acme-uat", "acme-prod", refused))
    uat = next(o for o in doc["orgs"] if o["org"] == "acme-uat")
    assert uat["notes"] == [{"id": "N1", "text": REFUSAL, "users": refused}]
    # The JSON keeps each user's reason; the HTML and the CSV say it once.
    assert all(u["reasons"] == [REFUSAL] for u in uat["users"])
    page = reporting.render_html(doc)
    assert page.count(html_text(REFUSAL)) == 1 and page.count("see note N1") == 3
    text = reporting.render_csv(doc)
    assert text.count(REFUSAL.strip()) == 1 and text.count("same refusal as in the row of svc.a@x.uat") == 2


def test_a_refusal_naming_each_user_says_its_shared_advice_once():
    """The modules' refusals name the user and its backup, then give the same advice: that advice once."""
    advice = " What to do: this org refuses to move users to a profile of another license." + " Detail." * 30
    refused = ["svc.a@x.uat", "svc.b@x.uat"]
    result = sandbox("acme-uat", "acme-prod", refused)
    result["migrate"]["errors"] = ["user %s: FIELD_INTEGRITY_EXCEPTION, backup runs/r/%s.json." % (n, n) + advice
                                   for n in refused]
    doc = doc_of(result)
    uat = doc["orgs"][0]
    assert uat["notes"] == [{"id": "N1", "text": advice.strip(), "users": refused}]
    page = reporting.render_html(doc)
    assert page.count(html_text(advice.strip())) == 1
    for name in refused:
        assert "user %s: FIELD_INTEGRITY_EXCEPTION, backup runs/r/%s.json. What to do: see note N1" % (name, name) in page
    text = reporting.render_csv(doc)
    assert text.count(advice.strip()) == 1 and "What to do: see the row of svc.a@x.uat" in text


def html_text(value):
    import html
    return html.escape(value)


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids, self.sections = [], set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("href", "").startswith("#"):
            self.hrefs.append(attrs["href"][1:])
        if attrs.get("id"):
            self.ids.add(attrs["id"])
            if tag == "section" and attrs["id"].startswith("org-"):
                self.sections.append(attrs["id"])


def test_contents_link_every_section_production_first_then_its_sandboxes():
    doc = doc_of(sandbox("globex-dev", "globex-prod"), dict(production(), org="globex-prod"),
                 sandbox("acme-uat", "acme-prod"), production(), sandbox("orphan-dev", "gone-prod"))
    assert [o["org"] for o in doc["orgs"]] == ["acme-prod", "acme-uat", "globex-prod", "globex-dev", "orphan-dev"]
    links = Links()
    links.feed(reporting.render_html(doc))
    assert links.sections == ["org-acme-prod", "org-acme-uat", "org-globex-prod", "org-globex-dev", "org-orphan-dev"]
    assert set(links.hrefs) >= set(links.sections) | {"summary", "chart", "provenance"}
    assert [h for h in links.hrefs if h not in links.ids] == []
    # Each sandbox is listed inside its production org's entry; one whose production org is not in the report
    # is not listed inside another's.
    toc = reporting.render_html(doc).split('<nav id="toc">')[1].split("</nav>")[0]
    nested = re.findall(r'<li><a href="#(org-[^"]+)">[^<]*</a> <small>production[^<]*</small>\n<ol>\n((?:<li><a href="#[^"]+">'
                        r'[^<]*</a> <small>[^<]*</small></li>\n)*)</ol></li>', toc)
    children = dict((prod, re.findall(r'href="#([^"]+)"', inner)) for prod, inner in nested)
    assert children == {"org-acme-prod": ["org-acme-uat"], "org-globex-prod": ["org-globex-dev"]}, toc
    assert re.search(r'<li>Sandboxes of orgs not in this report<ol>\n<li><a href="#org-orphan-dev">', toc), toc


def test_summary_chart_next_actions_provenance_and_no_local_path():
    doc = doc_of(production(migrate=["svc.a@x"]))
    page = reporting.render_html(doc)
    assert page.index('id="summary"') < page.index('id="chart"') < page.index('id="toc"') < page.index('id="org-acme-prod"')
    assert re.search(r'<svg role="img"[^>]*data-chart="savings"', page)
    bars = re.findall(r'<rect class="(potential|saved)" x="\d+" y="\d+" width="(\d+)" height="14" data-value="(\d+)"', page)
    assert ("potential", "380", "485") in bars and ("saved", str(round(380 * 165 / 485)), "165") in bars
    assert doc["rollback_command"] == ("ansible-playbook -i inventory/ sfops.integration_users.rollback "
                                       "-e license_migration_rollback_run_id=run-7")
    assert '<code id="rollback-command">%s</code>' % doc["rollback_command"] in page
    actions = [a["action"] for a in doc["next_actions"]]
    assert any(a.startswith("Buy 1 more Salesforce Integration seat(s) ($10 a month)") for a in actions)
    assert any(a.startswith("Cut 1 full license(s) at the next renewal") for a in actions)
    assert "1.2.3" in page and "/home/op" not in page and "/home/op" not in reporting.render_csv(doc)
    assert doc["orgs"][0]["plan_file"] == "plans/acme-prod.json"


def test_csv_and_html_use_the_same_status_words():
    doc = doc_of(production(migrate=["svc.a@x"]), sandbox("acme-uat", "acme-prod", ["svc.a@x.uat"]))
    page = reporting.render_html(doc)
    for row in csv_rows(doc):
        assert row["status"] == reporting.STATUS_WORDS[row["status_code"]]
        assert ">%s</td>" % row["status"] in page
    assert "not_candidate" not in page and ">wait<" not in page


def test_observed_access_shows_beside_the_copied_rights_and_a_malformed_one_does_not_break_the_report():
    result = production()
    result["plan"]["evidence"] = {"observed_access": {"svc.a@x": {
        "window_days": 30, "usage_log": {"status": "read", "date": "2026-12-02", "detail": "..."},
        "objects": {"Account": {"granted": [], "read_calls": 7, "write_calls": 13, "modified_records": 1},
                    "Opportunity": {"granted": ["Create", "Edit", "Read"], "read_calls": 0, "write_calls": 0,
                                    "modified_records": 0}},
        "unused_objects": ["Opportunity"], "unused_write_objects": ["Opportunity"],
        "system": ["ApiEnabled", "ModifyAllData", "ViewAllData"]},
        "svc.b@x": {"objects": {"Account": "junk"}, "window_days": "x", "system": "ModifyAllData"}}}
    doc = doc_of(result)
    users = dict((u["username"], u) for u in doc["orgs"][0]["users"])
    assert users["svc.a@x"]["observed"] == (
        "observed (API usage log of 2026-12-02, records modified in 30 days): used Account (7 read, 13 write calls, "
        "1 record modified); holds ModifyAllData and ViewAllData (every object); write rights not used: Opportunity")
    assert users["svc.b@x"]["observed"] == ("observed (API usage log of none read, records modified in 0 days): "
                                            "no use seen")
    assert users["svc.c@x"]["observed"] is None
    page = reporting.render_html(doc)
    assert '<small class="observed">observed (API usage log of 2026-12-02' in page


def test_a_least_privilege_set_shows_what_it_removed_and_flags_no_admin_right():
    result = production()
    narrowed = {"system": ["ApiEnabled"], "objects": {"Account": ["Create", "Edit", "Read"]}, "fields": {}}
    removed = {"system": ["ModifyAllData", "ViewAllData"], "objects": [], "object_rights": {}, "fields": 0}
    first = result["plan"]["entries"][0]
    first["access_source"] = {"source": "observed", "margin": "as_used", "removed": removed,
                              "copied_gap": first["permission_set"]["access_gap"]}
    first["permission_set"] = dict(first["permission_set"], access_gap=narrowed)
    result["plan"]["entries"][1]["access_source"] = {"source": "copy", "asked": "observed", "why": "the log was not read"}
    doc = doc_of(result)
    users = dict((u["username"], u) for u in doc["orgs"][0]["users"])
    assert users["svc.a@x"]["access_source"] == ("built from observed use (as_used); removed compared with the profile "
                                                 "copy: ModifyAllData, ViewAllData")
    assert users["svc.a@x"]["risk"] == [] and doc["risks"] == []
    assert users["svc.b@x"]["access_source"] == "least privilege asked, not applied: the log was not read"
    assert '<span class="least-privilege">built from observed use (as_used)' in reporting.render_html(doc)
