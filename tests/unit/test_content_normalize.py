"""Folding: every evasion undone at once, and every folded character traced back to the one it came from."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.rules.normalize import HARD, INVISIBLE, NONE, SOFT, STOP, fold, fold_term, homoglyphs


def test_traditional_becomes_simplified_in_place() -> None:
    folded = fold("臺獨分子 賭博網站")
    assert folded.skeleton == "台独分子赌博网站"
    assert folded.skeleton_span(4, 8) == (5, 9)


def test_full_width_circled_and_mathematical_letters_fold_to_ascii() -> None:
    assert fold_term("ＳＢ") == "sb"
    assert fold_term("ⓢⓑ") == "sb"
    assert fold_term("𝐒𝐁") == "sb"
    assert fold("ＳＢ").altered == (True, True)
    assert fold("SB").altered == (False, False)  # case alone is no evasion


def test_cyrillic_and_greek_lookalikes_fold_to_latin() -> None:
    assert fold_term("ЅВ") == "sb"  # CYRILLIC DZE, CYRILLIC VE
    assert fold_term("ТМD") == "tmd"
    assert fold_term("ΒΑΝ") == "ban"
    assert homoglyphs()["\u0430"] == "a"


def test_radicals_fold_to_the_simplified_ideograph() -> None:
    assert fold_term("⺟") == "母"


def test_invisible_characters_vanish_but_are_remembered() -> None:
    folded = fold("赌\u200b博\u2062网\u3164站\ufe0f")
    assert folded.text == "赌博网站"
    assert folded.sep == (NONE, INVISIBLE, INVISIBLE, INVISIBLE)
    assert folded.gap == (0, 0, 0, 0)
    assert folded.skeleton_span(0, 4) == (0, 7)


def test_fillers_are_classed_and_counted() -> None:
    folded = fold("赌 博😀网，站。好")
    assert folded.skeleton == "赌博网站好"
    assert folded.sep == (NONE, SOFT, SOFT, HARD, STOP)
    assert folded.gap == (0, 1, 1, 1, 1)
    assert folded.text == "赌 博😀网,站。好"  # NFKC: the full-width comma is half-width now


def test_line_breaks_and_sentence_marks_end_sentences() -> None:
    assert fold("a\nb").sep == (NONE, STOP)
    assert fold("a！b").sep == (NONE, STOP)
    assert fold("a、b").sep == (NONE, HARD)


def test_expansions_map_every_piece_to_their_one_source_character() -> None:
    folded = fold("x㍿y")
    assert folded.skeleton == "x株式会社y"
    assert [folded.skeleton_span(k, k + 1) for k in range(6)] == [(0, 1), (1, 2), (1, 2), (1, 2), (1, 2), (2, 3)]


def test_text_view_keeps_punctuation_for_structured_detectors() -> None:
    folded = fold("ｈｔｔｐｓ：／／ｔ．ｃｎ／ａ")
    assert folded.text == "https://t.cn/a"
    assert folded.text_span(8, 12) == (8, 12)


@settings(deadline=None, max_examples=300)
@given(st.text(max_size=80))
def test_fold_is_a_consistent_map_for_any_text(text: str) -> None:
    folded = fold(text)
    n = len(folded.skeleton)
    assert len(folded.at) == len(folded.sep) == len(folded.gap) == len(folded.altered) == n
    assert len(folded.origin) == len(folded.text)
    assert list(folded.origin) == sorted(folded.origin)
    assert all(0 <= i < len(text) for i in folded.origin)
    assert all(folded.text[folded.at[k]] == folded.skeleton[k] for k in range(n))
    assert list(folded.at) == sorted(set(folded.at))
    for k in range(n):
        start, end = folded.skeleton_span(k, k + 1)
        assert 0 <= start < end <= len(text)
