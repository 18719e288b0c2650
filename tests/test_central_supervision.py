"""电子监察 at central over both demo townships' ingested rows: the city admin sees the city,
a county supervisor their county only, a department head their department only; counts link
to cases, steps show their reminders, CSV, and a bounded number of queries at every level."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Iterator
from datetime import date

import pytest
from starlette.testclient import TestClient

from edge.kernel.db import Database
from edge.settings import Settings
from edge.supervision.demo import load_supervision_demo
from tests.central_support import central_rows, ingest
from tests.conftest import FUCHENG, LIANZHOU, login
from tests.test_central_officer import CITY_ADMIN, CIVIL_HEPU, measure

HEPU = "450521000000"  # Lianzhou's county
YINHAI = "450503000000"  # Fucheng's county
SUPERVISOR_HEPU = "13807700200"
PLAIN_OFFICER = "13807700101"


async def _history(edge: Settings) -> None:
    db = Database(edge.database_path)
    await db.open()
    try:
        async with db.write() as conn:
            await load_supervision_demo(conn, edge.township_code, date(2026, 11, 23))
    finally:
        await db.close()


@pytest.fixture
def city(central: TestClient, edges: dict[str, Settings]) -> Iterator[TestClient]:
    """Central after both townships' months of demo history were ingested."""
    for edge in edges.values():
        asyncio.run(_history(edge))
        ingest(central, edge)
    yield central


def _total(page: str, table: str, heading: str) -> int:
    section = page.split(f'id="table-{table}"')[1].split("</section>")[0]
    heads = re.findall(r'<th scope="col">([^<]*)</th>', section)
    cells = re.findall(r"<td>([^<]*)</td>", section.split("<tfoot>")[1])
    return int(cells[heads.index(heading) - 1])


def _rows(page: str, table: str) -> list[str]:
    section = page.split(f'id="table-{table}"')[1].split("</section>")[0]
    return re.findall(r'<th scope="row">(?:<a [^>]*>)?([^<]+)', section.split("<tfoot>")[0])


def test_the_city_admin_sees_every_county_and_drills_down_to_villages(city):
    login(city, CITY_ADMIN)
    page = city.get("/supervision/?period=quarter")
    assert page.status_code == 200
    assert sorted(_rows(page.text, "units")) == sorted(["合浦县", "银海区"])
    assert _total(page.text, "units", "受理") > 0 and _total(page.text, "units", "红牌") > 0
    received = _total(page.text, "units", "受理")
    apps = central_rows(
        city,
        "SELECT count(*) FROM edge_applications WHERE status != 'withdrawn' "
        "AND submitted_on >= '2026-10-01'",
    )[0][0]
    assert received == apps  # the quarter of 23 Nov 2026 starts 1 Oct
    county = city.get(f"/supervision/?period=quarter&unit={HEPU}").text
    assert _rows(county, "units") == ["廉州镇"]
    township = city.get(f"/supervision/?period=quarter&unit={LIANZHOU}").text
    assert len(_rows(township, "units")) == 3  # its villages
    assert "<svg" in township and "下载 CSV" in township


def test_every_level_runs_the_same_bounded_number_of_queries(city):
    login(city, CITY_ADMIN)
    city.get("/supervision/")  # the session is then found without SQL while nothing changed
    counts = {
        unit: measure(city, f"/supervision/?unit={unit}")[1]
        for unit in ("450500000000", HEPU, LIANZHOU, LIANZHOU[:9] + "201")
    }
    assert len(set(counts.values())) == 1 and max(counts.values()) <= 12, counts
    print("\ncentral /supervision/ SQL statements per level:", counts)


def test_a_county_supervisor_sees_only_their_county(city):
    login(city, SUPERVISOR_HEPU)
    page = city.get("/supervision/")
    assert page.status_code == 200 and _rows(page.text, "units") == ["廉州镇"]
    assert city.get(f"/supervision/?unit={YINHAI}").status_code == 404
    assert city.get(f"/supervision/?unit={FUCHENG}").status_code == 404


def test_a_department_head_sees_only_their_department(city):
    login(city, CIVIL_HEPU)  # the demo's civil-affairs officer heads the department
    page = city.get("/supervision/?period=quarter").text
    assert len(_rows(page, "departments")) == 1
    steps = central_rows(
        city,
        "SELECT s.node_id, s.id FROM edge_steps s JOIN edge_applications a "
        "ON a.node_id = s.node_id AND a.id = s.application_id "
        "WHERE s.department_code != 'civil' AND a.village_code LIKE '450521%' LIMIT 1",
    )[0]
    assert city.get(f"/supervision/steps/{steps[0]}/{steps[1]}").status_code == 404
    with sqlite3.connect(city.app.state.node.settings.database_path) as conn:
        conn.execute("UPDATE accounts SET is_head = 0 WHERE phone = ?", (PLAIN_OFFICER,))
    login(city, PLAIN_OFFICER)
    assert city.get("/supervision/").status_code == 403


def test_counts_link_to_cases_and_red_cards_to_the_step_and_its_reminders(city):
    login(city, CITY_ADMIN)
    page = city.get("/supervision/?period=quarter").text
    link = re.search(r'href="(/supervision/cases\?[^"]*measure=red[^"]*)"', page).group(1)
    cases = city.get(link.replace("&amp;", "&"))
    assert cases.status_code == 200 and "红牌" in cases.text
    step_link = re.search(r'href="(/supervision/steps/[^"/]+/[0-9A-Z]{26})"', cases.text)
    step = city.get(step_link.group(1))
    assert step.status_code == 200 and "催办与督办记录" in step.text
    urged = central_rows(
        city,
        "SELECT r.node_id, r.step_id, p.name FROM edge_reminders r "
        "JOIN edge_accounts p ON p.node_id = r.node_id AND p.id = r.sent_by LIMIT 1",
    )[0]
    page = city.get(f"/supervision/steps/{urged[0]}/{urged[1]}").text
    assert f"催办（{urged[2]}）" in page
    csv = city.get("/supervision/?format=csv&table=departments")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.content.decode("utf-8-sig").splitlines()[0].startswith("单位,受理")


def test_assessment_grades_units_with_the_weights_shown(city):
    login(city, CITY_ADMIN)
    page = city.get("/supervision/assessment").text
    assert "按时率 × 0.5" in page and "优秀 ≥ 90" in page
    assert re.search(r"<td>(优秀|良好|合格|不合格)</td>", page)
    assert 'id="assess-officers"' in page  # the internal view
