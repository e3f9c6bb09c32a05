# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTML run report of the demo, loaded in headless Chromium: it renders, logs no script or console
error, loads nothing from outside, and every figure it shows is the report JSON's.

Chromium comes from Debian (`tests/tools/install_chromium.sh`). Without it the tests are skipped, except
in CI (`CI` set), where a missing browser is a failure.
"""

from __future__ import annotations

import csv
import html
import html.parser
import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib

import pytest

# The session's demo run, shared with test_demo.py.
from test_demo import demo_run  # noqa: F401  pylint: disable=unused-import

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CURRENCY_SIGNS = {"USD": "$", "EUR": "EUR ", "GBP": "GBP "}

if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed; CI must run tests/tools/install_chromium.sh", pytrace=False)
    pytestmark = pytest.mark.skip(reason="chromium is not installed (tests/tools/install_chromium.sh installs it)")


class Browser:
    """One headless Chromium run on a file: the DOM after load, console lines, optional screenshot."""

    def __init__(self, path, screenshot=None, window="1280,4000"):
        with tempfile.TemporaryDirectory() as profile:
            command = [CHROMIUM, *CHROMIUM_FLAGS, "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0",
                       "--window-size=" + window]
            command += ["--screenshot=" + screenshot] if screenshot else ["--dump-dom"]
            done = subprocess.run(command + ["file://" + os.path.abspath(path)], capture_output=True, text=True,
                                  timeout=180, check=False)
        self.rc = done.returncode
        self.dom = done.stdout
        self.log = done.stderr
        # Page console output (console.* calls, uncaught exceptions, CSP and load errors) is logged as CONSOLE.
        self.console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]


class FigureParser(html.parser.HTMLParser):
    """data-figure key -> the text inside its element."""

    def __init__(self):
        super().__init__()
        self.figures = {}
        self.open = []  # [key, tag, depth] of figures being read
        self.external = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            if attrs.get(name) and re.match(r"[a-z]+:", attrs[name]) and not attrs[name].startswith("data:"):
                self.external.append(attrs[name])
        for item in self.open:
            if item[1] == tag:
                item[2] += 1
        if "data-figure" in attrs:
            self.open.append([attrs["data-figure"], tag, 1])
            self.figures[attrs["data-figure"]] = ""

    def handle_endtag(self, tag):
        for item in list(self.open):
            if item[1] == tag:
                item[2] -= 1
                if item[2] == 0:
                    self.open.remove(item)

    def handle_data(self, data):
        for key, _tag, _depth in self.open:
            self.figures[key] += data


def figures_of(dom):
    parser = FigureParser()
    parser.feed(dom)
    return parser


def expected_text(report, key):
    """What the figure ``key`` ("totals.moved", "orgs.acme-prod.seats_before.integration_free"...) must show."""
    parts = key.split(".")
    if parts[0] == "totals":
        value = report["totals"][parts[1]]
        path = parts[1:]
    else:
        assert parts[0] == "orgs", key
        org = next(o for o in report["orgs"] if o["org"] == parts[1])
        value = org
        for part in parts[2:]:
            value = (value or {}).get(part)
        path = parts[2:]
    if value is None:
        return ""
    if path[-1].endswith(("monthly_saving", "annual_saving", "extra_seats_monthly_cost", "extra_seats_unlock")):
        return "%s%s" % (CURRENCY_SIGNS.get(report["prices"].get("currency"), ""), format(value, ","))
    return str(value)


def png_colours(path):
    """Distinct byte values in the decompressed image data of a PNG (a blank page has very few)."""
    with open(path, "rb") as handle:
        data = handle.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, idat = 8, b""
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if kind == b"IDAT":
            idat += data[offset + 8:offset + 8 + length]
        offset += 12 + length
    return len(set(zlib.decompress(idat)))


@pytest.fixture(scope="module")
def report_html(demo_run):  # noqa: F811  pylint: disable=redefined-outer-name
    assert demo_run.rc == 0 and demo_run.report is not None, demo_run.output[-3000:]
    return os.path.join(demo_run.run_dir, "report.html"), demo_run.report


@pytest.fixture(scope="module")
def rendered(report_html):  # pylint: disable=redefined-outer-name
    return Browser(report_html[0])


def test_report_renders_without_console_errors(rendered):
    assert rendered.rc == 0, rendered.log[-3000:]
    assert "<h1>Salesforce Integration license migration</h1>" in rendered.dom
    assert rendered.console == [], "\n".join(rendered.console)


def test_report_loads_nothing_from_outside(rendered):
    assert figures_of(rendered.dom).external == []


def test_every_figure_shown_is_the_report_json(rendered, report_html):
    report = report_html[1]
    shown = figures_of(rendered.dom).figures
    assert shown, "no data-figure element in the rendered report"
    mismatches = dict((key, (text.strip(), expected_text(report, key))) for key, text in shown.items()
                      if text.strip() != expected_text(report, key))
    assert mismatches == {}
    # Every org and the estate totals are shown, not just some of them.
    for key in ("totals.orgs", "totals.moved", "totals.waiting", "totals.blocked", "totals.monthly_saving",
                "totals.potential_monthly_saving", "totals.verified_passed", "totals.verified_failed",
                "totals.sandbox_moved", "totals.sandbox_failed", "totals.failed", "totals.gated"):
        assert key in shown, key
    # Production moves and sandbox rehearsals are shown apart (the demo moves the same 5 users in each).
    assert (shown["totals.moved"].strip(), shown["totals.sandbox_moved"].strip()) == ("5", "5")
    for org in report["orgs"]:
        # A sandbox holds copies: it shows no saving (not "$0").
        for field in ("counts.moved", "counts.waiting", "counts.blocked", "seats_before.integration_free") + (
                ("monthly_saving", "potential_monthly_saving") if org["org_type"] == "production" else ()):
            assert "orgs.%s.%s" % (org["org"], field) in shown, (org["org"], field)
        if org["org_type"] != "production":
            assert "orgs.%s.monthly_saving" % org["org"] not in shown and org["monthly_saving"] is None


class Structure(html.parser.HTMLParser):
    """What a reader navigates by: ids of elements, in-page links, SVG chart bars, risk flags, code blocks."""

    def __init__(self):
        super().__init__()
        self.ids, self.links, self.bars, self.risks, self.codes, self.order = {}, [], [], [], {}, []
        self._code = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids[attrs["id"]] = tag
            self.order.append(attrs["id"])
        if tag == "a" and (attrs.get("href") or "").startswith("#"):
            self.links.append(attrs["href"][1:])
        if tag == "rect" and attrs.get("data-value"):
            self.bars.append((attrs.get("class"), int(attrs["data-value"]), float(attrs.get("width") or 0)))
        if attrs.get("data-risk"):
            self.risks.append(attrs["data-risk"])
        if tag == "code" and attrs.get("id"):
            self._code = attrs["id"]
            self.codes[self._code] = ""

    def handle_endtag(self, tag):
        if tag == "code":
            self._code = None

    def handle_data(self, data):
        if self._code:
            self.codes[self._code] += data


def test_a_manager_finds_the_summary_chart_contents_risks_and_rollback(rendered, report_html):
    report = report_html[1]
    page = Structure()
    page.feed(rendered.dom)
    # The executive summary comes first, then the chart and the contents, then the orgs.
    assert page.order.index("summary") < page.order.index("chart") < page.order.index("toc") < \
        page.order.index("org-acme-prod")
    shown = figures_of(rendered.dom).figures
    for key in ("totals.monthly_saving", "totals.annual_saving", "totals.potential_annual_saving"):
        assert shown[key].strip() == expected_text(report, key), key
    assert report["totals"]["annual_saving"] == 12 * report["totals"]["monthly_saving"] > 0
    # Every in-page link leads somewhere, and each org is linked: production, then its sandboxes.
    assert [link for link in page.links if link not in page.ids] == []
    orgs = [link for link in page.links if link.startswith("org-")]
    assert orgs == ["org-" + o["org"] for o in report["orgs"]]
    production = [o["org"] for o in report["orgs"] if o["org_type"] == "production"]
    for org in report["orgs"]:
        if org["org_type"] == "sandbox":
            assert orgs.index("org-" + org["org"]) == orgs.index("org-" + org["production_org"]) + 1
    # One pair of bars per production org, their lengths in the proportion of the savings.
    assert sorted(v for c, v, _w in page.bars if c == "saved") == sorted(
        next(o for o in report["orgs"] if o["org"] == name)["monthly_saving"] for name in production)
    widest = max(page.bars, key=lambda bar: bar[1])
    for _cls, value, width in page.bars:
        assert abs(width - widest[2] * value / widest[1]) <= 1
    # svc.boomi (System Administrator) would carry ModifyAllData into its permission set: flagged.
    assert report["risks"] and any("ModifyAllData" in r["rights"] for r in report["risks"])
    assert page.risks.count("admin-rights") >= 2 * len(report["risks"]) - 1
    assert page.codes["rollback-command"] == report["rollback_command"]
    assert "license_migration_rollback_run_id=%s" % report["run_id"] in report["rollback_command"]
    assert "/tmp/" not in rendered.dom and os.path.expanduser("~") + "/" not in rendered.dom


def test_csv_json_and_html_say_the_same(report_html, rendered):
    path, report = report_html
    with open(os.path.join(os.path.dirname(path), "report.csv"), encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for org in report["orgs"]:
        mine = [r for r in rows if r["org"] == org["org"]]
        assert len(mine) == len(org["users"])
        if org["org_type"] == "production":
            assert sum(int(r["monthly_saving"] or 0) for r in mine) == org["monthly_saving"]
            assert sum(int(r["potential_monthly_saving"] or 0) for r in mine) == org["potential_monthly_saving"]
        for row, user in zip(mine, org["users"]):
            assert (row["username"], row["status"]) == (user["username"], user["status_text"])
            assert ">%s</td>" % html.escape(user["status_text"]) in rendered.dom
    assert sum(int(r["monthly_saving"] or 0) for r in rows) == report["totals"]["monthly_saving"]


def test_report_screenshot_is_not_blank(report_html, tmp_path):
    screenshot = str(tmp_path / "report.png")
    shot = Browser(report_html[0], screenshot=screenshot, window="1280,2000")
    assert shot.rc == 0 and os.path.exists(screenshot), shot.log[-3000:]
    assert png_colours(screenshot) > 50
    keep = os.environ.get("SFOPS_REPORT_SCREENSHOT")
    if keep:
        shutil.copyfile(screenshot, keep)


def test_the_checks_catch_a_broken_page(report_html, tmp_path):
    """The same report with a failing script, an external stylesheet and a wrong figure: every check fails."""
    path, report = report_html
    with open(path, encoding="utf-8") as handle:
        page = handle.read()
    key, shown = "totals.moved", report["totals"]["moved"]
    broken = page.replace('data-figure="%s">%s<' % (key, shown), 'data-figure="%s">%s<' % (key, shown + 1))
    assert broken != page
    broken = broken.replace("</body>", '<link rel="stylesheet" href="https://cdn.example.invalid/x.css">'
                            "<script>undefinedReportHelper();</script></body>")
    broken_file = tmp_path / "broken.html"
    broken_file.write_text(broken, encoding="utf-8")
    seen = Browser(str(broken_file))
    assert any("undefinedReportHelper" in line for line in seen.console), seen.log[-3000:]
    parsed = figures_of(seen.dom)
    assert parsed.external == ["https://cdn.example.invalid/x.css"]
    assert parsed.figures[key].strip() != expected_text(report, key)
