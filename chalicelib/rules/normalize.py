"""Folding Chinese chat text for matching, with a map back to the original characters.

Evasions members use against word filters (peers.md §5.2): Traditional script, full-width and circled letters,
Latin/Cyrillic look-alikes, and spaces, punctuation, emoji or zero-width characters slipped between the characters of
a word. `fold` undoes all of them at once and keeps, for every folded character, the index of the original character
it came from, so that a hit found in the folded text is reported on the member's own words.

Two views come out of one pass:
- `text`: every visible character folded (Traditional→Simplified, NFKC, case folding, look-alikes), invisible ones
  dropped. Structured detectors (links, phone and ID numbers) run on it: they need the punctuation.
- `skeleton`: only letters, digits and ideographs. Word lists run on it, so "赌 . 博" and "赌\u200b博" read 赌博;
  `sep` and `gap` remember what stood between two skeleton characters, so that the matcher can tell an evasion from
  two words that merely meet across a comma (content.py decides what to do with that).

Pure: no I/O besides reading the look-alike table shipped with the lexicons, once.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Final

import opencc

LEXICON_DIR: Final = Path(__file__).resolve().parent.parent / "policies" / "lexicons"

# What stands between two skeleton characters, weakest to strongest. A match may bridge any of them (that is what an
# evasion looks like); innocent words may not bridge HARD (punctuation ends a word), and a prohibition (禁止…) does
# not reach past STOP (the end of its sentence).
NONE: Final = 0
INVISIBLE: Final = 1  # zero-width and format characters, combining marks: never a word boundary
SOFT: Final = 2  # spaces, symbols, emoji
HARD: Final = 3  # punctuation
STOP: Final = 4  # the end of a sentence or line: 。！？；and line breaks

_STOPS: Final = frozenset("\n\r\u2028\u2029。！？；!?;｡")
# Letters that render as blanks but are classed as letters: used to pad words invisibly.
_BLANK_LETTERS: Final = frozenset("\u115f\u1160\u3164\uffa0")


@dataclass(frozen=True, slots=True)
class Folded:
    """A message folded for matching. Indices into `text` and `skeleton` map back through `origin`."""

    original: str
    text: str
    origin: tuple[int, ...]  # text index -> index of the original character it came from
    skeleton: str
    at: tuple[int, ...]  # skeleton index -> text index
    sep: tuple[int, ...]  # strongest filler class between skeleton k-1 and k (NONE for k == 0)
    gap: tuple[int, ...]  # visible filler characters between skeleton k-1 and k
    altered: tuple[bool, ...]  # skeleton character came from a width/circled/look-alike form

    def text_span(self, start: int, end: int) -> tuple[int, int]:
        """Original span of text[start:end] (end exclusive, non-empty)."""
        return self.origin[start], self.origin[end - 1] + 1

    def skeleton_span(self, start: int, end: int) -> tuple[int, int]:
        """Original span of skeleton[start:end] (end exclusive, non-empty)."""
        return self.origin[self.at[start]], self.origin[self.at[end - 1]] + 1


def fold(original: str) -> Folded:
    converted = _to_simplified(original)
    text: list[str] = []
    origin: list[int] = []
    skeleton: list[str] = []
    at: list[int] = []
    sep: list[int] = []
    gap: list[int] = []
    altered: list[bool] = []
    folds = _FOLDS
    pending_sep = NONE
    pending_gap = 0
    # The hot loop of every scan: locals only, one cached lookup per character.
    for index, char in enumerate(converted):
        pieces, changed = folds[char]
        for piece, klass in pieces:
            if klass == NONE:
                at.append(len(text))
                text.append(piece)
                origin.append(index)
                skeleton.append(piece)
                sep.append(pending_sep)
                gap.append(pending_gap)
                altered.append(changed)
                pending_sep = NONE
                pending_gap = 0
                continue
            if klass != INVISIBLE:
                text.append(piece)
                origin.append(index)
                pending_gap += 1
            if klass > pending_sep:
                pending_sep = klass
    if skeleton:
        sep[0] = NONE  # what precedes the first character separates it from nothing
        gap[0] = 0
    return Folded(
        original=original,
        text="".join(text),
        origin=tuple(origin),
        skeleton="".join(skeleton),
        at=tuple(at),
        sep=tuple(sep),
        gap=tuple(gap),
        altered=tuple(altered),
    )


def fold_term(term: str) -> str:
    """The skeleton a lexicon entry is matched as (same folding as messages)."""
    return fold(term).skeleton


def is_latin(char: str) -> bool:
    """ASCII letters and digits: words written in them need word boundaries, ideographs do not."""
    return char.isascii() and char.isalnum()


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _to_simplified(text: str) -> str:
    # Whole-text conversion uses OpenCC's phrase tables (乾隆 stays, 乾淨 -> 干净). A phrase that changes length would
    # break the 1:1 index map, so then fall back to character by character (still correct for moderation purposes).
    try:
        converted = _converter().convert(text)
    except UnicodeEncodeError:  # a lone surrogate (JSON can carry one) cannot reach OpenCC's UTF-8 interface
        converted = ""
    if len(converted) == len(text):
        return converted
    return "".join(_char_to_simplified(char) for char in text)


@lru_cache(maxsize=4096)
def _char_to_simplified(char: str) -> str:
    try:
        converted = _converter().convert(char)
    except UnicodeEncodeError:
        return char
    return converted if len(converted) == 1 else char


class _FoldTable(dict[str, tuple[tuple[tuple[str, int], ...], bool]]):
    """Per-character folds, computed on first sight: a cache of a pure function, bounded."""

    def __missing__(self, char: str) -> tuple[tuple[tuple[str, int], ...], bool]:
        folded = _fold_char(char)
        if len(self) < 65536:
            self[char] = folded
        return folded


_FOLDS: Final = _FoldTable()


def _fold_char(char: str) -> tuple[tuple[tuple[str, int], ...], bool]:
    """(folded pieces with their class, whether a width/look-alike fold changed a letter)."""
    lookalikes = homoglyphs()
    if char in lookalikes:
        return ((lookalikes[char], NONE),), True
    normalized = unicodedata.normalize("NFKC", char)
    changed = normalized != char
    if changed and len(normalized) == 1 and "\u3400" <= normalized <= "\u9fff":
        normalized = _char_to_simplified(normalized)  # a radical or compatibility form of a Traditional character
    pieces = []
    for piece in normalized.casefold():
        piece = lookalikes.get(piece, piece)
        pieces.append((piece, _classify(piece)))
    return tuple(pieces), changed


def _classify(char: str) -> int:
    if char in _BLANK_LETTERS:
        return INVISIBLE
    if char in _STOPS:
        return STOP
    category = unicodedata.category(char)
    major = category[0]
    if major in "LN":
        return NONE
    if category in ("Cf", "Mn", "Me", "Cc") and not char.isspace():
        return INVISIBLE
    if major == "P":
        return HARD
    return SOFT  # spaces, symbols, emoji, private use, unassigned


@lru_cache(maxsize=1)
def homoglyphs() -> MappingProxyType[str, str]:
    """Look-alike letters folded to ASCII, from lexicons/homoglyphs.txt (`U+0430 a  # CYRILLIC SMALL LETTER A`)."""
    table: dict[str, str] = {}
    for number, raw in enumerate((LEXICON_DIR / "homoglyphs.txt").read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        code, _, target = line.partition(" ")
        target = target.strip()
        if not code.startswith("U+") or len(target) != 1 or not is_latin(target):
            raise ValueError(f"homoglyphs.txt line {number}: expected 'U+XXXX x', got {raw!r}")
        table[chr(int(code[2:], 16))] = target
    return MappingProxyType(table)
