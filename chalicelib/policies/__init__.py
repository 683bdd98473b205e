"""Policy data shipped inside the Lambda bundle: the seed rulebooks (rulebooks.md), the policies (*.yaml) and their
JSON Schema. This module reads rulebooks.md into clauses; chalicelib.rules.policy reads the policies.

rulebooks.md is data with commentary around it: only `## [N] 篇X：NAME`, `### [ID] TITLE` and `- [ID] TEXT` lines count
(the file's header says what they mean). It is parsed once per container and cached: clause ids are what policies
cite, so a malformed file fails loudly at the first lookup instead of silently dropping a clause.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

POLICY_DIR = Path(__file__).resolve().parent
RULEBOOKS_PATH = POLICY_DIR / "rulebooks.md"

CLAUSE_ID = re.compile(r"^[1-9][0-9]*(\.[1-9][0-9]*)*$")
_RULEBOOK_LINE = re.compile(r"^## \[(?P<id>[^\]]*)\] (?P<label>篇\S+?)：(?P<name>\S.*)$")
_SECTION_LINE = re.compile(r"^### \[(?P<id>[^\]]*)\] (?P<title>\S.*)$")
_CLAUSE_LINE = re.compile(r"^- \[(?P<id>[^\]]*)\] (?P<text>\S.*)$")


class RulebookFormatError(ValueError):
    """rulebooks.md does not follow its line format (the message names the line)."""


@dataclass(frozen=True, slots=True)
class Rulebook:
    id: str  # "1" … "4"
    label: str  # 篇一
    name: str  # the group or organisation the rulebook was written for: ART精英交流群, 酒神公司, …
    clause_ids: tuple[str, ...]  # in document order


@dataclass(frozen=True, slots=True)
class Clause:
    id: str  # "1.4.2" = 篇一 四(2)
    rulebook: str
    text: str
    section: str | None  # the heading it stands under (总则, 基本要求, …), None for a clause outside any section


def parse_rulebooks(text: str) -> tuple[dict[str, Rulebook], dict[str, Clause]]:
    """Parse the rulebooks.md format; raises RulebookFormatError naming the offending line."""
    books: dict[str, Rulebook] = {}
    found: dict[str, Clause] = {}
    sections: dict[str, str] = {}
    current: str | None = None

    def fail(number: int, message: str) -> RulebookFormatError:
        return RulebookFormatError(f"rulebooks.md:{number}: {message}")

    def close(book_id: str | None) -> None:
        if book_id is not None:
            book = books[book_id]
            ids = tuple(c for c in found if found[c].rulebook == book_id)
            books[book_id] = Rulebook(book.id, book.label, book.name, ids)

    for number, line in enumerate(text.splitlines(), start=1):
        if match := _RULEBOOK_LINE.match(line):
            book_id = match["id"]
            if not CLAUSE_ID.match(book_id) or "." in book_id:
                raise fail(number, f"rulebook id {book_id!r} is not a number")
            if book_id in books:
                raise fail(number, f"rulebook {book_id} appears twice")
            close(current)
            current = book_id
            books[book_id] = Rulebook(book_id, match["label"], match["name"].strip(), ())
        elif match := _SECTION_LINE.match(line):
            section_id = match["id"]
            if current is None or not section_id.startswith(f"{current}.") or not CLAUSE_ID.match(section_id):
                raise fail(number, f"section {section_id!r} is outside rulebook {current}")
            if section_id in sections:
                raise fail(number, f"section {section_id} appears twice")
            sections[section_id] = match["title"].strip()
        elif match := _CLAUSE_LINE.match(line):
            clause_id = match["id"]
            if current is None or not clause_id.startswith(f"{current}.") or not CLAUSE_ID.match(clause_id):
                raise fail(number, f"clause {clause_id!r} is outside rulebook {current}")
            if clause_id in found:
                raise fail(number, f"clause {clause_id} appears twice")
            # A clause stands under the section named by its own id (1.1 总则) or by its parent's (1.2.3 → 1.2).
            parent = clause_id.rsplit(".", 1)[0]
            section = sections.get(clause_id) or sections.get(parent)
            if section is None and parent != current:
                raise fail(number, f"clause {clause_id} has no section {parent}")
            found[clause_id] = Clause(clause_id, current, match["text"].strip(), section)
    close(current)
    empty = [book.id for book in books.values() if not book.clause_ids]
    if empty:
        raise RulebookFormatError(f"rulebooks.md: rulebook {', '.join(empty)} has no clause")
    return books, found


@cache
def _load() -> tuple[Mapping[str, Rulebook], Mapping[str, Clause]]:
    books, found = parse_rulebooks(RULEBOOKS_PATH.read_text(encoding="utf-8"))
    return MappingProxyType(books), MappingProxyType(found)


def rulebooks() -> Mapping[str, Rulebook]:
    """The seed rulebooks by id ("1" = 篇一 … "4" = 篇四). Read-only and cached."""
    return _load()[0]


def clauses() -> Mapping[str, Clause]:
    """Every clause of every seed rulebook by id, in document order. Read-only and cached."""
    return _load()[1]
