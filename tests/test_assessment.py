"""好差评 in the supervision tables and 人机考核 with ratings wired, at the edge and at central:
rating columns equal the rows and link to their cases, grades recompute from the weights
shown, the published view (signed out) shows units and never officers, CSV opens in Excel."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from dataclasses import replace
from datetime import date

from starlette.testclient import TestClient

from central.app import create_app as central_app
from edge.supervision.rules import load_rules
from tests.central_support import central_rows
from tests.conftest import login
from tests.test_budgets import FIRST_ROUND_TRIP, _measure
from tests.test_central_officer import CITY_ADMIN
from tests.test_central_supervision import SUPERVISOR_HEPU, _total, city  # noqa: F401
from tests.test_supervision import SUPERVISOR, _history

TODAY = date(2026, 11, 23)  # the test clock's day
QUARTER = ("2026-07-01", "2026-09-30")  # the last whole quarter
BOM = b"\xef\xbb\xbf"


def _sql(settings, sql: str, *params) -> list[sqlite3.Row]:
    with sqlite3.connect(settings.database_path) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


def _cell(page: str, table: str, heading: str) -> str:
    """The total row's cell of one column of a dashboard table."""
    section = page.split(f'id="table-{table}"')[1].split("</section>")[0]
    heads = re.findall(r'<th scope="col">([^<]*)</th>', section)
    cells = re.findall(r"<td>([^<]*)</td>", section.split("<tfoot>")[1])
    return cells[heads.index(heading) - 1]


def _rated(settings, since: str, until: str) -> dict[str, int]:
    """The township's round-1 ratings of applications closed in [since, until], from SQL."""
    row = _sql(
        settings,
        "SELECT count(*) AS invited, "
        "count(CASE WHEN r.level IS NOT NULL AND r.channel != 'agent_device' THEN 1 END) AS rated,"
        " count(CASE WHEN r.level >= 4 AND r.channel != 'agent_device' "
        "AND r.malicious_reason IS NULL THEN 1 END) AS bad, "
        "count(CASE WHEN r.level IS NULL THEN 1 END) AS unrated "
        "FROM ratings r JOIN applications a ON a.id = r.application_id "
        "WHERE r.round = 1 AND a.status != 'withdrawn' AND r.closed_on BETWEEN ? AND ?",
        since,
        until,
    )[0]
    return dict(row)


def test_rating_columns_equal_the_rows_and_link_to_their_cases(client, settings):
    _history(settings, TODAY, 300, seed=3)
    login(client, SUPERVISOR)
    page = client.get("/supervision/?period=custom&since=2026-07-01&until=2026-09-30").text
    expected = _rated(settings, *QUARTER)
    assert expected["rated"] > 10 and expected["bad"] > 0 and expected["unrated"] > 0
    assert int(_cell(page, "units", "收到评价")) == expected["rated"]
    assert int(_cell(page, "units", "差评")) == expected["bad"]
    assert int(_cell(page, "units", "未评价")) == expected["unrated"]
    unrated = 100 * expected["unrated"] / expected["invited"]
    assert _cell(page, "units", "未评价率") == f"{unrated:.1f}%"
    for heading in ("好评率", "差评率", "差评整改率"):
        assert _cell(page, "units", heading).endswith("%"), heading
    assert int(_cell(page, "departments", "收到评价")) == expected["rated"]  # one deciding step
    link = re.search(r'href="(/supervision/cases\?[^"]*measure=bad[^"]*)"', page).group(1)
    cases = client.get(link.replace("&amp;", "&"))
    assert cases.status_code == 200 and "差评" in cases.text
    department = client.get(
        "/supervision/?period=custom&since=2026-07-01&until=2026-09-30&department=township"
    ).text
    assert int(_cell(department, "officers", "收到评价")) > 0  # the step's officer


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(BOM)  # Excel reads it as UTF-8
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _recomputes(rows: list[dict[str, str]]) -> None:
    """Each grade's score is the weighted sum of its indicators, as the headings say."""
    weights = load_rules().weights
    graded = [r for r in rows if r["得分"]]
    assert graded
    for row in graded:
        heads = [h for h in row if "×" in h]
        assert len(heads) == len(weights)
        score = sum(float(h.split("×")[1]) * float(row[h]) for h in heads)
        assert abs(score - float(row["得分"])) <= 0.1, row


def test_assessment_uses_ratings_shows_weights_and_exports_csv(client, settings):
    _history(settings, TODAY, 300, seed=3)
    login(client, SUPERVISOR)
    page = client.get("/supervision/assessment?of=quarter")
    assert page.status_code == 200
    assert "差评 <small>×0.2</small>" in page.text and "差评整改 <small>×0.1</small>" in page.text
    assert "2026-07-01" in page.text or "2026年7月1日" in page.text
    assert 'id="assess-officers"' in page.text  # the internal view
    rows = _csv(client.get("/supervision/assessment?of=quarter&table=units&format=csv"))
    _recomputes(rows)
    bad = [float(r["差评 ×0.2"]) for r in rows if r["得分"]]
    assert min(bad) < 100  # real 差评 shares, not the 100 of "not wired"
    for row in rows:
        if row["得分"] and row["差评率"] != "—":
            share = float(row["差评率"].rstrip("%")) / 100
            assert abs(float(row["差评 ×0.2"]) - 100 * (1 - share)) <= 0.1
    officers = _csv(client.get("/supervision/assessment?of=month&table=officers&format=csv"))
    assert officers and officers[0]["单位"]
    monthly = client.get("/supervision/assessment?of=month").text
    assert "看上季度" in monthly


def test_the_published_assessment_shows_units_never_officers(client, settings):
    _history(settings, TODAY, 300, seed=3)
    page = client.get("/disclosure/assessment?of=quarter")  # signed out
    assert page.status_code == 200
    assert 'id="assess-units"' in page.text and 'id="assess-departments"' in page.text
    assert 'id="assess-officers"' not in page.text
    names = [r["name"] for r in _sql(settings, "SELECT name FROM accounts")]
    assert not [n for n in names if n in page.text]
    assert re.search(r"<td>(优秀|良好|合格|不合格)</td>", page.text)
    assert "×0.5" in page.text
    rows = _csv(client.get("/disclosure/assessment?of=quarter&table=officers&format=csv"))
    assert {r["单位"] for r in rows} <= {
        r["name_zh"] for r in _sql(settings, "SELECT name_zh FROM jurisdictions")
    }  # asking for officers gives the first published table
    size, queries = _measure(client, "/disclosure/assessment")
    assert size <= FIRST_ROUND_TRIP, size
    _history(settings, TODAY, 900, seed=4)
    assert _measure(client, "/disclosure/assessment")[1] == queries <= 12
    print(f"\n/disclosure/assessment: {size} B gzip, {queries} SQL statements")


def test_central_tables_carry_ratings_and_publish_the_assessment(city):  # noqa: F811
    login(city, CITY_ADMIN)
    page = city.get("/supervision/?period=quarter").text
    rated = central_rows(
        city,
        "SELECT count(*) FROM edge_ratings r JOIN edge_applications a "
        "ON a.node_id = r.node_id AND a.id = r.application_id WHERE r.round = 1 "
        "AND a.status != 'withdrawn' AND r.level IS NOT NULL AND r.channel != 'agent_device' "
        "AND r.closed_on >= '2026-10-01'",
    )[0][0]
    assert rated > 0 and _total(page, "units", "收到评价") == rated
    assert _total(page, "departments", "差评") > 0
    rows = _csv(city.get("/supervision/assessment?of=quarter&table=units&format=csv"))
    _recomputes(rows)
    city.cookies.clear()
    public = city.get("/disclosure/assessment?of=quarter")
    assert public.status_code == 200
    assert "合浦县" in public.text and 'id="assess-officers"' not in public.text
    people = [r[0] for r in central_rows(city, "SELECT name FROM edge_accounts")]
    assert not [n for n in people if n in public.text]
    size, queries = _measure(city, "/disclosure/assessment")
    assert size <= FIRST_ROUND_TRIP and queries <= 12, (size, queries)
    login(city, SUPERVISOR_HEPU)
    internal = city.get("/supervision/assessment").text
    assert 'id="assess-officers"' in internal


def test_central_reads_its_warning_working_days_setting(city, clock):  # noqa: F811
    login(city, CITY_ADMIN)
    default = _total(city.get("/supervision/").text, "units", "黄牌")
    settings = city.app.state.node.settings
    wider = replace(settings, warning_working_days=5)
    with TestClient(central_app(wider, clock), base_url="https://testserver") as other:
        login(other, CITY_ADMIN)
        assert _total(other.get("/supervision/").text, "units", "黄牌") > default
