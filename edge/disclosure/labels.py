"""Names of withholding reasons (政府信息公开条例 art. 15) and of decisions, for disclosure."""

from __future__ import annotations

from edge.kernel.i18n import lazy_gettext

WITHHOLD_REASONS = {
    "third_party_privacy": lazy_gettext("涉及个人隐私，公开会损害第三方合法权益（第十五条）"),
    "trade_secret": lazy_gettext("涉及商业秘密（第十五条）"),
    "minor": lazy_gettext("涉及未成年人信息"),
}
DECISIONS = {
    "approved": lazy_gettext("批准"),
    "rejected": lazy_gettext("不予批准"),
}
