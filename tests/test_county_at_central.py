"""A township node connected to central leaves county steps to central's officers."""

from __future__ import annotations

from pathlib import Path

import pytest
from ulid import ULID

from edge.settings import Settings
from tests.conftest import LIANZHOU, OFFICER_CIVIL, STAFF, csrf_of, login
from tests.intake_support import rows
from tests.test_applications import _accept, _decide


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A node that pulls central's feed (central need not answer for this test)."""
    return Settings(
        node_id="lianzhou",
        township_code=LIANZHOU,
        data_dir=tmp_path / "edge",
        central_url="http://127.0.0.1:9",
    )


def test_a_connected_node_refuses_county_decisions_made_locally(client, settings):
    application_id = _accept(client, "MZ-002")
    assert (
        _decide(client, settings, STAFF, application_id, "township", "approve").status_code == 303
    )
    login(client, OFFICER_CIVIL)
    page = client.get(f"/staff/applications/{application_id}")
    assert page.status_code == 200 and 'action="/staff/steps/' not in page.text  # no form
    step = rows(
        settings,
        "SELECT id FROM steps WHERE application_id = ? AND level = 'county'",
        application_id,
    )[0]["id"]
    refused = client.post(  # a hand-made post is refused too
        f"/staff/steps/{step}/decide",
        data={
            "csrf_token": csrf_of(page.text),
            "idempotency_key": str(ULID()),
            "action": "approve",
            "opinion": "同意",
        },
    )
    assert refused.status_code == 400
    assert "这一步不由您办理" in refused.text
    county = rows(
        settings,
        "SELECT status, decided_by FROM steps WHERE application_id = ? AND level = 'county'",
        application_id,
    )
    assert [tuple(r) for r in county] == [("active", None)]
