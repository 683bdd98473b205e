"""Moderation benchmark (issue 5, DESIGN.md §5): quality over the labelled corpus and speed vs lexicon size.

1. Precision and recall per category and per kind over tests/corpus/messages.yaml, scanned by the shipped lexicons
   plus the corpus's tenant settings (as tests/unit/test_content_corpus.py does).
2. Messages/s with a 100-term lexicon and with the same 100 terms plus 9,900 synthetic ones (deterministic), over
   the corpus messages; target: the ratio stays within 1.5× (an automaton, not a loop over words).
3. Characters/s over texts of growing length (corpus messages joined), to show the cost is linear in the text.

Usage: python bench/moderation.py [--runs N] [--rounds R] [--output docs/benchmarks.md]. Prints the report, and
writes it into the output file as section `moderation` (bench/doc.py), leaving the other scripts' sections as they are.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from doc import write_section

ROOT = Path(__file__).resolve().parent.parent
# This checkout's code, whichever checkout `pip install -e` last pointed the environment at.
sys.path.insert(0, str(ROOT))

from chalicelib.rules.content import CATEGORIES, Lexicon, Lexicons, Moderator, Term, default_lexicons  # noqa: E402

CORPUS = ROOT / "tests" / "corpus" / "messages.yaml"
DEFAULT_OUTPUT = ROOT / "docs" / "benchmarks.md"

RATIO_TARGET = 1.5
TARGETS = {"plain": 0.95, "evasion": 0.9}
SMALL, LARGE = 100, 10_000
SEED = 20261127
# Common ideographs (the CJK Unified block's first part) as material for synthetic terms.
IDEOGRAPHS = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]


@dataclass(frozen=True)
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Score) -> Score:
        return Score(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def load_corpus() -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    data = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    return data["messages"], data["tenant"]["terms"]


def quality(moderator: Moderator, messages: list[dict[str, Any]]) -> dict[str, Any]:
    by_category: dict[str, Score] = {c: Score() for c in CATEGORIES}
    by_kind: dict[str, Score] = {}
    flagged: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    misses = []
    for message in messages:
        kind = message["kind"]
        counts[kind] += 1
        expected = set(message["categories"])
        got = moderator.categories(message["text"])
        if got != expected:
            misses.append((message["text"], sorted(expected), sorted(got)))
        if kind in ("innocent", "work") and got:
            flagged[kind] += 1
        for category in CATEGORIES:
            score = Score(
                tp=int(category in got and category in expected),
                fp=int(category in got and category not in expected),
                fn=int(category not in got and category in expected),
            )
            by_category[category] += score
            by_kind[kind] = by_kind.get(kind, Score()) + score
    return {"category": by_category, "kind": by_kind, "flagged": flagged, "counts": counts, "misses": misses}


def synthetic_terms(count: int, avoid: Sequence[str]) -> list[str]:
    """Deterministic 2–5 ideograph terms that occur in no corpus message, so every configuration finds the same
    hits and only the automaton's size differs."""
    rng = random.Random(SEED)
    corpus = "\n".join(avoid)
    terms: list[str] = []
    seen: set[str] = set()
    while len(terms) < count:
        term = "".join(rng.choice(IDEOGRAPHS) for _ in range(rng.randint(2, 5)))
        if term not in seen and term not in corpus:
            seen.add(term)
            terms.append(term)
    return terms


def sized_lexicons(base: Lexicons, real_terms: int, synthetic: list[str]) -> Lexicons:
    """The first `real_terms` shipped terms (taken round-robin over categories) plus synthetic ones spread over the
    categories; innocent words, homophones, prohibition cues and link data as shipped."""
    queues = {lexicon.category: list(lexicon.terms) for lexicon in base.lexicons}
    picked: dict[str, list[Term]] = {category: [] for category in queues}
    while sum(map(len, picked.values())) < real_terms and any(queues.values()):
        for category, queue in queues.items():
            if queue and sum(map(len, picked.values())) < real_terms:
                picked[category].append(queue.pop(0))
    categories = list(queues)
    for i, term in enumerate(synthetic):
        picked[categories[i % len(categories)]].append(Term(term))
    lexicons = [
        Lexicon(lexicon.category, lexicon.version, tuple(picked[lexicon.category]), lexicon.innocent)
        for lexicon in base.lexicons
    ]
    return Lexicons.of(lexicons, base.homophones, base.prohibitions, base.links)


def messages_per_second(scan: Callable[[str], object], texts: list[str], rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            scan(text)
    return rounds * len(texts) / (time.perf_counter() - start)


def speed(
    moderators: dict[str, Moderator], texts: list[str], runs: int, rounds: int
) -> dict[str, tuple[float, float, float]]:
    """Median (min, max) messages/s per configuration; runs are interleaved so load drift hits all alike."""
    for moderator in moderators.values():
        for text in texts:
            moderator.scan(text)  # warm the per-character caches
    samples: dict[str, list[float]] = {name: [] for name in moderators}
    for _ in range(runs):
        for name, moderator in moderators.items():
            samples[name].append(messages_per_second(moderator.scan, texts, rounds))
    return {name: (statistics.median(s), min(s), max(s)) for name, s in samples.items()}


def length_scaling(moderator: Moderator, texts: list[str], runs: int) -> list[tuple[int, float, float]]:
    """(length, median characters/s, µs per message) for texts made of corpus messages joined by newlines."""
    joined = "\n".join(texts)
    rows = []
    for length in (50, 500, 5_000, 50_000):
        text = (joined * (length // len(joined) + 1))[:length]
        repeat = max(1, 200_000 // length)
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            for _ in range(repeat):
                moderator.scan(text)
            samples.append((time.perf_counter() - start) / repeat)
        per_message = statistics.median(samples)
        rows.append((length, length / per_message, per_message * 1e6))
    return rows


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def report(args: argparse.Namespace) -> str:
    messages, tenant_terms = load_corpus()
    shipped = default_lexicons()
    moderator = Moderator.build(shipped, tenant_terms=tenant_terms)
    q = quality(moderator, messages)
    texts = [m["text"] for m in messages]

    synthetic = synthetic_terms(LARGE - SMALL, texts)
    small = Moderator.build(sized_lexicons(shipped, SMALL, []), tenant_terms=tenant_terms)
    large = Moderator.build(sized_lexicons(shipped, SMALL, synthetic), tenant_terms=tenant_terms)
    configs = {f"{SMALL:,} terms": small, f"{LARGE:,} terms": large, "shipped lexicons": moderator}
    term_counts = {
        f"{SMALL:,} terms": SMALL,
        f"{LARGE:,} terms": LARGE,
        "shipped lexicons": sum(len(lexicon.terms) for lexicon in shipped.lexicons),
    }
    rates = speed(configs, texts, args.runs, args.rounds)
    ratio = rates[f"{SMALL:,} terms"][0] / rates[f"{LARGE:,} terms"][0]
    scaling = length_scaling(moderator, texts, args.runs)

    lines = [
        "## Moderation",
        "",
        f"Written by `python bench/moderation.py --runs {args.runs} --rounds {args.rounds}`; issue 5 targets. "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs. Corpus: `tests/corpus/messages.yaml`, {len(messages)} messages "
        f"({', '.join(f'{k} {v}' for k, v in sorted(q['counts'].items()))}), scanned with the shipped lexicons "
        "(version `" + shipped.version + "`) plus the corpus's tenant code names. A message counts once per category "
        "it is labelled with or flagged for. The corpus was written alongside the lexicons, so these numbers say the "
        "matcher does what the lexicons intend, not how it fares on unseen spam.",
        "",
        "| kind | messages | precision | recall | flagged | target |",
        "|---|---|---|---|---|---|",
    ]
    for kind in ("plain", "evasion", "innocent", "work"):
        score = q["kind"].get(kind, Score())
        if kind in TARGETS:
            met = score.recall is not None and score.recall >= TARGETS[kind]
            target = f"recall ≥ {TARGETS[kind]}: {'met' if met else '**missed**'}"
            flagged = "–"
        else:
            target = f"none flagged: {'met' if q['flagged'][kind] == 0 else '**missed**'}"
            flagged = str(q["flagged"][kind])
        lines.append(
            f"| {kind} | {q['counts'][kind]} | {_pct(score.precision)} | {_pct(score.recall)} | {flagged} | {target} |"
        )
    total = sum(q["category"].values(), Score())
    lines.append(f"| all | {len(messages)} | {_pct(total.precision)} | {_pct(total.recall)} |  |  |")
    lines += ["", "| category | labelled | flagged correctly | false alarms | missed | precision | recall |"]
    lines.append("|---|---|---|---|---|---|---|")
    for category, score in q["category"].items():
        lines.append(
            f"| {category} | {score.tp + score.fn} | {score.tp} | {score.fp} | {score.fn} | "
            f"{_pct(score.precision)} | {_pct(score.recall)} |"
        )
    if q["misses"]:
        lines += ["", "Messages not classified as labelled:", ""]
        lines += [f"- `{text}`: expected {exp}, got {got}" for text, exp, got in q["misses"]]
    lines += [
        "",
        f"Speed: messages/s over the {len(texts)} corpus messages (mean {statistics.mean(map(len, texts)):.0f} "
        f"characters), {args.rounds} rounds per run, median of {args.runs} interleaved runs (min–max). The "
        f"{LARGE:,}-term lexicon is the {SMALL} real terms plus {LARGE - SMALL:,} synthetic 2–5 ideograph terms "
        f"(seed {SEED}) that occur in no corpus message, so both find the same hits. Every message goes through "
        "folding, one automaton pass for terms, one for innocent words, the link and number patterns.",
        "",
        "| lexicon | terms | messages/s |",
        "|---|---|---|",
    ]
    for name, (median, low, high) in rates.items():
        lines.append(f"| {name} | {term_counts[name]:,} | {median:,.0f} ({low:,.0f}–{high:,.0f}) |")
    verdict = "met" if ratio <= RATIO_TARGET else "**missed**"
    lines += [
        "",
        f"- {SMALL:,} vs {LARGE:,} terms: {ratio:.2f}× (≤ {RATIO_TARGET}×: {verdict})",
        "",
        "Length scaling (shipped lexicons, corpus text joined by newlines and cut to length):",
        "",
        "| characters | µs per message | characters/s |",
        "|---|---|---|",
    ]
    lines += [f"| {length:,} | {micro:,.0f} | {rate:,.0f} |" for length, rate, micro in scaling]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per configuration (median reported)")
    parser.add_argument("--rounds", type=int, default=20, help="passes over the corpus per timed run")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="Markdown file to update")
    args = parser.parse_args(argv)
    section = report(args)
    print(section)
    write_section(args.output, "moderation", section)
    print(f"written to {args.output} (section moderation)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
