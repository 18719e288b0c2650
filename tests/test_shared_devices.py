"""Shared phones (issue 12, finding 2): staff, officer and admin pages are never stored, and
signing out clears the browser's cache but never its storage (the agent app's outbox); the
worker's side is tests/test_pwa_browser.py."""

from __future__ import annotations

import pytest

from tests.central_support import central, demo_edges, edges  # noqa: F401
from tests.conftest import ADMIN, AGENT_QIANJIANG, OFFICER_CIVIL, STAFF, login
from tests.intake_support import submit

CIVIL_HEPU = "13807700100"
ROLE_PAGES = [(STAFF, "/staff/"), (OFFICER_CIVIL, "/staff/"), (ADMIN, "/admin/accounts")]


@pytest.mark.parametrize(("phone", "path"), ROLE_PAGES)
def test_staff_officer_and_admin_pages_are_never_stored(client, phone, path):
    login(client, phone)
    for page in (path, "/services"):  # a public page too, once made for them
        response = client.get(page, headers={"If-None-Match": "*"})
        assert response.status_code == 200, page
        assert response.headers["cache-control"] == "no-store", page
        assert "etag" not in response.headers


def test_a_staff_application_page_is_never_stored(client):
    login(client, AGENT_QIANJIANG)
    application_id = submit(client, "MZ-002").headers["location"].split("/")[3]
    login(client, STAFF)
    page = client.get(f"/staff/applications/{application_id}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"


def test_officer_pages_at_central_are_never_stored(central):  # noqa: F811
    login(central, CIVIL_HEPU)
    response = central.get("/officer/")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"


def test_the_agents_pages_stay_storable_for_the_offline_app(client):
    login(client, AGENT_QIANJIANG)
    assert client.get("/agent/").headers["cache-control"] == "private, no-cache"


def test_signing_out_clears_the_browsers_cache_but_never_its_storage(client):
    login(client, STAFF)
    page = client.get("/staff/")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["clear-site-data"] == '"cache"'  # the outbox (IndexedDB) stays
