"""The speed-ups of page rendering keep Jinja's meaning (issue 17): a database row's missing
column is still an error, `_()` still escapes its variables, always %-formats and follows the
language of the moment (its texts are kept per locale)."""

from __future__ import annotations

import sqlite3

import pytest
from jinja2 import UndefinedError

from edge.kernel import i18n


def _row() -> sqlite3.Row:
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    return conn.execute("SELECT 'a1' AS id, '张三' AS name").fetchone()


def test_a_row_reads_its_columns_and_refuses_a_missing_one(client):
    env = client.app.state.node.templates
    assert env.from_string("{{ r.id }} {{ r.name }}").render(r=_row()) == "a1 张三"
    with pytest.raises(UndefinedError):
        env.from_string("{{ r.nickname }}").render(r=_row())


def test_gettext_escapes_variables_and_always_formats(client):
    env = client.app.state.node.templates
    page = env.from_string('{{ _("期限 %(date)s", date=d) }}|{{ _("百分之百%%") }}')
    with i18n.in_locale("zh_Hans"):
        assert page.render(d="<b>") == "期限 &lt;b&gt;|百分之百%"
    with i18n.in_locale("en"):
        assert page.render(d="1 Dec") == "due 1 Dec|百分之百%"
