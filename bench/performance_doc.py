"""docs/performance.md: each bench script owns one `## ` section and replaces only that one."""

from __future__ import annotations

from pathlib import Path

HEADER = """# Performance

Figures measured by the scripts in bench/ (see bench/README.md), each section on the machine
it names. Rerun a script to refresh its section; the other sections are left as they are.
"""


def _section_end(lines: list[str], start: int) -> int:
    """The index of the next `## ` heading after `start`, or the end of the file."""
    for index in range(start + 1, len(lines)):
        if lines[index].startswith("## "):
            return index
    return len(lines)


def replace_section(path: Path, heading: str, section: str) -> None:
    """Put `section` (which starts with `heading`) in the file, replacing the old one if any."""
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    lines = text.rstrip("\n").splitlines()
    new = section.strip("\n").splitlines()
    if heading in lines:
        start = lines.index(heading)
        end = _section_end(lines, start)
        rest = ["", *lines[end:]] if end < len(lines) else []
        lines = [*lines[:start], *new, *rest]
    else:
        lines = [*lines, "", *new]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
