"""News: township staff and village agents post (one photo, re-encoded into the blob store);
residents see newest first, their village's posts and not another's; the thumbnail only when
asked for, never under Save-Data."""

from __future__ import annotations

import io

from PIL import Image

from tests.bulletin_support import post_form
from tests.conftest import AGENT_QIANJIANG, HUANZHU, QIANJIANG, STAFF, login
from tests.intake_support import rows


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2400, 1600), (30, 120, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_an_agent_posts_for_the_village_with_a_photo_shown_only_on_request(client, settings):
    login(client, AGENT_QIANJIANG)
    data = {"place": QIANJIANG, "title": "乾江村冬季义诊", "body": "周六上午在村委会义诊。"}
    files = {"photo": ("a.jpg", _jpeg(), "image/jpeg")}
    response = post_form(client, "/agent/news/new", data, files=files)
    assert response.status_code == 303, response.text
    post = response.headers["location"]
    sha, thumb = rows(settings, "SELECT photo_sha256, thumb_sha256 FROM news")[0]
    assert rows(settings, "SELECT count(*) FROM blobs WHERE sha256 IN (?, ?)", sha, thumb)[0][0]
    client.cookies.clear()
    page = client.get(post).text
    assert "<img" not in page and "?photo=1" in page
    asked = client.get(post + "?photo=1").text
    assert f'src="{post}/photo/thumb"' in asked
    saving = client.get(post + "?photo=1", headers={"Save-Data": "on"}).text
    assert "<img" not in saving and f"{post}/photo/full" in saving
    full = client.get(post + "/photo/full")
    assert full.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(full.content)).size) <= 1600
    assert len(client.get(post + "/photo/thumb").content) <= 15_000
    assert "乾江村冬季义诊" in client.get(f"/news?village={QIANJIANG}").text
    assert "乾江村冬季义诊" not in client.get(f"/news?village={HUANZHU}").text


def test_an_agent_cannot_post_for_another_village_and_loses_nothing(client, settings):
    login(client, AGENT_QIANJIANG)
    data = {"place": HUANZHU, "title": "还珠村通知", "body": "内容"}
    response = post_form(client, "/agent/news/new", data)
    assert response.status_code == 400 and "请选择发布到本镇还是哪个村" in response.text
    assert 'value="还珠村通知"' in response.text
    assert rows(settings, "SELECT count(*) FROM news")[0][0] == 0


def test_township_posts_reach_every_village_newest_first(client, clock):
    login(client, STAFF)
    post_form(client, "/staff/news/new", {"place": "450521100000", "title": "旧消息", "body": "一"})
    clock.advance(minutes=10)
    post_form(client, "/staff/news/new", {"place": "450521100000", "title": "新消息", "body": "二"})
    client.cookies.clear()
    page = client.get(f"/news?village={HUANZHU}").text
    assert page.index("新消息") < page.index("旧消息")


def test_a_file_that_is_not_a_photo_is_refused_in_words(client, settings):
    login(client, STAFF)
    data = {"place": "450521100000", "title": "通知", "body": "内容"}
    files = {"photo": ("a.jpg", b"not a picture", "image/jpeg")}
    response = post_form(client, "/staff/news/new", data, files=files)
    assert response.status_code == 400 and 'value="通知"' in response.text
    assert rows(settings, "SELECT count(*) FROM news")[0][0] == 0
