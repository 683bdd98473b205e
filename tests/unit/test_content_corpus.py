"""The labelled corpus (tests/corpus/messages.yaml): every message is classified exactly as labelled.

Targets from issue 5: recall ≥ 0.95 on plain violations, ≥ 0.9 on evasions, no innocent or work message flagged.
The per-message test is stricter (every message exact); the aggregate test states the targets themselves, so that a
relabelled corpus cannot quietly drop below them. bench/moderation.py reports the same numbers per category.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from chalicelib.rules.content import CATEGORIES, Hit, Moderator
from chalicelib.rules.normalize import fold, fold_term

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "messages.yaml"
KINDS = ("plain", "evasion", "innocent", "work")


def _load() -> dict[str, Any]:
    return yaml.safe_load(CORPUS.read_text(encoding="utf-8"))


DATA = _load()
MESSAGES: list[dict[str, Any]] = DATA["messages"]


@pytest.fixture(scope="module")
def moderator() -> Moderator:
    return Moderator.build(tenant_terms=DATA["tenant"]["terms"])


def test_corpus_is_large_and_covers_every_category_both_ways() -> None:
    assert len(MESSAGES) >= 200
    assert {m["kind"] for m in MESSAGES} == set(KINDS)
    for message in MESSAGES:
        assert set(message["categories"]) <= set(CATEGORIES), message
        assert bool(message["categories"]) == (message["kind"] in ("plain", "evasion")), message
    for kind in ("plain", "evasion"):
        seen = Counter(c for m in MESSAGES if m["kind"] == kind for c in m["categories"])
        assert set(seen) == set(CATEGORIES), f"{kind}: missing {set(CATEGORIES) - set(seen)}"
        assert min(seen.values()) >= 5, seen
    assert sum(m["kind"] == "innocent" for m in MESSAGES) >= 40
    assert sum(m["kind"] == "work" for m in MESSAGES) >= 40
    assert len({m["text"] for m in MESSAGES}) == len(MESSAGES), "duplicate texts"


@pytest.mark.parametrize(
    "message",
    MESSAGES,
    ids=[f"{i:03d}-{m['kind']}-{'+'.join(m['categories']) or 'none'}" for i, m in enumerate(MESSAGES)],
)
def test_message_is_classified_as_labelled(moderator: Moderator, message: dict[str, Any]) -> None:
    hits = moderator.scan(message["text"])
    assert {h.category for h in hits} == set(message["categories"]), [(h.category, h.term, h.why) for h in hits]


def test_targets_recall_by_kind_and_no_false_alarm(moderator: Moderator) -> None:
    found: Counter[str] = Counter()
    expected: Counter[str] = Counter()
    flagged_clean = []
    for message in MESSAGES:
        got = moderator.categories(message["text"])
        if message["kind"] in ("innocent", "work"):
            if got:
                flagged_clean.append(message["text"])
            continue
        for category in message["categories"]:
            expected[message["kind"]] += 1
            found[message["kind"]] += category in got
    assert found["plain"] / expected["plain"] >= 0.95
    assert found["evasion"] / expected["evasion"] >= 0.9
    assert flagged_clean == []


def _span_is_tight(text: str, hit: Hit) -> bool:
    """A hit starts and ends on a letter, digit or ideograph of the original text: no filler at its edges."""
    inner = text[hit.start : hit.end]
    return bool(inner) and fold(inner[0]).skeleton != "" and fold(inner[-1]).skeleton != ""


def test_spans_map_back_to_the_words_in_the_original(moderator: Moderator) -> None:
    checked = 0
    for message in MESSAGES:
        text = message["text"]
        for hit in moderator.scan(text):
            assert 0 <= hit.start < hit.end <= len(text)
            if hit.kind in ("plain", "evasion"):
                assert _span_is_tight(text, hit), (text, hit)
            if hit.kind == "plain" or (hit.kind == "evasion" and not {"alias", "homophone"} & set(hit.why)):
                # Undo the evasion on the span alone and the term itself comes back: the span is the term.
                assert fold_term(text[hit.start : hit.end]) == fold_term(hit.term), (text, hit)
                checked += 1
    assert checked > 100
