"""我有话说's ratings use the five levels of 好差评 (edge/ratings/levels.py, 1 非常满意 … 5
非常不满意): the form, the stored value, the edge migration that converts the old text codes,
and central, which still ingests the codes an edge not migrated yet sends."""

from __future__ import annotations

import sqlite3

import pytest

from tests.feedback_support import code_of, item_of, raise_item
from tests.test_migrations import _migrate_only, database_at

CODES = ("very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied")
LEVEL_OF = {code: n for n, code in enumerate(CODES, start=1)}


def _answered(client, settings) -> str:
    from tests.conftest import STAFF, login
    from tests.test_feedback import _staff_post

    code = code_of(raise_item(client, phone="13977123456", body="村口路灯坏了，晚上看不见路。"))
    item_id = item_of(settings.database_path, code)["id"]
    login(client, STAFF)
    note = {"action": "answered", "note": "已安排电工明天上门维修。"}
    assert _staff_post(client, f"/staff/feedback/{item_id}/act", note).status_code == 303
    client.cookies.clear()
    client.get(f"/feedback/track/{code}")  # the anonymous form's visitor cookie
    return code


def test_the_form_offers_the_five_levels_and_stores_the_digit(client, settings):
    code = _answered(client, settings)
    mine = client.get(f"/feedback/track/{code}")
    for level, name in ((1, "非常满意"), (3, "基本满意"), (5, "非常不满意")):
        assert f'value="{level}" required> {name}' in mine.text
    assert "very_satisfied" not in mine.text
    rate = {"rating": "2", "last4": "3456"}
    rated = client.post(f"/feedback/track/{code}/rate", data=rate, follow_redirects=False)
    assert rated.status_code == 303
    row = item_of(settings.database_path, code)
    assert (row["rating_level"], row["rating"], row["state"]) == (2, None, "rated")
    assert "留言人评价：满意" in client.get(f"/feedback/track/{code}").text
    assert "留言人评价：满意" in client.get(f"/feedback/{row['id']}").text


@pytest.mark.parametrize("bad", ["0", "6", "12", "great", ""])
def test_a_level_outside_the_five_is_refused(client, settings, bad):
    code = _answered(client, settings)
    refused = client.post(f"/feedback/track/{code}/rate", data={"rating": bad, "last4": "3456"})
    assert refused.status_code == 400 and "请选择一个评价" in refused.text
    assert item_of(settings.database_path, code)["rating_level"] is None


def test_a_page_rendered_before_the_change_still_rates(client, settings):
    code = _answered(client, settings)
    client.post(f"/feedback/track/{code}/rate", data={"rating": "dissatisfied", "last4": "3456"})
    assert item_of(settings.database_path, code)["rating_level"] == 4


def test_the_edge_migration_turns_every_code_into_its_level(tmp_path):
    path = database_at(tmp_path, 26)
    with sqlite3.connect(path) as conn:
        for n, code in enumerate([*CODES, None]):  # n: 0-5 -> ids ...00 to ...05
            conn.execute(
                "INSERT INTO feedback (id, tracking_code, village_code, kind, category, channel, "
                "body, department_code, level, state, deadline_days, received_on, due_on, "
                "created_at, updated_at, rating) VALUES (?, ?, '450521100201', 'problem', "
                "'roads', 'web', '路灯坏了', 'township', 'township', ?, 5, '2026-11-02', "
                "'2026-11-09', '2026-11-02T01:00:00+00:00', '2026-11-02T01:00:00+00:00', ?)",
                (
                    f"01JD00000000000000000000{n:02d}",
                    f"T{n}",
                    "rated" if code else "handling",
                    code,
                ),
            )
        before = dict(conn.execute("SELECT id, rev FROM feedback").fetchall())
    import asyncio

    asyncio.run(_migrate_only(path))
    with sqlite3.connect(path) as conn:
        after = conn.execute("SELECT id, rating, rating_level, rev FROM feedback ORDER BY id")
        rows = after.fetchall()
    assert [(r[1], r[2]) for r in rows] == [(None, n) for n in (1, 2, 3, 4, 5, None)]
    assert all(r[3] > before[r[0]] for r in rows[:5])  # changed rows travel to central again
    with sqlite3.connect(path) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE feedback SET rating_level = 6")


def test_central_ingests_the_codes_of_an_edge_not_migrated_yet(request, edges):
    from tests.central_support import central_rows, ingest

    edge = edges["lianzhou"]
    with sqlite3.connect(edge.database_path) as conn:
        rated = dict(conn.execute("SELECT id, rating_level FROM feedback WHERE rating_level > 0"))
        assert rated  # the demo has rated items
        for item_id, level in rated.items():
            conn.execute("UPDATE feedback SET rating = ? WHERE id = ?", (CODES[level - 1], item_id))
        conn.execute("ALTER TABLE feedback DROP COLUMN rating_level")  # as before 0027
    central = request.getfixturevalue("central")  # ingests both edges as they are
    copied = central_rows(
        central, "SELECT id, rating, rating_level FROM edge_feedback WHERE node_id = 'lianzhou'"
    )
    assert {r["id"]: r["rating_level"] for r in copied if r["rating"]} == rated
    answer = central.get("/open311/v2/requests.json").json()
    levels = {r["extended_attributes"]["cunban_rating"] for r in answer} - {None}
    assert levels and levels <= {1, 2, 3, 4, 5}
    with sqlite3.connect(edge.database_path) as conn:  # the edge changes a rating the old way
        item_id = next(iter(rated))
        conn.execute("UPDATE feedback SET rating = 'neutral' WHERE id = ?", (item_id,))
    central_rows(central, "UPDATE edge_feedback SET rating_level = NULL WHERE id = ?", item_id)
    ingest(central, edge)
    row = central_rows(central, "SELECT rating_level FROM edge_feedback WHERE id = ?", item_id)
    assert row[0]["rating_level"] == 3
