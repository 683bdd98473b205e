"""The shipped lexicons: documented, parseable, and every entry doing what its file says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chalicelib.rules.content import (
    MAX_VARIANTS,
    WORD_CATEGORIES,
    LexiconError,
    Lexicons,
    Moderator,
    default_lexicons,
    homophone_variants,
    parse_homophones,
    parse_lexicon,
)
from chalicelib.rules.normalize import LEXICON_DIR

DATA_FILES = sorted(LEXICON_DIR.glob("*.txt"))
LEXICONS = default_lexicons()
MODERATOR = Moderator.build()


@pytest.mark.parametrize("path", DATA_FILES, ids=[p.name for p in DATA_FILES])
def test_every_data_file_says_where_it_comes_from_and_why(path: Path) -> None:
    header = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    text = "\n".join(header)
    assert re.search(r"^# version: \S+", text, re.M)
    assert "# source:" in text
    assert "# rationale:" in text


def test_one_lexicon_per_category_of_modest_size() -> None:
    assert sorted(lexicon.category for lexicon in LEXICONS.lexicons) == sorted(WORD_CATEGORIES)
    for lexicon in LEXICONS.lexicons:
        assert 20 <= len(lexicon.terms) <= 200, lexicon.category


TERMS = [(lexicon.category, term.text) for lexicon in LEXICONS.lexicons for term in lexicon.terms]
ALIASES = [(lexicon.category, a) for lexicon in LEXICONS.lexicons for term in lexicon.terms for a in term.aliases]
INNOCENT = [word for lexicon in LEXICONS.lexicons for word in lexicon.innocent]


@pytest.mark.parametrize(("category", "word"), TERMS + ALIASES, ids=[f"{c}:{w}" for c, w in TERMS + ALIASES])
def test_every_term_and_alias_fires_on_its_own(category: str, word: str) -> None:
    # No innocent word, cue or boundary rule may silently disable a shipped entry.
    assert category in MODERATOR.categories(word)


@pytest.mark.parametrize("word", INNOCENT)
def test_every_innocent_word_passes_on_its_own(word: str) -> None:
    assert MODERATOR.scan(word) == []


def test_homophone_table_only_makes_variants_of_terms() -> None:
    (_, spinach), *_ = [row for row in LEXICONS.homophones if row[0] == "博彩"]
    assert "菠菜" in spinach
    assert MODERATOR.categories("菠菜") == frozenset()
    assert MODERATOR.categories("菠菜网站") == {"gambling"}


def test_lexicon_format() -> None:
    lexicon = parse_lexicon("# version: 7\n# comment\n赌博 = dubo, du博  # trailing\n\n!打赌\n", category="gambling")
    assert lexicon.version == "7"
    assert [(t.text, t.aliases) for t in lexicon.terms] == [("赌博", ("dubo", "du博"))]
    assert lexicon.innocent == ("打赌",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("赌博\n", "missing '# version:'"),
        ("# version: 1\n\n赌\n", "line 3: '赌' has fewer than two"),
        ("# version: 1\n赌博 = d\n", "line 2"),
        ("# version: 1\n!。\n", "line 2"),
    ],
)
def test_lexicon_errors_name_file_and_line(text: str, message: str) -> None:
    with pytest.raises(LexiconError, match=message):
        parse_lexicon(text, category="gambling", source="gambling.txt")


def test_homophone_errors() -> None:
    with pytest.raises(LexiconError, match="line 1"):
        parse_homophones("博彩 菠菜\n")
    with pytest.raises(LexiconError, match="empty"):
        parse_homophones("博彩 = 。\n")


def test_unknown_lexicon_category_is_refused() -> None:
    lexicon = parse_lexicon("# version: 1\n赌博\n", category="spam")
    with pytest.raises(LexiconError, match="unknown category"):
        Lexicons.of([lexicon], [], [], LEXICONS.links)


def test_variants_per_term_are_bounded() -> None:
    # 8 fragments with 3 alternatives each would make 4**8 spellings of one term; the automaton gets at most 32.
    table = tuple((c, (c + "1", c + "2", c + "3")) for c in "abcdefgh")
    variants = homophone_variants("abcdefgh", table)
    assert len(variants) == MAX_VARIANTS
    assert "abcdefgh" not in variants
    assert len(set(variants)) == len(variants)
    assert homophone_variants("博彩网站", (("博彩", ("菠菜", "波菜")),)) == ["菠菜网站", "波菜网站"]


def test_lexicon_version_follows_content() -> None:
    base = parse_lexicon("# version: 1\n赌博\n", category="gambling")
    changed = parse_lexicon("# version: 1\n赌博\n赌场\n", category="gambling")
    one = Lexicons.of([base], [], [], LEXICONS.links)
    assert one == Lexicons.of([base], [], [], LEXICONS.links)
    assert one != Lexicons.of([changed], [], [], LEXICONS.links)
    assert Moderator.build(one).categories("赌场") == frozenset()
    assert Moderator.build(Lexicons.of([changed], [], [], LEXICONS.links)).categories("赌场") == {"gambling"}
