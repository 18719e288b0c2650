"""Chinese first, English too: negotiation, switching, and no text that escapes gettext."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po

from edge.kernel import i18n

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
EN_PO = ROOT / "edge/locale/en/LC_MESSAGES/messages.po"
VISIBLE_ATTRIBUTES = {"placeholder", "title", "alt", "aria-label"}
LETTERS = re.compile(r"[A-Za-z\u3400-\u9fff]")
JINJA = re.compile(r"{#.*?#}|{%.*?%}|{{.*?}}", re.S)


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value and LETTERS.search(value):
                self.found.append(f"{tag}[{name}]={value}")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.found.append(data.strip())


def _literal_text(source: str) -> list[str]:
    collector = _TextCollector()
    collector.feed(JINJA.sub(" ", source))
    return [text for text in collector.found if LETTERS.search(text)]


def test_templates_have_no_text_outside_gettext():
    offenders = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        literal = _literal_text(path.read_text(encoding="utf-8"))
        if literal:
            offenders[str(path.relative_to(ROOT))] = literal
    assert offenders == {}


def test_the_checker_catches_untranslated_text():
    assert _literal_text("<p>办事指南</p>") == ["办事指南"]
    assert _literal_text('<input placeholder="Search">') == ["input[placeholder]=Search"]
    assert _literal_text("<p>{{ _('办事指南') }}</p>") == []


def test_every_message_has_an_english_translation():
    with EN_PO.open("rb") as handle:
        catalog = read_po(handle)
    missing = [
        message.id
        for message in catalog
        if message.id
        and (
            not message.string
            or (isinstance(message.string, tuple) and not all(message.string))
            or message.fuzzy
        )
    ]
    assert missing == []


def test_po_files_hold_every_message_in_the_code(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "lazy_gettext",
            "--no-location",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    with EN_PO.open("rb") as handle:
        in_po = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    assert extracted - in_po == set(), "run `make messages` and translate the new strings"


def test_negotiation_order():
    assert i18n.negotiate(None, None, None) == "zh_Hans"
    assert i18n.negotiate(None, None, "en-GB,en;q=0.8") == "en"
    assert i18n.negotiate(None, None, "fr-FR,zh-CN;q=0.5") == "zh_Hans"
    assert i18n.negotiate(None, "en", "zh-CN") == "en"
    assert i18n.negotiate("zh", "en", "en") == "zh_Hans"


def test_chinese_by_default_and_english_on_request(client):
    page = client.get("/services")
    assert '<html lang="zh-Hans">' in page.text
    assert "办事指南" in page.text
    english = client.get("/services?lang=en")
    assert '<html lang="en">' in english.text
    assert "Service guide" in english.text or "service guide" in english.text.lower()
    assert "cb_lang=en" in english.headers["set-cookie"]
    remembered = client.get("/services/MZ-001")
    assert '<html lang="en">' in remembered.text
    assert "working day" in remembered.text


def test_accept_language_picks_english(client):
    page = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in page.text


def test_switcher_links_to_the_other_language_keeping_the_query(client):
    page = client.get("/services?q=%E4%BD%8E%E4%BF%9D")
    assert 'href="/services?q=%E4%BD%8E%E4%BF%9D&amp;lang=en"' in page.text


def test_dates_and_numbers_follow_the_locale():
    i18n.set_locale("zh_Hans")
    assert i18n.format_date("2026-10-01") == "2026年10月1日"
    i18n.set_locale("en")
    assert i18n.format_date("2026-10-01") == "Oct 1, 2026"
    assert i18n.format_number(12345.5) == "12,345.5"
    i18n.set_locale("zh_Hans")


def test_the_tracking_code_has_one_name_everywhere():
    """Residents, agents and staff call it 查询码 (Tracking code) on every page, script text
    and sealed label; an older name (受理编号) confused first-time agents."""
    messages = (ROOT / "edge" / "locale" / "messages.pot").read_text(encoding="utf-8")
    assert 'msgid "查询码"' in messages
    assert "受理编号" not in messages
    scripts = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "static").rglob("*.js"))
    assert "受理编号" not in scripts
