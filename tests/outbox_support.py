"""Driving the agent app's outbox in Chromium, for the browser tests and bench/weaklink: the
intake form the worker keeps, camera-sized photos, and an intake filled in and kept."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page

from tests.intake_support import ITEMS, intake_data

CODE = "CW-004"  # two required materials
# Whether the worker keeps the given form and the outbox page (argument: the form's path).
FORMS_KEPT = """async (form) => {
  for (const name of await caches.keys()) {
    if (!name.startsWith("cunban-forms-")) continue;
    const kept = (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
    if (kept.includes(form) && kept.includes("/agent/outbox")) return true;
  }
  return false;
}"""


def camera_photo(path: Path, seed: int) -> Path:
    """A 3000x2250 camera-sized JPEG of blotches: far over the limits until the browser
    shrinks it (coarse noise, smoothed, compresses like a photo of a document)."""
    noise = random.Random(seed).randbytes(300 * 225 * 3)
    image = Image.frombytes("RGB", (300, 225), noise).resize((3000, 2250), Image.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    path.write_bytes(buffer.getvalue())
    return path


def fill_intake(page: Page, photos: list[Path], applicant_name: str, **applicant: str) -> None:
    """The CW-004 form with both photos and a drawn signature, submitted into the outbox."""
    page.goto(f"/agent/apply/{CODE}")
    data = intake_data(CODE, name=applicant_name, **applicant)
    for name, value in data.items():
        field = page.locator(f"form[data-intake] [name='{name}']")
        if field.evaluate("(node) => node.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    materials = [m["key"] for m in ITEMS[CODE]["materials"]]
    for key, photo in zip(materials, photos, strict=True):
        page.set_input_files(f"#material_{key}", photo)
    pad = page.locator("[data-signature] canvas")
    pad.scroll_into_view_if_needed()
    canvas = pad.bounding_box()
    assert canvas is not None
    page.mouse.move(canvas["x"] + 20, canvas["y"] + 40)
    page.mouse.down()
    page.mouse.move(canvas["x"] + 200, canvas["y"] + 120, steps=8)
    page.mouse.up()
    page.click("form[data-intake] button:not([type=button])")
    page.wait_for_url("**/agent/outbox")
