"""Issue 18's evidence of use: OauthToken use on each login, and the ApiTotalUsage event log (EventLogFile
with a CSV LogFile) holding the estate's history and every call the emulator serves."""
import csv
import datetime
import io
import os
import time

import jwt
import pytest

from sfemu import usage
from sfemu.estate import Estate

ESTATES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "estates")
NOW = datetime.datetime(2026, 12, 3, 12, 0, 0)
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MULE = "svc.mulesoft@acme.example"


def _jwt(emu, org, app_slug, client_id, username):
    with open(os.path.join(emu.ready["state_dir"], "keys", "%s-%s.key" % (org, app_slug)), "rb") as handle:
        key = handle.read()
    assertion = jwt.encode({"iss": client_id, "sub": username, "aud": emu.org(org)["audience"],
                            "exp": int(time.time()) + 120}, key, algorithm="RS256")
    return emu.http.post(emu.base_url + "/services/oauth2/token", data={"grant_type": JWT_GRANT, "assertion": assertion})


def _token(emu, user_id):
    rows = emu.query("acme-prod", "SELECT AppName, UseCount, LastUsedDate FROM OauthToken WHERE UserId = '%s'"
                     % user_id)["records"]
    return [(r["AppName"], r["UseCount"], r["LastUsedDate"]) for r in rows]


def _rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_a_login_through_the_tokens_app_uses_it_once_more_another_app_does_not(fresh):
    user_id = fresh.query("acme-prod", "SELECT Id FROM User WHERE Username = '%s'" % MULE)["records"][0]["Id"]
    [(app, count, last)] = _token(fresh, user_id)
    assert (app, count) == ("MuleSoft Connector", 4200)
    admin = fresh.org("acme-prod")["admin"]
    through_ops = _jwt(fresh, "acme-prod", "ops_automation", admin["client_id"], MULE)
    assert through_ops.status_code == 200, through_ops.text
    assert _token(fresh, user_id) == [(app, count, last)]
    through_mule = _jwt(fresh, "acme-prod", "mulesoft_connector", "ACME_MULE_CLIENT", MULE)
    assert through_mule.status_code == 200, through_mule.text
    [(_app, used, last_used)] = _token(fresh, user_id)
    assert used == 4201 and last_used > last


def test_every_call_served_is_a_line_of_todays_api_total_usage_log(fresh):
    mule = _jwt(fresh, "acme-prod", "mulesoft_connector", "ACME_MULE_CLIENT", MULE).json()["access_token"]
    answer = fresh.rest("acme-prod", "GET", "query", token=mule, params={"q": "SELECT Id FROM Account LIMIT 1"})
    assert answer.status_code == 200, answer.text
    files = fresh.query("acme-prod", "SELECT Id, LogDate, EventType, LogFileLength FROM EventLogFile "
                                     "WHERE EventType = 'ApiTotalUsage' ORDER BY LogDate DESC")["records"]
    assert files and files[0]["LogFileLength"] > 0
    log = fresh.rest("acme-prod", "GET", "sobjects/EventLogFile/%s/LogFile" % files[0]["Id"])
    assert log.status_code == 200 and log.headers["Content-Type"] == "application/octet-stream"
    lines = _rows(log.text)
    user_id = fresh.query("acme-prod", "SELECT Id FROM User WHERE Username = '%s'" % MULE)["records"][0]["Id"]
    mine = [row for row in lines if row["USER_ID_DERIVED"] == user_id]
    assert [(r["HTTP_METHOD"], r["ENTITY_NAME"], r["CONNECTED_APP_NAME"], r["API_FAMILY"]) for r in mine] == [
        ("GET", "Account", "MuleSoft Connector", "REST")]
    assert mine[0]["USER_ID"] == user_id[:15] and mine[0]["API_RESOURCE"].endswith("/query")
    missing = fresh.rest("acme-prod", "GET", "sobjects/EventLogFile/0AT000000000000AAA/LogFile")
    assert missing.status_code == 404


def test_the_estate_history_fills_the_window_and_nothing_before_it():
    estate = Estate.from_file(os.path.join(ESTATES, "demo.yml"), seed=0, now=NOW)
    org = estate.orgs["globex-prod"]
    boomi = org.find_user("svc.boomi@globex.demo")["Id"]
    days = sorted(row["LogDate"] for row in org.tables["EventLogFile"].values())
    assert len(days) == 30 and days[-1] == datetime.datetime(2026, 12, 2) and days[0] == datetime.datetime(2026, 11, 3)
    row = next(r for r in org.tables["EventLogFile"].values() if r["LogDate"] == days[0])
    lines = _rows(usage.log_file(org, row["Id"]))
    assert len(lines) == 40 and all(line["USER_ID_DERIVED"] == boomi for line in lines)
    assert sorted(set(line["ENTITY_NAME"] for line in lines)) == ["Account", "Contact"]
    assert sorted(set(line["HTTP_METHOD"] for line in lines)) == ["GET", "PATCH", "POST"]
    assert all(line["TIMESTAMP_DERIVED"].startswith("2026-11-03") for line in lines)
    # Orgs whose users have no history have no file until a call is served.
    assert estate.orgs["acme-prod"].tables["EventLogFile"] == {}


def test_the_log_has_salesforces_columns_and_quotes_like_a_csv():
    estate = Estate.from_file(os.path.join(ESTATES, "demo.yml"), seed=0, now=NOW)
    org = estate.orgs["globex-prod"]
    row = next(iter(org.tables["EventLogFile"].values()))
    text = usage.log_file(org, row["Id"])
    header = next(csv.reader(io.StringIO(text)))
    assert tuple(header) == usage.COLUMNS == tuple(row["LogFileFieldNames"].split(","))
    assert text.splitlines()[0].startswith('"EVENT_TYPE","TIMESTAMP","REQUEST_ID"')
    assert usage.log_file(org, "0AT000000000000AAA") is None


@pytest.mark.parametrize("spec, message", [
    ({"days": 3, "objects": []}, "api_usage needs at least one object"),
    ({"days": 3, "objects": ["Account"], "app": "Nope"}, "api_usage of unknown connected app 'Nope'"),
])
def test_a_wrong_history_is_refused_with_its_user(spec, message):
    import yaml
    with open(os.path.join(ESTATES, "demo.yml"), encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    globex = next(o for o in data["orgs"] if o["name"] == "globex-prod")
    boomi = next(u for u in globex["users"] if u["username"] == "svc.boomi@globex.demo")
    boomi["api_usage"] = spec
    with pytest.raises(Exception, match=message):
        Estate.from_dict(data, seed=0, now=NOW)


def _log_readers_estate():
    import yaml
    with open(os.path.join(ESTATES, "demo.yml"), encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    globex = next(o for o in data["orgs"] if o["name"] == "globex-prod")
    globex["profiles"] += [
        {"name": "Log Reader", "license": "Salesforce", "permissions": ["ApiEnabled", "ViewEventLogFiles"]},
        {"name": "Log Reader No API", "license": "Salesforce", "permissions": ["ViewEventLogFiles"]}]
    globex["users"] += [{"username": "reader@globex.demo", "profile": "Log Reader", "last_name": "Reader"},
                        {"username": "noapi@globex.demo", "profile": "Log Reader No API", "last_name": "NoApi"}]
    return Estate.from_dict(data, seed=0, now=NOW).orgs["globex-prod"]


@pytest.mark.parametrize("username, readable", [
    ("admin@globex.demo", True),          # System Administrator: View All Data
    ("reader@globex.demo", True),         # View Event Log Files with API Enabled
    ("noapi@globex.demo", False),         # View Event Log Files without API Enabled
    ("svc.sap@globex.demo", False),       # neither
])
def test_the_event_log_needs_view_event_log_files_with_api_or_view_all_data(username, readable):
    from sfemu.errors import SFError
    org = _log_readers_estate()
    user = org.find_user(username)
    soql = "SELECT Id, LogDate FROM EventLogFile WHERE EventType = 'ApiTotalUsage'"
    if readable:
        assert len(org.query(soql, user).records) == 30
        return
    with pytest.raises(SFError, match="sObject type 'EventLogFile' is not supported") as invalid:
        org.query(soql, user)
    assert invalid.value.error_code == "INVALID_TYPE"
    any_file = next(iter(org.tables["EventLogFile"]))
    with pytest.raises(SFError) as refused:
        org.get_record("EventLogFile", any_file, user, fields=["Id"])
    assert refused.value.status == 404


def test_over_http_a_user_without_the_permission_sees_no_event_log(fresh):
    mule = _jwt(fresh, "acme-prod", "mulesoft_connector", "ACME_MULE_CLIENT", MULE).json()["access_token"]
    fresh.rest("acme-prod", "GET", "query", token=mule, params={"q": "SELECT Id FROM Account LIMIT 1"})
    answer = fresh.rest("acme-prod", "GET", "query", token=mule,
                        params={"q": "SELECT Id FROM EventLogFile WHERE EventType = 'ApiTotalUsage'"})
    assert answer.status_code == 400 and answer.json()[0]["errorCode"] == "INVALID_TYPE"
    [newest] = fresh.query("acme-prod", "SELECT Id FROM EventLogFile ORDER BY LogDate DESC LIMIT 1")["records"]
    blob = fresh.rest("acme-prod", "GET", "sobjects/EventLogFile/%s/LogFile" % newest["Id"], token=mule)
    assert blob.status_code == 404
