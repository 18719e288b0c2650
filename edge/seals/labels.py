"""How a seal's payload reads on the public check page: a label for every field, words for
coded values, the office's real name, names masked (a public page)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edge.catalog.item import CatalogItem
from edge.kernel.i18n import format_date, lazy_gettext, pick
from edge.kernel.masking import mask_name, public_text
from edge.seals.certificate import readable_facts
from edge.seals.offices import OfficeName

KIND = {
    "decision": lazy_gettext("审批决定"),
    "village_certificate": lazy_gettext("村级证明"),
    "disclosure_sheet": lazy_gettext("公开栏公开内容"),
    "market_origin": lazy_gettext("农产品产地证明"),
    "county_decision": lazy_gettext("县级部门审批决定"),
}
FIELD = {  # in the order the page lists them
    "item_name": lazy_gettext("办理事项"),
    "item_code": lazy_gettext("事项编码"),
    "tracking_code": lazy_gettext("查询码"),
    "applicant": lazy_gettext("申请人"),
    "applicant_name": lazy_gettext("申请人"),
    "id_number": lazy_gettext("身份证号码"),
    "applicant_id_number": lazy_gettext("身份证号码"),
    "village": lazy_gettext("所在村"),
    "node_id": lazy_gettext("受理乡镇"),
    "decision": lazy_gettext("决定"),
    "action": lazy_gettext("决定"),
    "opinion": lazy_gettext("意见"),
    "department": lazy_gettext("决定部门"),
    "county": lazy_gettext("决定机关所在县"),
    "office": lazy_gettext("签发单位"),
    "decided_on": lazy_gettext("决定日期"),
    "decided_at": lazy_gettext("决定日期"),
    "issued_on": lazy_gettext("出具日期"),
    "certifies": lazy_gettext("证明内容"),
    "purpose": lazy_gettext("用途"),
    "valid_until": lazy_gettext("有效期至"),
    "sheet_title": lazy_gettext("公开事项"),
    "period": lazy_gettext("公开期间"),
    "published_on": lazy_gettext("公开日期"),
    "content": lazy_gettext("公开内容"),
    "online": lazy_gettext("网上公开地址"),
    "listing": lazy_gettext("供求信息编号"),
    "product": lazy_gettext("产品"),
    "township": lazy_gettext("所在乡镇"),
    "seller": lazy_gettext("卖家"),
    "confirmed_on": lazy_gettext("核实日期"),
}
OUTCOME = {
    "approved": lazy_gettext("批准"),
    "approve": lazy_gettext("批准"),
    "rejected": lazy_gettext("不予批准"),
    "reject": lazy_gettext("不予批准"),
    "return": lazy_gettext("退回补正"),
}
# Shown elsewhere on the page, or internal references that mean nothing to a reader.
HIDDEN = {
    "office_name",
    "office",
    "department",
    "county",
    "node_id",
    "application_id",
    "step_id",
    "facts",
    "applicant",
}
DATES = {"decided_on", "decided_at", "issued_on", "valid_until"}
NAMES = {"applicant_name"}


@dataclass(frozen=True)
class Row:
    """One labelled line of the check page."""

    label: str
    value: str


def _value(key: str, value: Any, office: OfficeName) -> str:
    text = str(value)
    if key in ("decision", "action"):
        return str(OUTCOME.get(text, text))
    if key == "office":
        return pick(office.zh, office.en)
    if key in DATES:
        return format_date(text[:10])
    if key in NAMES:
        return text if "*" in text else mask_name(text)
    return public_text(text)


def rows(payload: Mapping[str, Any], office: OfficeName, item: CatalogItem | None) -> list[Row]:
    """The payload as labelled lines; the applicant once (masked), the facts by the item's
    labels, empty fields left out."""
    hidden = HIDDEN - ({"applicant"} if "applicant_name" not in payload else set())
    order = {key: position for position, key in enumerate(FIELD)}
    keys = sorted(payload, key=lambda key: (order.get(key, len(order)), key))
    lines = [
        Row(str(FIELD.get(key, key)), _value(key, payload[key], office))
        for key in keys
        if key not in hidden and str(payload[key]).strip()
    ]
    facts = payload.get("facts")
    if isinstance(facts, dict) and item is not None:
        lines += [Row(f.label, public_text(f.value)) for f in readable_facts(item, facts)]
    elif isinstance(facts, dict):
        lines += [Row(str(k), public_text(str(v))) for k, v in facts.items()]
    return lines
