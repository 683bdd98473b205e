"""How a clause is named to people: 篇二 3.2, 篇一 四(2), 篇三 9, 篇四 三(4) — the numbering each rulebook uses."""

from __future__ import annotations

RULEBOOK_LABELS = {"1": "篇一", "2": "篇二", "3": "篇三", "4": "篇四"}
_CHINESE_NUMERALS = "零一二三四五六七八九十"
# 篇一 and 篇四 number their parts 一、二、… and the items (1)… or 1.…; 篇二 and 篇三 use 3.2 and 9.
_CHINESE_PARTS = {"1", "4"}


def clause_label(clause_id: str) -> str:
    book, _, rest = clause_id.partition(".")
    label = RULEBOOK_LABELS.get(book)
    if label is None:
        return clause_id  # a tenant's own clause (e.g. "acme.3") is shown as its id
    if not rest:
        return label
    if book not in _CHINESE_PARTS:
        return f"{label} {rest}"
    part, _, item = rest.partition(".")
    numeral = _CHINESE_NUMERALS[int(part)] if part.isdigit() and int(part) <= 10 else part
    return f"{label} {numeral}({item})" if item else f"{label} {numeral}"


def clause_text(clause_id: str | None) -> str:
    if not clause_id:
        return ""
    from chalicelib.policies import clauses

    clause = clauses().get(clause_id)
    return clause.text if clause else ""


def cite(clause_id: str | None) -> str:
    """【群规 篇二 3.2】群成员一律实名制。… — the form every member- and admin-facing message quotes."""
    if not clause_id:
        return ""
    return f"【群规 {clause_label(clause_id)}】{clause_text(clause_id)}"
