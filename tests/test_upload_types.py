"""Content types travel with an upload: chosen where the photo is re-encoded, kept in the form's
token and in staged photos, recorded with each blob, and served from that record (edge, central)."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import sqlite3
from pathlib import Path

from PIL import Image, ImageDraw
from starlette.testclient import TestClient

from edge.app import create_app
from edge.schema import MIGRATIONS_DIR
from replication.blob_upload import upload_pass
from tests.central_support import START, central_rows, ingest
from tests.conftest import AGENT_QIANJIANG, STAFF, login
from tests.intake_support import intake_data, intake_files, open_form, photo, rows
from tests.test_migrations import AGENT_ID, database_at
from tests.test_migrations import _run as _migrate

ROOT = Path(__file__).resolve().parent.parent
CODE = "MZ-002"  # township review, then the civil affairs bureau
RECEIPT = re.compile(r"/agent/applications/([0-9A-Z]{26})/receipt$")
KEPT = re.compile(r'name="(kept_[a-z_]+)" value="([^"]+)"')
MIGRATION = next(MIGRATIONS_DIR.glob("*_staged_photo_content_types.sql"))
BEFORE = int(MIGRATION.name[:4]) - 1  # the schema version whose staged photos had no types


def drawn_signature() -> str:
    """What the signature canvas posts: a small PNG data URL."""
    image = Image.new("RGBA", (600, 200), (255, 255, 255, 0))
    ImageDraw.Draw(image).line((40, 150, 200, 60, 380, 140, 560, 50), fill="black", width=6)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _materials_only() -> list:
    return [part for part in intake_files(CODE) if part[0] != "signature_photo"]


def _intake_with_drawn_signature(client: TestClient, **applicant: str):
    token, key = open_form(client, CODE)
    data = intake_data(CODE, **applicant) | {
        "csrf_token": token,
        "idempotency_key": key,
        "signature_data": drawn_signature(),
    }
    return client.post(
        f"/agent/apply/{CODE}", data=data, files=_materials_only(), follow_redirects=False
    )


def _recorded_types(database: Path, application_id: str) -> dict[str, set[tuple[str, str]]]:
    """kind -> {(photo type, thumbnail type)} as the blobs table records them."""
    found: dict[str, set[tuple[str, str]]] = {}
    with sqlite3.connect(database) as conn:
        for kind, photo_type, thumb_type in conn.execute(
            "SELECT t.kind, pb.content_type, tb.content_type FROM attachments t "
            "JOIN blobs pb ON pb.sha256 = t.sha256 JOIN blobs tb ON tb.sha256 = t.thumb_sha256 "
            "WHERE t.application_id = ?",
            (application_id,),
        ):
            found.setdefault(kind, set()).add((photo_type, thumb_type))
    return found


def _accepted(response) -> str:
    assert response.status_code == 303, response.text
    return RECEIPT.search(response.headers["location"]).group(1)


def test_a_drawn_signature_is_recorded_and_served_as_png_photos_as_jpeg(client, settings):
    login(client, AGENT_QIANJIANG)
    application_id = _accepted(_intake_with_drawn_signature(client))
    assert _recorded_types(settings.database_path, application_id) == {
        "material": {("image/jpeg", "image/jpeg")},
        "signature": {("image/png", "image/jpeg")},
    }
    [signature] = rows(
        settings,
        "SELECT id, sha256 FROM attachments WHERE application_id = ? AND kind = 'signature'",
        application_id,
    )
    login(client, STAFF)
    served = client.get(f"/staff/attachments/{signature['id']}")
    assert served.status_code == 200 and served.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert served.headers["content-type"] == "image/png"
    assert served.headers["content-disposition"].endswith(f'-{signature["sha256"][:8]}.png"')
    thumb = client.get(f"/staff/attachments/{signature['id']}/thumb")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert thumb.content.startswith(b"\xff\xd8\xff")


def test_a_signature_kept_across_a_form_error_keeps_its_type(client, settings):
    login(client, AGENT_QIANJIANG)
    refused = _intake_with_drawn_signature(client, phone="123")
    assert refused.status_code == 400
    kept = dict(KEPT.findall(refused.text))
    assert kept["kept_signature"].endswith(":image/png:image/jpeg")
    assert all(
        t.endswith(":image/jpeg:image/jpeg") for n, t in kept.items() if n != "kept_signature"
    )
    token, key = open_form(client, CODE)
    data = intake_data(CODE) | kept | {"csrf_token": token, "idempotency_key": key}
    application_id = _accepted(
        client.post(f"/agent/apply/{CODE}", data=data, follow_redirects=False)
    )
    assert _recorded_types(settings.database_path, application_id) == {
        "material": {("image/jpeg", "image/jpeg")},
        "signature": {("image/png", "image/jpeg")},
    }


def test_a_token_naming_no_known_type_keeps_nothing(client, settings):
    login(client, AGENT_QIANJIANG)
    refused = _intake_with_drawn_signature(client, phone="123")
    kept = dict(KEPT.findall(refused.text))
    stripped = {name: token.rsplit(":", 2)[0] for name, token in kept.items()}  # no types
    renamed = {name: token.replace("image/png", "image/gif") for name, token in kept.items()}
    for tokens in (stripped, renamed):
        token, key = open_form(client, CODE)
        data = intake_data(CODE) | tokens | {"csrf_token": token, "idempotency_key": key}
        again = client.post(f"/agent/apply/{CODE}", data=data)
        assert again.status_code == 400
        assert "请申请人在框内签名" in again.text
    assert rows(settings, "SELECT count(*) FROM applications")[0][0] == 0


def test_staged_photos_keep_their_types_and_older_ones_are_jpeg(client, settings, tmp_path):
    login(client, AGENT_QIANJIANG)
    csrf = client.get("/agent/outbox/session", headers={"Accept": "application/json"})
    data = photo((10, 200, 30), (1200, 900))
    sha = hashlib.sha256(data).hexdigest()
    headers = {"Accept": "application/json", "X-CSRF-Token": csrf.json()["csrf"]}
    assert (
        client.put(f"/agent/outbox/photos/{sha}", content=data, headers=headers).status_code == 200
    )
    [staged] = rows(settings, "SELECT content_type, thumb_content_type FROM staged_photos")
    assert tuple(staged) == ("image/jpeg", "image/jpeg")

    path = database_at(tmp_path, BEFORE)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO staged_photos (account_id, sent_sha256, sha256, thumb_sha256, width, "
            "height, created_at) VALUES (?, ?, ?, ?, 1200, 900, '2026-11-23')",
            (AGENT_ID, "a" * 64, "b" * 64, "c" * 64),
        )
    assert _migrate(path) >= BEFORE + 1
    with sqlite3.connect(path) as conn:
        kept = conn.execute("SELECT content_type, thumb_content_type FROM staged_photos").fetchall()
    assert kept == [("image/jpeg", "image/jpeg")]


def test_central_serves_each_photo_with_the_type_the_edge_recorded(central, edges, clock):
    lianzhou = edges["lianzhou"]
    with TestClient(create_app(lianzhou, clock), base_url="https://testserver") as edge:
        login(edge, AGENT_QIANJIANG)
        application_id = _accepted(_intake_with_drawn_signature(edge, name="覃签名"))
    while upload_pass(lianzhou.replicated_node, START).sent:
        pass
    ingest(central, lianzhou)
    [signature] = rows(
        lianzhou,
        "SELECT sha256, thumb_sha256 FROM attachments WHERE application_id = ? "
        "AND kind = 'signature'",
        application_id,
    )
    login(central, "13807700100")  # civil affairs, 合浦县: MZ-002 has a civil affairs step
    served = central.get(f"/officer/blobs/lianzhou/{signature['sha256']}")
    assert served.status_code == 200, served.text
    assert served.headers["content-type"] == "image/png"
    assert served.content.startswith(b"\x89PNG\r\n\x1a\n")
    thumb = central.get(f"/officer/blobs/lianzhou/{signature['thumb_sha256']}")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    # a photo whose record has not reached central is not served with a guessed type
    central_rows(central, "DELETE FROM edge_blobs WHERE sha256 = ?", signature["sha256"])
    unknown = central.get(f"/officer/blobs/lianzhou/{signature['sha256']}")
    assert unknown.status_code == 404 and "照片尚未上传到中心" in unknown.text


def test_no_module_guesses_an_image_type_from_its_bytes():
    """Only the re-encoder reads magic bytes; everyone else reads the recorded content type."""
    sniffers = [
        path.relative_to(ROOT).as_posix()
        for package in ("edge", "central", "replication")
        for path in sorted((ROOT / package).rglob("*.py"))
        if "\\x89PNG" in path.read_text(encoding="utf-8")
    ]
    assert sniffers == ["edge/blobs/images.py"]
