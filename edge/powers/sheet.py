"""A power as the plain lines of a notice-board sheet (公开栏), in Chinese, the sealed language."""

from __future__ import annotations

from edge.powers.loader import PowerList
from edge.powers.power import Power


def power_lines(power: Power, powers: PowerList) -> tuple[str, ...]:
    """Everything the power's page says, one fact or step per line."""
    body = powers.bodies
    lines = [
        f"权力编码：{power.code}",
        "法定依据：" + "；".join(b.zh for b in power.legal_basis),
        "决策主体：" + "、".join(body[d].zh for d in power.deciders),
        "办理条件：" + "；".join(c.zh for c in power.conditions),
        "所需材料：" + "；".join(m.zh for m in power.materials),
    ]
    lines += [
        f"第{n}步 {body[s.actor].zh}：{s.action.zh}（{s.limit.zh}）→ {s.output.zh}"
        for n, s in enumerate(power.steps, start=1)
    ]
    lines += [
        f"办理时限：{power.time_limit.zh}",
        f"公开要求：{power.disclosure.zh}",
        f"监督渠道：{powers.supervision.zh}",
    ]
    return tuple(lines)
