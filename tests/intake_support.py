"""Building real intake posts: valid values for an item's e-form, photos made with Pillow."""

from __future__ import annotations

import io
import re
import sqlite3
from typing import Any

from PIL import Image

from edge.catalog.item import Field
from edge.catalog.loader import read_catalog
from edge.demo import sample_value
from edge.kernel.id_numbers import check_character
from tests.conftest import csrf_of

KEY_FIELD = re.compile(r'name="idempotency_key" value="([^"]+)"')
ITEMS = {item["code"]: item for item in read_catalog().items}


def resident_id(birth: str = "19560312", serial: str = "123", region: str = "450521") -> str:
    """A valid 18-digit ID number."""
    first17 = region + birth + serial
    return first17 + check_character(first17)


def photo(
    color: tuple[int, int, int] = (200, 120, 40), size: tuple[int, int] = (800, 600)
) -> bytes:
    """A JPEG photo of a document."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def intake_data(code: str, **applicant: str) -> dict[str, str]:
    """Form fields of a complete intake for item `code`."""
    data = {"id_number": resident_id(), "name": "潘桂兰", "phone": "13800138000", **applicant}
    for field in ITEMS[code]["fields"]:
        data[f"f_{field['name']}"] = sample_value(Field.from_dict(field))
    return data


def intake_files(code: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    """A photo for every required material and a photographed signed form."""
    files = [
        (f"material_{m['key']}", (f"{m['key']}.jpg", photo((20 * i % 255, 90, 160)), "image/jpeg"))
        for i, m in enumerate(ITEMS[code]["materials"])
        if m["required"]
    ]
    files.append(("signature_photo", ("signed.jpg", photo((240, 240, 240)), "image/jpeg")))
    return files


def open_form(client: Any, code: str) -> tuple[str, str]:
    """(csrf token, idempotency key) of a fresh intake form."""
    page = client.get(f"/agent/apply/{code}")
    assert page.status_code == 200, page.text
    return csrf_of(page.text), KEY_FIELD.search(page.text).group(1)


def submit(client: Any, code: str, **applicant: str):
    """Post a complete intake; returns the (not followed) response."""
    token, key = open_form(client, code)
    data = intake_data(code, **applicant) | {"csrf_token": token, "idempotency_key": key}
    return client.post(
        f"/agent/apply/{code}", data=data, files=intake_files(code), follow_redirects=False
    )


def rows(settings: Any, sql: str, *params: Any) -> list[sqlite3.Row]:
    """Read the node's database directly, as an auditor would."""
    with sqlite3.connect(settings.database_path) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()
