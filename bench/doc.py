"""docs/benchmarks.md is shared by several bench scripts: each owns one section between `<!-- {name}:start -->` and
`<!-- {name}:end -->`, and rewrites only that one, so any script can be rerun alone without losing the others' numbers.

The file is generated: the title and intro are rebuilt from SECTIONS on every write, the sections are kept in
SECTIONS' order (unknown ones after them, as found), and anything else outside the markers is dropped (that is how the
old unmarked report of bench/run.py leaves the file). Change the scripts, not the file.
"""

from __future__ import annotations

import re
from pathlib import Path

# name → (script that writes it, what it measures), in the order the sections appear in the file.
SECTIONS = {
    "callbacks": ("bench/run.py", "cold start to the first answered callback, import time, AWS calls per message"),
    "moderation": ("bench/moderation.py", "moderation precision/recall and speed vs lexicon size and text length"),
    "outbox": ("bench/outbox.py", "outbox delivery throughput to the fake WeCom and DynamoDB requests per message"),
    "local-stack": ("bench/dev_start.py", "`qungui dev` start to ready and to its first answered HTTP request"),
}

_BLOCK = re.compile(r"<!-- (?P<name>[\w.-]+):start -->\n(?P<body>.*?)<!-- (?P=name):end -->\n?", re.S)


def _intro() -> str:
    parts = [f"`{name}` by `{script}` ({what})" for name, (script, what) in SECTIONS.items()]
    return (
        "# Benchmarks\n\n"
        "Written by the scripts in `bench/` (`make bench` runs them all, see `bench/README.md`); budgets in "
        "DESIGN.md §5 and the issues' “Done when”. Each script rewrites only its own section, between "
        "`<!-- name:start -->` and `<!-- name:end -->` markers, so one can be rerun alone; each section says when, "
        f"how and on what machine it was measured. Sections: {'; '.join(parts)}.\n"
    )


def sections_of(text: str) -> dict[str, str]:
    """The sections' bodies by name, in file order."""
    return {match["name"]: match["body"] for match in _BLOCK.finditer(text)}


def write_section(path: Path, name: str, text: str) -> None:
    """Replace section `name` of the Markdown file at `path` with `text` (added when absent), keeping the others."""
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    sections = sections_of(current)
    sections[name] = text if text.endswith("\n") else text + "\n"
    ordered = [known for known in SECTIONS if known in sections]
    ordered += [other for other in sections if other not in SECTIONS]
    blocks = [f"<!-- {section}:start -->\n{sections[section]}<!-- {section}:end -->\n" for section in ordered]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([_intro(), *blocks]), encoding="utf-8")
