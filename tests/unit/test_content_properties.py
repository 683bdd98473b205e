"""Properties of scan over any text: it never raises, its spans and excerpts are sound, and it composes.

Composition is how these tests say "linear" without a clock (DESIGN.md §5, §6): two texts joined by a blank stretch
wider than any word may bridge scan to exactly the hits of each part, so the work on a long text is the sum of the
work on its pieces, and no interaction between distant parts can build up.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.rules.content import CATEGORIES, EXCERPT_LENGTH, MAX_GAP, Hit, Moderator

MODERATOR = Moderator.build(tenant_terms={"confidential": ["凤凰计划"]})

# Pieces of real terms, innocent words, cues and evasion material, so generated texts reach the deep branches.
PIECES = [
    "赌", "博", "大麻", "烦", "台", "独", "舞台", "独白", "菠菜", "网站", "傻逼", "SB", "ＳＢ", "Ѕ", "В", "s", "b",
    "U", "严禁", "不", "反对", "。", "，", "、", " ", "\u200b", "\u2062", "😀", "\n", "臺獨", "賭", "ｈｔｔｐ：／／",
    "http://", "t.cn/", "dwz。cn/x", ".apk", "1.2.3.4:80/", "138", "1234", "5678", "+86-", "11010519491231002X",
    "凤凰", "计划", "机密", "请勿外传", "ⓢ", "㍿", "⺟", "x", "9", "-", "/", "@", "a片区", "法轮功", "\u3164",
    "\ud800", "\udfff", "\x00", "\U0010ffff", "\U000f0000",
]  # fmt: skip
texts = st.one_of(
    st.text(max_size=60),
    st.text(st.characters(exclude_categories=()), max_size=30),  # lone surrogates too: JSON can carry them
    st.lists(st.sampled_from(PIECES), max_size=25).map("".join),
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=20).map("".join),
)


def _sound(text: str, hits: list[Hit]) -> None:
    for hit in hits:
        assert 0 <= hit.start < hit.end <= len(text)
        assert hit.category in CATEGORIES
        assert hit.kind in ("plain", "evasion", "link", "confidential")
        assert (hit.kind == "link") == (hit.category == "malicious_links")
        assert len(hit.excerpt) <= EXCERPT_LENGTH
        assert "\n" not in hit.excerpt
    assert [(h.start, h.end) for h in hits] == sorted((h.start, h.end) for h in hits)


@settings(deadline=None, max_examples=400)
@given(texts)
def test_scan_never_raises_and_its_hits_are_sound(text: str) -> None:
    _sound(text, MODERATOR.scan(text))


@settings(deadline=None, max_examples=200)
@given(texts, texts)
def test_scan_composes_over_a_blank_stretch(left: str, right: str) -> None:
    separator = "\n" * (MAX_GAP + 1)
    joined = left + separator + right
    offset = len(left) + len(separator)

    def key(hit: Hit, shift: int = 0) -> tuple[str, str, str, int, int, tuple[str, ...]]:
        return (hit.category, hit.kind, hit.term, hit.start + shift, hit.end + shift, hit.why)

    expected = [key(h) for h in MODERATOR.scan(left)] + [key(h, offset) for h in MODERATOR.scan(right)]
    assert sorted(key(h) for h in MODERATOR.scan(joined)) == sorted(expected)


@settings(deadline=None, max_examples=50)
@given(
    st.sampled_from(["大麻烦", "赌 博", "舞台独白", "傻逼", "t.cn/ab ", "13812345678 ", "严禁赌博，"]),
    st.integers(1, 400),
)
def test_repeated_material_gives_proportional_results(unit: str, times: int) -> None:
    # Adversarial repetition (overlapping innocent words, cues, separators) must not make hits interact.
    one = MODERATOR.scan(unit + "\n" * (MAX_GAP + 1))
    many = MODERATOR.scan((unit + "\n" * (MAX_GAP + 1)) * times)
    assert len(many) == len(one) * times
