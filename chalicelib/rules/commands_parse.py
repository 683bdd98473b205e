"""Reading what a person typed: the command word and its arguments, clause references (篇二 3.2, 2.3.2, 篇一 四(2)),
@-mentions and ledger entry ids. Pure."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import TYPE_CHECKING

from chalicelib.policies import CLAUSE_ID, clauses
from chalicelib.record import Record
from chalicelib.rules.compiled import CompiledPolicy
from chalicelib.texts.citations import clause_label

if TYPE_CHECKING:
    from chalicelib.store.models import LedgerEntry

# Command word → canonical command. Aliases a member would plausibly type are included.
WORDS: dict[str, str] = {
    "帮助": "帮助",
    "help": "帮助",
    "?": "帮助",
    "改昵称": "改昵称",
    "群昵称": "改昵称",
    "免打扰": "免打扰",
    "群规": "群规",
    "我的记录": "我的记录",
    "为什么": "为什么",
    "记录": "记录",
    "豁免": "豁免",
    "已缴": "已缴",
    "确认": "确认",
    "警告": "警告",
    "影子报告": "影子报告",
    # Accepting the rules when the welcome asks (篇三 5 认可本群“群规”). Not 收到: that is how members acknowledge a
    # leader's task or a notice in the group (ack_terms), and must stay group talk.
    "同意": "同意",
}
ADMIN_COMMANDS = frozenset({"记录", "豁免", "已缴", "确认", "警告", "影子报告"})

_TRAILING = "。.!！?？~～ "
# Ledger ids are "L" + 8 base32 characters (chalicelib.rules.moderation.entry_id).
_ENTRY_ID = re.compile(r"L[A-Z2-7]{8}(?![A-Z0-9])", re.IGNORECASE)
_ID_LENGTH = 9
# Arguments may follow some words without a space ("群规2.3.2", "豁免LABCDEFGH 误判", "记录@zhangsan"); any other
# text glued to a word ("确认收到", "群规助手") is talk, not a command.
_GLUED = {
    "群规": re.compile(r"[篇0-9【]"),
    "为什么": re.compile(r"我?(被|要|会)?(警告|罚|扣|提醒|记)"),
    "记录": re.compile(r"@"),
    "警告": re.compile(r"@"),
    "豁免": _ENTRY_ID,
    "已缴": _ENTRY_ID,
    "确认": _ENTRY_ID,
    "同意": re.compile(r"(遵守)?(本群)?群规"),
}


class Parsed(Record):
    command: str  # the canonical word
    rest: str  # the arguments, NFKC-folded and trimmed


def fold(text: str) -> str:
    """NFKC (full-width ？, Ｈｅｌｐ, （２） count as their ASCII forms), trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


def command_word(text: str) -> str:
    """The whole message as a bare command: folded, trailing punctuation dropped, lower-cased."""
    folded = fold(text)
    stripped = folded.rstrip(_TRAILING) or folded
    return stripped.lower()


def parse(text: str) -> Parsed | None:
    """The command a message asks for, or None for anything else (which gets the help text where we answer).
    Words and ids match NFKC-folded; free text (a waiver's reason, a warning's note) keeps what the admin typed."""
    bare = command_word(text)
    if bare in WORDS:
        return Parsed(command=WORDS[bare], rest="")
    original = text.strip()
    lowered = fold(original).lower()
    for word in sorted(WORDS, key=len, reverse=True):
        if not lowered.startswith(word):
            continue
        rest = original[_original_length(original, word) :]
        glued = _GLUED.get(WORDS[word])
        if rest[:1].isspace() or (glued is not None and glued.match(fold(rest))):
            return Parsed(command=WORDS[word], rest=rest.strip())
    return None


def _original_length(original: str, word: str) -> int:
    """How many characters of `original` fold to `word` (NFKC may change lengths: ｈｅｌｐ, ㎏)."""
    for end in range(len(original) + 1):
        if fold(original[:end]).lower() == word:
            return end
    return len(word)


def split_first(text: str) -> tuple[str, str]:
    head, _, tail = text.strip().partition(" ")
    return head, tail.strip()


def mention(text: str) -> tuple[str, str]:
    """(UserID, the rest) from "@zhangsan …" or "zhangsan …": the token after @ is taken as the UserID, since a
    display name cannot be resolved without the directory."""
    head, rest = split_first(" ".join(text.split()))
    return fold(head).lstrip("@").rstrip(_TRAILING), rest


def entry_ref(text: str) -> tuple[str, str]:
    """(the entry id admins typed, upper-cased; "" if none, the rest). An id may be glued to what follows it."""
    text = text.strip()
    match = _ENTRY_ID.match(fold(text[:10]))  # ids are ASCII: a folded character stays one character
    if match is not None and match.end() == _ID_LENGTH:
        return match.group(0).upper(), text[_ID_LENGTH:].strip()
    head, rest = split_first(text)
    return fold(head).rstrip(_TRAILING).upper(), rest


def _squeeze(text: str) -> str:
    return "".join(fold(text).split()).strip("【】[]").rstrip(_TRAILING + "，,")


@cache
def _labels() -> dict[str, str]:
    """Every way a seed clause is written by people → its id: 篇一四(2), 篇一四、2, 篇一四.2, 篇二3.2, 篇三9."""
    found: dict[str, str] = {}
    for clause_id in clauses():
        label = _squeeze(clause_label(clause_id))
        found[label] = clause_id
        if label.endswith(")") and "(" in label:
            base, _, item = label[:-1].partition("(")
            found.setdefault(f"{base}、{item}", clause_id)
            found.setdefault(f"{base}.{item}", clause_id)
    return found


def _known(clause_id: str, policy: CompiledPolicy) -> bool:
    return clause_id in clauses() or any(rule.clause == clause_id for rule in policy.rules)


_BOOK_LABEL = re.compile(r"篇[一二三四五六七八九十]")


def clause_ref(text: str, policy: CompiledPolicy) -> tuple[str | None, str]:
    """(clause id, the rest of the text) from a reference at the start of `text`: a label (篇二 3.2, 篇一 四(2)),
    an id (2.3.2, or a tenant's own clause id the policy cites), or a rule id of the policy (content.harmful)."""
    tokens = text.replace("【", " ").replace("】", " ").split()
    if not tokens:
        return None, ""
    if _BOOK_LABEL.match(fold(tokens[0])):
        # "篇一 四(2)" is two tokens, "篇一四(2)" one; a bare "篇一" names the rulebook, not a clause.
        for width in (2, 1):
            found = _labels().get(_squeeze("".join(tokens[:width])))
            if found:
                return found, " ".join(tokens[width:])
        return None, " ".join(tokens[1:])
    head = _squeeze(tokens[0])
    rest = " ".join(tokens[1:])
    if (CLAUSE_ID.match(head) or any(rule.clause == head for rule in policy.rules)) and _known(head, policy):
        return head, rest
    for rule in policy.rules:
        if rule.id == head:
            return rule.clause, rest
    return None, rest


MANUAL_PREFIX = "manual:"


def manual_rule(clause_id: str) -> str:
    """The rule id of an admin's manual warning for a clause no rule of the policy enforces."""
    return f"{MANUAL_PREFIX}{clause_id}"


def clause_of(entry: LedgerEntry, policy: CompiledPolicy) -> str | None:
    """The clause id an entry was decided under: entries snapshot the clause text, not its id, so the id comes from
    the rule (the policy's rule of that id) or from a manual warning's rule id."""
    rule_id = entry.rule or ""
    if rule_id.startswith(MANUAL_PREFIX):
        return rule_id[len(MANUAL_PREFIX) :] or None
    for rule in policy.rules:
        if rule.id == rule_id:
            return rule.clause
    return None


def label_of(entry: LedgerEntry, policy: CompiledPolicy) -> str | None:
    clause_id = clause_of(entry, policy)
    return clause_label(clause_id) if clause_id else None
