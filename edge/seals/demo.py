"""Demo village certificates with real-looking facts (a residence certificate for a school, a
hardship certificate whose long account stays out of the QR code); idempotent."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import aiosqlite
from PIL import Image, ImageDraw

from edge.applications import lifecycle
from edge.applications.lifecycle import Applicant, Context
from edge.blobs.images import prepare_photo
from edge.catalog import queries as catalog
from edge.intake.uploads import keep, record_blobs
from edge.kernel.auth.account import Account
from edge.kernel.blobstore import BlobStore
from edge.kernel.clock import stamp
from edge.settings import Settings
from edge.workdays.working_days import load_working_days

MARK = "第三村民小组"  # in each demo certificate's answers: present means already loaded
CERTIFICATES = (
    (
        "CW-001",
        Applicant("450521198403120027", "黄秋菊", "13907710231"),
        {
            "residence_address": "第三村民小组18号",
            "residence_since": "2012-09",
            "housing_type": "own",
            "purpose": "school",
            "receiving_body": "合浦县廉州镇第二小学",
        },
    ),
    (
        "CW-002",
        Applicant("450521196205080015", "庞德明", "13907710232"),
        {
            "household_size": "4",
            "hardship_reason": "illness",
            "situation": (
                "户主庞德明2025年患尿毒症，每周透析三次，不能务农；妻子在家照顾，"
                "家庭收入主要靠种植2亩水稻和儿子在外打零工，医疗费用负担重。住第三村民小组。"
            ),
            "purpose": "申请大病医疗救助",
        },
    ),
)


def _card_photo(store: BlobStore, key: str) -> lifecycle.Upload:
    buffer = io.BytesIO()
    image = Image.new("RGB", (1200, 760), (246, 244, 236))
    ImageDraw.Draw(image).rectangle((50, 50, 1150, 710), outline=(90, 110, 160), width=10)
    image.save(buffer, "JPEG", quality=80)
    return keep(store, prepare_photo(buffer.getvalue()), "material", key)


async def _loaded(conn: aiosqlite.Connection) -> bool:
    async with conn.execute(
        "SELECT 1 FROM applications WHERE item_code LIKE 'CW-%' AND form_data LIKE ? LIMIT 1",
        (f"%{MARK}%",),
    ) as cursor:
        return await cursor.fetchone() is not None


async def load_demo_certificates(
    conn: aiosqlite.Connection, settings: Settings, now: datetime
) -> int:
    """Take in the demo certificates through the real lifecycle, unless they are there."""
    if await _loaded(conn):
        return 0
    async with conn.execute("SELECT * FROM accounts WHERE role = 'agent' ORDER BY phone") as cur:
        row = await cur.fetchone()
    if row is None:
        return 0
    agent = Account.from_row(row)
    store = BlobStore(settings.blobs_dir)
    for days_ago, (code, applicant, answers) in enumerate(CERTIFICATES, start=1):
        item = await catalog.item(conn, code)
        if item is None:
            continue
        at = now - timedelta(days=days_ago)
        uploads = [_card_photo(store, m.key) for m in item.materials if m.required]
        for upload in uploads:
            await record_blobs(conn, store, upload, stamp(at))
        days = await load_working_days(
            conn, at, settings.web.timezone, settings.warning_working_days
        )
        await lifecycle.submit(
            conn,
            Context(agent, at, days, settings.keys_dir),
            item=item,
            village_code=agent.jurisdiction_code,
            applicant=applicant,
            form_data=answers,
            uploads=uploads,
        )
    return len(CERTIFICATES)
