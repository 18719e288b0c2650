"""Server-rendered SVG bar charts (no script): on-time rate per unit, for 360 px and print."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 360
LABEL_WIDTH = 120
BAR_WIDTH = 180
ROW = 26


@dataclass(frozen=True)
class Bar:
    """One bar: a label, a share 0-1 (None: nothing to show) and the text beside it."""

    label: str
    share: float | None
    note: str


def bar_chart(title: str, bars: list[Bar]) -> Markup:
    """A horizontal bar chart as inline SVG; colour is never the only cue (text beside)."""
    height = ROW * len(bars) + 8
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} '
        f'{height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        'xmlns="http://www.w3.org/2000/svg"><title>' + escape(title) + "</title>"
    ]
    for index, bar in enumerate(bars):
        y = 4 + index * ROW
        label = bar.label if len(bar.label) <= 9 else bar.label[:8] + "…"
        parts.append(f'<text x="0" y="{y + 16}" font-size="13">{escape(label)}</text>')
        parts.append(
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{BAR_WIDTH}" height="16" '
            'fill="none" stroke="#888"/>'
        )
        if bar.share is not None:
            width = round(BAR_WIDTH * max(0.0, min(bar.share, 1.0)), 1)
            fill = "#2e7d32" if bar.share >= 0.9 else "#b26a00" if bar.share >= 0.6 else "#b3261e"
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width}" height="16" fill="{fill}"/>'
            )
        parts.append(
            f'<text x="{LABEL_WIDTH + BAR_WIDTH + 4}" y="{y + 16}" font-size="12">'
            f"{escape(bar.note)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
