"""The node's side of the agent app's outbox, over HTTP: the session probe, photos PUT by the
sha256 of their bytes and found again by it, and the intake form answered in JSON."""

from __future__ import annotations

import hashlib
import sqlite3

from edge.agent_outbox.expiry import forget_stale
from edge.agent_outbox.routes import MAX_PHOTO_BYTES
from edge.kernel.clock import stamp
from tests.conftest import AGENT_HUANZHU, AGENT_QIANJIANG, STAFF, csrf_of, login
from tests.intake_support import ITEMS, intake_data, open_form, photo, rows

CODE = "CW-004"
JSON = {"Accept": "application/json"}


def _csrf(client) -> str:
    return client.get("/agent/outbox/session", headers=JSON).json()["csrf"]


def _put(client, data: bytes, csrf: str, sha256: str | None = None):
    sha256 = sha256 or hashlib.sha256(data).hexdigest()
    headers = {**JSON, "Content-Type": "image/jpeg", "X-CSRF-Token": csrf}
    return client.put(f"/agent/outbox/photos/{sha256}", content=data, headers=headers)


def _held(client, *hashes: str) -> dict[str, str]:
    query = "&".join(f"sha256={h}" for h in hashes)
    answer = client.get(f"/agent/outbox/photos?{query}", headers=JSON)
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    return answer.json()["have"]


def _staged(settings) -> int:
    return rows(settings, "SELECT count(*) AS n FROM staged_photos")[0]["n"]


def test_session_probe_names_the_agent_and_the_token(client):
    login(client, AGENT_QIANJIANG)
    page_token = csrf_of(client.get("/agent/").text)
    probe = client.get("/agent/outbox/session", headers=JSON)
    assert probe.status_code == 200 and probe.headers["cache-control"] == "no-store"
    assert probe.json()["csrf"] == page_token and len(probe.json()["account"]) == 26


def test_a_signed_out_script_is_told_to_sign_in_not_redirected(client):
    answer = client.get("/agent/outbox/session", headers=JSON, follow_redirects=False)
    assert answer.status_code == 401
    assert answer.json() == {
        "error": "登录已过期，请重新登录。",
        "login": "/login?next=/agent/outbox/session",
    }
    page = client.get("/agent/outbox", follow_redirects=False)  # a browser page still redirects
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    login(client, STAFF)
    assert client.get("/agent/outbox/session", headers=JSON).status_code == 403


def test_a_photo_arrives_once_and_is_found_again_by_its_hash(client, settings):
    login(client, AGENT_QIANJIANG)
    csrf = _csrf(client)
    data = photo((10, 200, 30), (1200, 900))
    sha = hashlib.sha256(data).hexdigest()
    assert _held(client, sha) == {}
    first = _put(client, data, csrf)
    assert first.status_code == 200, first.text
    token = first.json()["token"]
    stored, thumb, width, height, content_type, thumb_type = token.split(":")
    assert (width, height) == ("1200", "900")
    assert (content_type, thumb_type) == ("image/jpeg", "image/jpeg")
    blobs = settings.data_dir / "blobs"
    assert (blobs / stored[:2] / stored).is_file() and (blobs / thumb[:2] / thumb).is_file()
    assert _held(client, sha, "0" * 64) == {sha: token}
    again = _put(client, data, csrf)  # a retry whose answer was lost: same token, no new row
    assert again.json()["token"] == token and _staged(settings) == 1
    login(client, AGENT_HUANZHU)  # another agent's device learns nothing from the hash
    assert _held(client, sha) == {}


def test_the_session_probe_says_which_photos_arrived_in_the_same_request(client):
    """One round trip before a round's first photo: the probe answers `have` too."""
    login(client, AGENT_QIANJIANG)
    csrf = _csrf(client)
    data = photo((200, 10, 30), (1200, 900))
    sha = hashlib.sha256(data).hexdigest()
    token = _put(client, data, csrf).json()["token"]
    probe = client.get(f"/agent/outbox/session?sha256={sha}&sha256={'0' * 64}", headers=JSON)
    assert probe.status_code == 200 and probe.headers["cache-control"] == "no-store"
    assert probe.json()["have"] == {sha: token} and probe.json()["csrf"] == csrf
    assert "have" not in client.get("/agent/outbox/session", headers=JSON).json()
    bad = client.get("/agent/outbox/session?sha256=../../etc", headers=JSON)
    assert bad.status_code == 400
    login(client, AGENT_HUANZHU)  # another agent's device learns nothing from the hash
    assert client.get(f"/agent/outbox/session?sha256={sha}", headers=JSON).json()["have"] == {}


def test_photos_that_cannot_be_kept_are_refused_with_a_reason(client, settings):
    login(client, AGENT_QIANJIANG)
    csrf = _csrf(client)
    data = photo()
    damaged = _put(client, data[:-100], csrf, hashlib.sha256(data).hexdigest())
    assert (
        damaged.status_code == 400 and damaged.json()["error"] == "照片在传输中损坏，将重新发送。"
    )
    not_a_photo = _put(client, b"%PDF-1.4 not a photo", csrf)
    assert not_a_photo.status_code == 422  # the photo itself: the agent retakes it
    assert not_a_photo.json()["error"] == "只能上传 JPEG、PNG 或 WebP 格式的照片。"
    tiny = _put(client, photo(size=(320, 240)), csrf)
    assert tiny.status_code == 422 and tiny.json()["error"].startswith("照片太小")
    streamed = (b"\xff" * 100_000 for _ in range(MAX_PHOTO_BYTES // 100_000 + 1))
    headers = {**JSON, "Content-Type": "image/jpeg", "X-CSRF-Token": csrf}
    undeclared = client.put(f"/agent/outbox/photos/{'a' * 64}", content=streamed, headers=headers)
    assert undeclared.status_code == 413  # chunked, no length declared: cut off while read
    too_big = _put(client, b"\xff" * (MAX_PHOTO_BYTES + 1), csrf)
    assert too_big.status_code == 413 and too_big.json()["error"] == "照片太大，请重新拍摄。"
    forged = _put(client, data, "not-the-token")
    assert forged.status_code == 403 and "刷新页面" in forged.json()["error"]
    assert client.get("/agent/outbox/photos?sha256=../../etc", headers=JSON).status_code == 400
    assert _staged(settings) == 0


def _outbox_post(client, csrf: str, key: str, tokens: dict[str, str], **applicant: str):
    data = intake_data(CODE, **applicant) | {"csrf_token": csrf, "idempotency_key": key}
    data |= {f"kept_{material}": token for material, token in tokens.items()}
    return client.post(f"/agent/apply/{CODE}", data=data, headers=JSON)


def _tokens(client, csrf: str) -> dict[str, str]:
    tokens = {}
    for n, material in enumerate(m["key"] for m in ITEMS[CODE]["materials"]):
        tokens[material] = _put(client, photo((n * 90, 80, 200)), csrf).json()["token"]
    tokens["signature"] = _put(client, photo((240, 240, 240)), csrf).json()["token"]
    return tokens


def test_the_form_posted_with_photo_tokens_is_accepted_once_in_json(client, settings):
    login(client, AGENT_QIANJIANG)
    csrf = _csrf(client)
    tokens = _tokens(client, csrf)
    key = "0b6f6c1e-4a0e-4d9b-9a51-5c7d0f3e2a11"
    before = len(rows(settings, "SELECT id FROM applications"))
    first = _outbox_post(client, csrf, key, tokens, name="覃三线")
    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "no-store"
    answer = first.json()
    assert answer["url"].startswith("/agent/applications/") and answer["url"].endswith("/receipt")
    [app] = rows(
        settings, "SELECT id, tracking_code FROM applications WHERE applicant_name = ?", "覃三线"
    )
    assert answer["tracking_code"].replace("-", "") == app["tracking_code"]
    kinds = rows(settings, "SELECT kind FROM attachments WHERE application_id = ?", app["id"])
    assert sorted(k["kind"] for k in kinds) == ["material", "material", "signature"]
    retry = _outbox_post(client, csrf, key, tokens, name="覃三线")  # the answer was lost
    assert retry.status_code == 200 and retry.json() == answer
    # a retry that no longer passes the checks (say the ID number was mangled on the way)
    # still gets the first answer: the application was accepted
    late = _outbox_post(client, csrf, key, tokens, name="覃三线", id_number="1")
    assert late.status_code == 200 and late.json() == answer
    assert len(rows(settings, "SELECT id FROM applications")) == before + 1
    other = _outbox_post(client, csrf, key, tokens, name="覃四线")
    assert other.status_code == 409 and other.json()["error"]


def test_bad_input_from_the_outbox_comes_back_as_errors_and_stores_nothing(client, settings):
    login(client, AGENT_QIANJIANG)
    csrf = _csrf(client)
    tokens = _tokens(client, csrf)
    tokens.pop("signature")
    before = len(rows(settings, "SELECT id FROM applications"))
    answer = _outbox_post(
        client, csrf, "5f0b1f2a-0c55-4e0e-8f57-0d1e2c3b4a59", tokens, id_number="450521195603121230"
    )
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert set(errors) == {"id_number", "signature"}, errors
    # shown in the outbox, away from the form: each message names its field
    assert errors["id_number"].startswith("申请人身份证号码：")
    assert errors["signature"].startswith("申请人签名：")
    assert len(rows(settings, "SELECT id FROM applications")) == before
    # the key was not used up: the corrected application goes through under it
    fixed = _outbox_post(
        client, csrf, "5f0b1f2a-0c55-4e0e-8f57-0d1e2c3b4a59", _tokens(client, csrf)
    )
    assert fixed.status_code == 200, fixed.text


def test_the_plain_form_still_redirects_without_javascript(client):
    login(client, AGENT_QIANJIANG)
    token, key = open_form(client, CODE)
    data = intake_data(CODE) | {"csrf_token": token, "idempotency_key": key}
    files = [
        (f"material_{m['key']}", (f"{m['key']}.jpg", photo(), "image/jpeg"))
        for m in ITEMS[CODE]["materials"]
    ] + [("signature_photo", ("s.jpg", photo((250, 250, 250)), "image/jpeg"))]
    answer = client.post(f"/agent/apply/{CODE}", data=data, files=files, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].endswith("/receipt")


def test_outbox_page_is_translated_and_says_it_needs_javascript(client):
    login(client, AGENT_QIANJIANG)
    page = client.get("/agent/outbox")
    assert page.status_code == 200
    assert '<span class="badge" data-outbox-count hidden>' in page.text
    assert "待发送功能需要浏览器开启 JavaScript" in page.text
    assert '"photo_sent": "\\u5df2\\u9001\\u8fbe"' in page.text  # the script's texts, as JSON
    english = client.get("/agent/outbox?lang=en").text
    assert "<h1>Outbox</h1>" in english and '"waiting": "Waiting to send"' in english


def test_photos_sent_for_an_application_that_never_came_are_forgotten_after_30_days(
    client, settings, clock
):
    login(client, AGENT_QIANJIANG)
    csrf = _csrf(client)
    tokens = _tokens(client, csrf)  # attached below: their files must stay
    assert (
        _outbox_post(client, csrf, "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", tokens).status_code
        == 200
    )
    orphan = photo((1, 2, 3), (900, 700))
    orphan_token = _put(client, orphan, csrf).json()["token"]
    orphan_files = [settings.blobs_dir / sha[:2] / sha for sha in orphan_token.split(":")[:2]]
    assert all(path.is_file() for path in orphan_files) and _staged(settings) == 4

    assert forget_stale(settings, clock()) == 0  # nothing is old yet
    clock.advance(days=31)
    assert forget_stale(settings, clock()) == 4
    assert _staged(settings) == 0 and not any(path.exists() for path in orphan_files)
    for token in tokens.values():  # attached photos are blobs rows: their files stay
        stored, thumb = token.split(":")[:2]
        assert (settings.blobs_dir / stored[:2] / stored).is_file()
        assert (settings.blobs_dir / thumb[:2] / thumb).is_file()
    login(client, AGENT_QIANJIANG)  # the session did not last the month
    assert _held(client, hashlib.sha256(orphan).hexdigest()) == {}


def test_another_villages_agent_cannot_attach_a_photo_by_its_hashes(client, settings):
    login(client, AGENT_QIANJIANG)
    tokens = _tokens(client, _csrf(client))
    first = _outbox_post(client, _csrf(client), "7d1c0b9e-2f1a-4c55-9e0f-3a2b1c0d9e8f", tokens)
    assert first.status_code == 200, first.text
    hashes = {token.split(":")[0] for token in tokens.values()}
    login(client, AGENT_HUANZHU)  # knows the two hashes of each photo, as the audit did
    stolen = _outbox_post(client, _csrf(client), "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b", tokens)
    assert stolen.status_code == 400
    assert set(stolen.json()["errors"]) == {*(f"m_{m}" for m in tokens if m != "signature")} | {
        "signature"
    }
    assert len(rows(settings, "SELECT id FROM applications")) == 1
    holders = rows(
        settings,
        "SELECT DISTINCT a.agent_id FROM attachments AS t "
        "JOIN applications AS a ON a.id = t.application_id "
        f"WHERE t.sha256 IN ({','.join('?' * len(hashes))})",
        *hashes,
    )
    assert len(holders) == 1  # only the application of the agent who took the photos
    assert _held(client, *hashes) == {}  # nor are they offered to this agent as its own


# --- answered before the re-encode (Prefer: respond-async, as static/js/outbox.js sends) ----


def _put_early(client, data: bytes, csrf: str):
    sha256 = hashlib.sha256(data).hexdigest()
    headers = {
        **JSON,
        "Content-Type": "image/jpeg",
        "X-CSRF-Token": csrf,
        "Prefer": "respond-async",
    }
    return client.put(f"/agent/outbox/photos/{sha256}", content=data, headers=headers)


def _sent_files(settings) -> list[str]:
    return sorted(p.name for p in (settings.data_dir / "received").rglob("*") if p.is_file())


def test_a_photo_answered_before_its_re_encode_is_attached_re_encoded(client, settings):
    login(client, AGENT_QIANJIANG)
    csrf = _csrf(client)
    tokens, sent = {}, {}
    keys = [m["key"] for m in ITEMS[CODE]["materials"]] + ["signature"]
    for n, key in enumerate(keys):
        data = photo((n * 90, 80, 200), (2400, 1800))  # the node shrinks it to 1600 px
        sent[key] = hashlib.sha256(data).hexdigest()
        answer = _put_early(client, data, csrf)
        assert answer.status_code == 200, answer.text
        assert answer.headers["preference-applied"] == "respond-async"
        assert answer.json() == {"sha256": sent[key], "token": sent[key]}  # pending: its hash
        tokens[key] = answer.json()["token"]
    assert set(_held(client, *sent.values())) == set(sent.values())  # a retry skips them all
    first = _outbox_post(
        client, csrf, "1c0e7a52-6b1d-4e0f-9a3c-2d4e5f6a7b8c", tokens, name="覃早答"
    )
    assert first.status_code == 200, first.text
    [app] = rows(settings, "SELECT id FROM applications WHERE applicant_name = ?", "覃早答")
    attached = rows(
        settings,
        "SELECT a.sha256, s.width, s.height FROM attachments AS a JOIN staged_photos AS s "
        "ON s.sha256 = a.sha256 WHERE a.application_id = ?",
        app["id"],
    )
    assert len(attached) == 3
    for photo_row in attached:  # the re-encoded photo, never the bytes sent
        assert photo_row["sha256"] not in sent.values()
        assert (photo_row["width"], photo_row["height"]) == (1600, 1200)
    assert rows(settings, "SELECT * FROM received_photos") == []
    assert _sent_files(settings) == []  # the photos as sent (EXIF, GPS) are gone
    held = _held(client, *sent.values())  # now the re-encoded photos' tokens
    assert all(token.count(":") == 5 for token in held.values()), held


def test_a_received_photo_the_node_lost_track_of_is_re_encoded_when_its_form_comes(
    client, settings
):
    """The node restarted between the PUT's answer and the re-encode: the form does it."""
    login(client, AGENT_QIANJIANG)
    csrf = _csrf(client)
    tokens = _tokens(client, csrf)
    data = photo((7, 77, 177), (1200, 900))
    sha = hashlib.sha256(data).hexdigest()
    folder = settings.data_dir / "received" / sha[:2]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / sha).write_bytes(data)
    [account] = rows(settings, "SELECT account_id FROM staged_photos LIMIT 1")
    with sqlite3.connect(settings.database_path) as conn:
        conn.execute(
            "INSERT INTO received_photos VALUES (?, ?, '2026-11-20T10:00:00+08:00')",
            (account["account_id"], sha),
        )
    material = next(iter(tokens))
    tokens[material] = sha
    answer = _outbox_post(
        client, csrf, "2d1f8b63-7c2e-4f10-8b4d-3e5f6a7b8c9d", tokens, name="覃重启"
    )
    assert answer.status_code == 200, answer.text
    staged = rows(settings, "SELECT sha256 FROM staged_photos WHERE sent_sha256 = ?", sha)
    [app] = rows(settings, "SELECT id FROM applications WHERE applicant_name = ?", "覃重启")
    attached = rows(settings, "SELECT sha256 FROM attachments WHERE application_id = ?", app["id"])
    assert staged and staged[0]["sha256"] in {row["sha256"] for row in attached}
    assert _sent_files(settings) == []


def test_a_photo_answered_early_is_still_refused_at_once_and_is_no_one_elses(client, settings):
    login(client, AGENT_QIANJIANG)
    csrf = _csrf(client)
    tiny = _put_early(client, photo(size=(320, 240)), csrf)
    assert tiny.status_code == 422 and tiny.json()["error"].startswith("照片太小")
    long_thin = _put_early(client, photo(size=(4000, 700)), csrf)  # 1600 x 280 once shrunk
    assert long_thin.status_code == 422 and long_thin.json()["error"].startswith("照片太小")
    not_a_photo = _put_early(client, b"%PDF-1.4 not a photo", csrf)
    assert not_a_photo.status_code == 422
    data = photo((1, 2, 3), (1200, 900))
    assert _put_early(client, data, csrf).status_code == 200
    login(client, AGENT_HUANZHU)  # another agent who learnt the hash attaches nothing
    other_csrf = _csrf(client)
    tokens = _tokens(client, other_csrf)
    tokens[next(iter(tokens))] = hashlib.sha256(data).hexdigest()
    answer = _outbox_post(client, other_csrf, "3e2a9c74-8d3f-4a21-9c5e-4f6a7b8c9d0e", tokens)
    assert answer.status_code == 400 and answer.json()["errors"]
    assert _held(client, hashlib.sha256(data).hexdigest()) == {}


def test_a_received_photo_whose_form_never_came_is_forgotten_after_30_days(client, settings, clock):
    login(client, AGENT_QIANJIANG)
    data = photo((9, 99, 199), (1200, 900))
    sha = hashlib.sha256(data).hexdigest()
    [account] = rows(settings, "SELECT id FROM accounts WHERE phone = ?", AGENT_QIANJIANG)
    folder = settings.data_dir / "received" / sha[:2]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / sha).write_bytes(data)  # as a node that stopped before re-encoding it leaves it
    with sqlite3.connect(settings.database_path) as conn:
        conn.execute(
            "INSERT INTO received_photos VALUES (?, ?, ?)", (account["id"], sha, stamp(clock()))
        )
    assert _held(client, sha) == {sha: sha}  # the device need not send it again
    assert forget_stale(settings, clock()) == 0
    clock.advance(days=31)
    assert forget_stale(settings, clock()) == 1
    assert rows(settings, "SELECT * FROM received_photos") == [] and _sent_files(settings) == []
