# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ApiTotalUsage log's reading (issue 18): per-user calls, objects read and written, apps, Apex REST."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.sfops.integration_users.plugins.module_utils.ids import to18
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import api_usage

USER = to18("005000000000007")
HEADER = '"EVENT_TYPE","USER_ID","USER_ID_DERIVED","API_FAMILY","API_RESOURCE","HTTP_METHOD","ENTITY_NAME","CONNECTED_APP_NAME"'


def line(*values):
    return ",".join('"%s"' % v.replace('"', '""') for v in values)


def test_reads_writes_apps_and_apex_per_user_with_15_or_18_character_ids():
    text = "\n".join([
        HEADER,
        line("ApiTotalUsage", USER[:15], "", "REST", "/v62.0/query", "GET", "Account", "Boomi"),
        line("ApiTotalUsage", USER[:15], USER, "REST", "/v62.0/sobjects/Account", "POST", "Account", "Boomi"),
        line("ApiTotalUsage", USER[:15], USER, "REST", "/v62.0/sobjects/Case/500", "delete", "Case", ""),
        line("ApiTotalUsage", USER[:15], USER, "ApexREST", "/apexrest/orders/v1", "POST", "", "Boomi, Inc."),
        line("ApiTotalUsage", "", "", "REST", "/v62.0/limits", "GET", "", ""),   # an internal call: nobody's
    ]) + "\n"
    assert api_usage.parse_usage_csv(text) == {USER: {
        "calls": 4, "objects": {"Account": {"read": 1, "write": 1, "delete": 0},
                                "Case": {"read": 0, "write": 0, "delete": 1}},
        "apps": {"Boomi": 2, "Boomi, Inc.": 1}, "apex": {"/apexrest/orders/v1": 1}, "failed_calls": 0,
        "unattributed_calls": 0}}


STATUS_HEADER = HEADER + ',"STATUS_CODE"'


def test_soap_posts_are_read_by_their_method_refused_calls_used_nothing_and_unknown_ones_are_said():
    text = "\n".join([
        STATUS_HEADER,
        line("ApiTotalUsage", USER[:15], USER, "SOAP", "query", "POST", "Account", "", "200"),
        line("ApiTotalUsage", USER[:15], USER, "SOAP", "update", "POST", "Account", "", "200"),
        line("ApiTotalUsage", USER[:15], USER, "REST", "/v62.0/sobjects/Lead", "PATCH", "Lead", "", "403"),
        line("ApiTotalUsage", USER[:15], USER, "REST", "/v62.0/composite", "POST", "", "", "200"),
        line("ApiTotalUsage", USER[:15], USER, "Bulk", "/services/async/62.0/job", "POST", "Contact", "", "201"),
    ]) + "\n"
    usage = api_usage.parse_usage_csv(text)[USER]
    assert usage["objects"] == {"Account": {"read": 1, "write": 1, "delete": 0}}
    assert (usage["calls"], usage["failed_calls"], usage["unattributed_calls"]) == (5, 1, 2)


def test_a_file_without_the_columns_is_not_a_usage_log():
    with pytest.raises(api_usage.UsageLogError, match="no column USER_ID, API_FAMILY"):
        api_usage.parse_usage_csv('"EVENT_TYPE","TIMESTAMP"\n"Login","20261202"\n')
    with pytest.raises(api_usage.UsageLogError):
        api_usage.parse_usage_csv("<html>maintenance</html>")
    # A field longer than the csv module takes is a refusal, not a traceback.
    with pytest.raises(api_usage.UsageLogError, match="not a CSV Salesforce writes"):
        api_usage.parse_usage_csv(HEADER + '\n"' + "x" * 200000 + '"\n')


def test_the_listing_reads_the_newest_complete_day_only():
    soql = api_usage.build_usage_files_soql(30)
    assert "EventType = 'ApiTotalUsage'" in soql and "Interval = 'Daily'" in soql
    assert "LogDate = LAST_N_DAYS:30 AND LogDate < TODAY" in soql and soql.endswith("ORDER BY LogDate DESC LIMIT 1")
    with pytest.raises(ValueError):
        api_usage.build_usage_files_soql(0)


def test_read_usage_fetches_nothing_it_should_not():
    from unittest import mock
    from ansible_collections.sfops.integration_users.plugins.module_utils.client import Client
    client = mock.create_autospec(Client, instance=True)
    client.get_text.return_value = HEADER + "\n"
    assert api_usage.read_usage(client, [])["status"] == "none"
    assert api_usage.read_usage(client, ["not a row", None])["status"] == "none"
    for length in (None, "lots"):
        unknown = api_usage.read_usage(client, [{"Id": "0AT000000000001", "LogFileLength": length}])
        assert unknown["status"] == "too_large" and "an unknown number of bytes" in unknown["detail"]
    listed = {"Id": "../../x", "LogDate": "2026-12-02T00:00:00.000+0000", "LogFileLength": 10}
    refused = api_usage.read_usage(client, [listed])
    assert refused["status"] == "unreadable" and "not a record Id" in refused["detail"]
    assert not client.get_text.called
    ok = api_usage.read_usage(client, [dict(listed, Id="0AT000000000001")])
    assert ok == {"status": "read", "date": "2026-12-02", "users": {},
                  "detail": "the ApiTotalUsage log of 2026-12-02 (0 users called the API)"}
    client.get_text.assert_called_once_with("sobjects/EventLogFile/%s/LogFile" % to18("0AT000000000001"))
