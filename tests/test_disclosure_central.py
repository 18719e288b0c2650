"""阳光红页 at central: the same power list, and every township's disclosed results from the
ingested copies, masked; a case withheld at its edge leaves the city list after ingest."""

from __future__ import annotations

from starlette.testclient import TestClient

from edge.app import create_app as create_edge
from edge.powers.loader import power_list
from tests.central_support import central_rows, ingest
from tests.test_disclosure import _withhold


def test_central_shows_the_power_list_and_a_powers_cases_from_every_township(central):
    listing = central.get("/disclosure/powers")
    assert listing.status_code == 200
    assert listing.text.count('href="/disclosure/powers/') == power_list().count
    page = central.get("/disclosure/powers/HM-03")
    assert page.status_code == 200 and '<ol class="flow"' in page.text
    assert "残疾人两项补贴" in page.text and "/services/" not in page.text
    assert page.text.count("<li><strong>") == 2  # the demo CL-001 case of each township
    assert central.get("/disclosure/powers/XX-99").status_code == 404


def test_central_results_cover_every_township_masked_and_drop_withheld_cases(central, edges):
    page = central.get("/disclosure/results")
    assert page.status_code == 200
    decided = central_rows(
        central,
        "SELECT node_id, id, applicant_name FROM edge_applications "
        "WHERE status IN ('approved', 'rejected') AND NOT EXISTS (SELECT 1 FROM "
        "edge_disclosure_withholdings w WHERE w.node_id = edge_applications.node_id AND "
        "w.application_id = edge_applications.id AND w.released_at IS NULL) ORDER BY node_id",
    )
    assert {row["node_id"] for row in decided} == set(
        edges
    ) and f"共 {len(decided)} 件" in page.text
    for row in decided:
        assert row["applicant_name"] not in page.text
    lianzhou = edges["lianzhou"]
    target = next(r for r in decided if r["node_id"] == "lianzhou")
    with TestClient(create_edge(lianzhou), base_url="https://testserver") as edge:
        _form, done = _withhold(edge, target["id"], action="withhold", reason="minor")
        assert done.status_code == 303
    ingest(central, lianzhou)
    after = central.get("/disclosure/results")
    assert f"共 {len(decided) - 1} 件" in after.text
    village = central.get("/disclosure/results?village=450521100201&month=2099-01")
    assert "共 0 件" in village.text
