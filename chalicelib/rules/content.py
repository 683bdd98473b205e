"""Content rules, Chinese first: which of the rulebooks' forbidden categories a message touches, and where.

The rulebooks ban 不良政治倾向、宗教、色情、暴力 (篇一 三(3)), 色情、赌博、病毒链接 (篇一 三(5)), 不良倾向、色情、赌博、
病毒链接、无关商业广告, 诋毁公司 (篇二 3.6, 篇四 4), 政治、黄赌毒, 过激、挑拨、辱骂, 歧视 (篇三 8), and leaking 公司机密
(篇一 三(4), 篇二 3.4). This module finds them; a later rule maps a Hit's category to the clause and decides.

    moderator = Moderator.build(Lexicons.load(), tenant_terms={"confidential": ["凤凰计划"]})
    for hit in moderator.scan(text): ...

Matching (DESIGN.md §5: linear in the text, independent of lexicon size):
- text is folded once (normalize.py), then one Aho-Corasick pass over its skeleton finds every lexicon term, its
  explicit aliases (pinyin, abbreviations) and homophone variants (homophones.txt) at once;
- a second automaton finds innocent words (大麻烦, 博士, 舞台…). A hit is dropped when innocent words that reach
  outside it cover all of its characters (大麻 in 大麻烦; 台独 in 舞台独白 = 舞台 + 独白), or, for a hit that bridged
  visible separators, any of them (赌博 in "打赌。博士"); an innocent word inside a longer hit does not excuse it
  (香港 in 香港独立), and one equal to a term switches the term off (how a tenant disables one);
- a third finds prohibition cues (禁止, 远离, 警惕 …, prohibitions.txt): a term shortly after one in the same sentence
  is the rule or a warning, not a violation ("严禁发布色情、赌博", "珍爱生命，远离毒品");
- ASCII terms need ASCII word boundaries (SB is not in USB); links are judged by links.py and not word-matched;
  mobile and ID numbers are found by pattern and checked (ID checksum).

Pure: no clock, no network, no boto3. Lexicon files are read by `Lexicons.load`, once; a built Moderator is cached
per (lexicon version, tenant extras) and never changes.
"""

from __future__ import annotations

import bisect
import calendar
import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Final, Generic, Literal, NamedTuple, TypeVar

import ahocorasick

from chalicelib.rules.links import LinkData, LinkFinder, LinkPolicy
from chalicelib.rules.normalize import HARD, INVISIBLE, LEXICON_DIR, NONE, SOFT, STOP, Folded, fold, fold_term, is_latin

HitKind = Literal["plain", "evasion", "link", "confidential"]

# Stable ids, the same as chalicelib.rules.policy.Category (a policy maps them to clauses), with the rulebooks' words.
CATEGORY_LABELS: Final[Mapping[str, str]] = {
    "politics": "不良政治倾向",
    "religion": "宗教",
    "pornography": "色情",
    "gambling": "赌博",
    "drugs": "毒品",
    "violence": "暴力",
    "malicious_links": "病毒链接",
    "ads": "无关商业广告",
    "defamation": "诋毁公司",
    "insults": "过激、挑拨、辱骂",
    "discrimination": "歧视",
    "confidential": "公司机密",
}
CATEGORIES: Final = tuple(CATEGORY_LABELS)
WORD_CATEGORIES: Final = tuple(c for c in CATEGORIES if c != "malicious_links")  # the ones with a lexicon file

MAX_GAP: Final = 6  # filler characters allowed between two characters of one word ("赌 . 博", "赌👨‍👩‍👧博")
PROHIBITION_REACH: Final = 16  # "严禁在群内发布色情、赌博" — a cue governs the rest of its sentence, within reason
UNCUED: Final = frozenset({"confidential"})  # 请勿外传 is a confidential marker, not a cue that excuses one
NEGATIONS: Final = frozenset("不没别无")  # 不反对赌博 is not a prohibition
MAX_VARIANTS: Final = 32  # homophone variants per term: bounds the automaton, not the scan
EXCERPT_LENGTH: Final = 60  # DESIGN.md §4: ledger excerpts hold at most 60 characters


class LexiconError(ValueError):
    """A lexicon file or a tenant term that cannot be used."""


@dataclass(frozen=True, slots=True)
class Hit:
    """One finding. `start:end` is the span in the original text; `excerpt` (≤ 60 chars) is safe to store: phone
    and ID numbers in it are masked. `why` lists the evasions undone (alias, homophone, separator, invisible,
    lookalike; plus tenant_term), the link's faults, or the detector that fired (mobile_number, id_number)."""

    category: str
    kind: HitKind
    term: str
    start: int
    end: int
    excerpt: str
    why: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Lexicon:
    category: str
    version: str
    terms: tuple[Term, ...]
    innocent: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class Lexicons:
    """Every word list, the homophone table and link knowledge. Equal (and hashed) by content digest."""

    lexicons: tuple[Lexicon, ...]
    homophones: tuple[tuple[str, tuple[str, ...]], ...]
    prohibitions: tuple[str, ...]
    links: LinkData
    version: str

    @classmethod
    def of(
        cls,
        lexicons: Iterable[Lexicon],
        homophones: Iterable[tuple[str, Iterable[str]]],
        prohibitions: Iterable[str],
        links: LinkData,
    ) -> Lexicons:
        lexicons = tuple(lexicons)
        table = tuple((fragment, tuple(alternatives)) for fragment, alternatives in homophones)
        cues = tuple(prohibitions)
        for lexicon in lexicons:
            if lexicon.category not in WORD_CATEGORIES:
                raise LexiconError(f"unknown category {lexicon.category!r}; known: {', '.join(WORD_CATEGORIES)}")
        digest = hashlib.sha256(
            repr(
                (
                    lexicons,
                    table,
                    cues,
                    links.version,
                    sorted(links.short_hosts),
                    sorted(links.tlds),
                    sorted(links.deny),
                )
            ).encode()
        )
        return cls(lexicons, table, cues, links, digest.hexdigest()[:16])

    @classmethod
    def load(cls, directory: Path = LEXICON_DIR) -> Lexicons:
        lexicons = [
            parse_lexicon(path.read_text(encoding="utf-8"), category=path.stem, source=path.name)
            for path in sorted(directory.glob("*.txt"))
            if path.stem in WORD_CATEGORIES
        ]
        homophones = parse_homophones((directory / "homophones.txt").read_text(encoding="utf-8"))
        cues = parse_words((directory / "prohibitions.txt").read_text(encoding="utf-8"), source="prohibitions.txt")
        return cls.of(lexicons, homophones, cues, LinkData.load(directory / "links.txt"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lexicons) and other.version == self.version

    def __hash__(self) -> int:
        return hash(self.version)


def parse_lexicon(text: str, *, category: str, source: str = "<lexicon>") -> Lexicon:
    """`term`, `term = alias, alias`, `!innocent word`; `# version: N` in the header; `#` starts a comment."""
    version = ""
    terms: list[Term] = []
    innocent: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.startswith("# version:"):
            version = raw.partition(":")[2].strip()
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{source} line {number}"
        if line.startswith("!"):
            innocent.append(_checked(line[1:], where))
            continue
        word, _, rest = line.partition("=")
        aliases = tuple(_checked(alias, where) for alias in rest.split(",")) if rest.strip() else ()
        terms.append(Term(_checked(word, where), aliases))
    if not version:
        raise LexiconError(f"{source}: missing '# version:' header")
    return Lexicon(category, version, tuple(terms), tuple(innocent))


def parse_words(text: str, *, source: str) -> list[str]:
    """One word per line, `#` comments."""
    return [
        _checked(line, f"{source} line {number}")
        for number, raw in enumerate(text.splitlines(), 1)
        if (line := raw.split("#", 1)[0].strip())
    ]


def parse_homophones(text: str, *, source: str = "homophones.txt") -> list[tuple[str, tuple[str, ...]]]:
    """`fragment = alternative, alternative`: every term containing the fragment also matches with each alternative."""
    table = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fragment, equals, rest = line.partition("=")
        if not equals:
            raise LexiconError(f"{source} line {number}: expected 'fragment = alternative, …', got {raw!r}")
        fragment_key = fold_term(fragment)
        alternatives = tuple(fold_term(a) for a in rest.split(",") if fold_term(a))
        if not fragment_key or not alternatives:
            raise LexiconError(f"{source} line {number}: empty fragment or alternatives in {raw!r}")
        table.append((fragment_key, alternatives))
    return table


def _checked(word: str, where: str) -> str:
    word = word.strip()
    if len(fold_term(word)) < 2:
        # One character is never specific enough in Chinese (滚 is in 滚动, 毒 in 杀毒).
        raise LexiconError(f"{where}: {word!r} has fewer than two letters or ideographs")
    return word


_NO_SPACES: Final[frozenset[int]] = frozenset()


class _Found(NamedTuple):
    category: str
    kind: HitKind
    term: str
    start: int
    end: int
    why: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Entry:
    category: str
    term: str  # canonical spelling, as written in the lexicon
    via: str  # "" for the term itself, else "alias" or "homophone"
    tenant: bool
    spaces: frozenset[int] = frozenset()  # offsets in the key where the entry itself has a separator (internal only)


_V = TypeVar("_V")

# pyahocorasick finds a node's child by scanning the node's list of children. The root of a Chinese lexicon has one
# child per distinct first character (thousands for a large lexicon), and a scan keeps falling back to the root, so
# every character of a message would cost time proportional to the lexicon. Spelling each character as three 7-bit
# symbols, each position from its own range, caps every node at 128 children: the cost per character stops growing
# with the lexicon (bench/moderation.py measures it), and a key can only match at character boundaries.
_SYMBOL_BASE: Final = 0xF0000  # private use plane 15; the symbols never leave this module
_SYMBOL_BITS: Final = 7
_SYMBOLS_PER_CHAR: Final = 3  # 3 × 7 bits cover every code point (21 bits)


class _Spelling(dict[int, str]):
    """str.translate table from code point to its three symbols, filled on first sight (a cache, bounded)."""

    def __missing__(self, code: int) -> str:
        mask = (1 << _SYMBOL_BITS) - 1
        spelled = "".join(
            chr(
                _SYMBOL_BASE
                + (position << _SYMBOL_BITS)
                + ((code >> (_SYMBOL_BITS * (_SYMBOLS_PER_CHAR - 1 - position))) & mask)
            )
            for position in range(_SYMBOLS_PER_CHAR)
        )
        if len(self) < 65536:
            self[code] = spelled
        return spelled


_SPELLING: Final = _Spelling()


def _spell(skeleton: str) -> str:
    return skeleton.translate(_SPELLING)  # one C-level pass; every automaton of a scan reads the same spelling


class _Automaton(Generic[_V]):
    """An Aho-Corasick automaton over spelled keys; matches are reported as (last skeleton index, value)."""

    __slots__ = ("_automaton", "_size")

    def __init__(self, items: Iterable[tuple[str, _V]]) -> None:
        self._automaton = ahocorasick.Automaton()
        self._size = 0
        for key, value in items:
            self._automaton.add_word(_spell(key), value)
            self._size += 1
        if self._size:
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return self._size

    def iter(self, spelled: str) -> Iterator[tuple[int, _V]]:
        if not self._size:
            return
        for end, value in self._automaton.iter(spelled):
            yield end // _SYMBOLS_PER_CHAR, value


class Moderator:
    """A compiled matcher. Build with `Moderator.build` (cached); `scan` is pure and thread-compatible."""

    __slots__ = (
        "_cues",
        "_finder",
        "_ids",
        "_innocent",
        "_innocent_longest",
        "_link_policy",
        "_mobile",
        "_terms",
        "version",
    )

    def __init__(
        self,
        *,
        terms: _Automaton[tuple[int, tuple[_Entry, ...]]],
        innocent: _Automaton[int],
        innocent_longest: int,
        cues: _Automaton[int],
        finder: LinkFinder,
        link_policy: LinkPolicy,
        detect_mobile: bool,
        detect_id_numbers: bool,
        version: str,
    ) -> None:
        self._terms = terms
        self._innocent = innocent
        self._innocent_longest = innocent_longest
        self._cues = cues
        self._finder = finder
        self._link_policy = link_policy
        self._mobile = detect_mobile
        self._ids = detect_id_numbers
        self.version = version

    @classmethod
    def build(
        cls,
        lexicons: Lexicons | None = None,
        *,
        tenant_terms: Mapping[str, Iterable[str]] | None = None,
        tenant_innocent: Iterable[str] = (),
        link_policy: LinkPolicy | None = None,
        detect_mobile: bool = True,
        detect_id_numbers: bool = True,
    ) -> Moderator:
        """Compile the shipped lexicons plus a tenant's extra terms (category -> words; code names go under
        "confidential") and extra innocent words. Same arguments, same (cached) Moderator."""
        terms = dict(tenant_terms or {})
        for category, words in terms.items():
            if category not in WORD_CATEGORIES:
                raise LexiconError(f"unknown category {category!r}; known: {', '.join(WORD_CATEGORIES)}")
            if isinstance(words, str):  # a bare string would be read as its characters, each one a "term"
                raise LexiconError(f"tenant terms for {category!r} must be a list of words, not {words!r}")
        if isinstance(tenant_innocent, str):
            raise LexiconError(f"tenant innocent words must be a list of words, not {tenant_innocent!r}")
        extra = tuple(sorted((category, tuple(sorted(set(words)))) for category, words in terms.items()))
        return _build(
            lexicons or default_lexicons(),
            extra,
            tuple(sorted(set(tenant_innocent))),
            link_policy or LinkPolicy(),
            detect_mobile,
            detect_id_numbers,
        )

    def scan(self, text: str) -> list[Hit]:
        """Every finding in `text`, in text order. Never raises on any str."""
        folded = fold(text)
        links = self._finder.find(folded.text)
        in_link = bytearray(len(folded.text))
        for link in links:
            in_link[link.start : link.end] = b"\x01" * (link.end - link.start)
        private = _private_numbers(folded, in_link)
        found = self._word_hits(folded, in_link)
        for link in links:
            reasons = self._finder.judge(link, self._link_policy)
            if reasons:
                start, end = folded.text_span(link.start, link.end)
                found.append(_Found("malicious_links", "link", link.host, start, end, reasons))
        for detector, start, end in private:
            if (detector == "mobile_number" and self._mobile) or (detector == "id_number" and self._ids):
                found.append(_Found("confidential", "confidential", detector, start, end, (detector,)))
        masked = _mask(text, private)
        found.sort(key=lambda f: (f.start, f.end, f.category))
        return [Hit(f.category, f.kind, f.term, f.start, f.end, _excerpt(masked, f.start, f.end), f.why) for f in found]

    def categories(self, text: str) -> frozenset[str]:
        return frozenset(hit.category for hit in self.scan(text))

    def _word_hits(self, folded: Folded, in_link: bytearray) -> list[_Found]:
        skeleton = folded.skeleton
        if not skeleton or len(self._terms) == 0:
            return []
        sep, gap, altered = folded.sep, folded.gap, folded.altered
        spelled = _spell(skeleton)
        innocent = self._innocent_spans(folded, spelled)
        cues: list[int] | None = None
        linked = any(in_link)
        candidates: list[_Found] = []
        for last, (length, entries) in self._terms.iter(spelled):
            first = last - length + 1
            inside = sep[first + 1 : last + 1]  # what stands between the characters of this reading
            if length > 1 and max(gap[first + 1 : last + 1]) > MAX_GAP:
                continue
            if linked and any(in_link[folded.at[k]] for k in range(first, last + 1)):
                continue  # links are judged by links.py, not read as words
            if not _latin_bounded(folded, first, last):
                continue
            covered_any, covered_all = self._innocent_cover(innocent, first, last + 1) if innocent else (False, False)
            if covered_all:
                continue
            if cues is None:
                cues = self._cue_ends(skeleton, spelled)
            prohibited = bool(cues) and self._prohibited(cues, sep, first)
            spaced = (
                frozenset(k for k, level in enumerate(inside, 1) if level >= SOFT)
                if max(inside, default=0) >= SOFT
                else _NO_SPACES
            )
            invisible = INVISIBLE in inside
            lookalike = True in altered[first : last + 1]
            start, end = folded.skeleton_span(first, last + 1)
            for entry in entries:
                if prohibited and entry.category not in UNCUED:
                    continue
                # A separator the term itself has ("internal only") is no evasion; any other one is.
                bridged = not spaced <= entry.spaces
                if bridged and covered_any:
                    continue  # "打赌。博士": a bridged reading must not touch an innocent word at all
                why = tuple(
                    technique
                    for technique, used in (
                        (entry.via, bool(entry.via)),
                        ("separator", bridged),
                        ("invisible", invisible),
                        ("lookalike", lookalike),
                        ("tenant_term", entry.tenant),
                    )
                    if used
                )
                kind: HitKind = "evasion" if entry.via or bridged or invisible or lookalike else "plain"
                candidates.append(_Found(entry.category, kind, entry.term, start, end, why))
        # Within a category keep the widest reading of a stretch of text (他妈的 over 妈的), plain before evasion.
        candidates.sort(key=lambda c: (c.category, c.start, -c.end, c.kind != "plain", c.term))
        kept: list[_Found] = []
        reach: dict[str, int] = {}
        for candidate in candidates:
            if candidate.end <= reach.get(candidate.category, -1):
                continue
            reach[candidate.category] = candidate.end
            kept.append(candidate)
        return kept

    def _cue_ends(self, skeleton: str, spelled: str) -> list[int]:
        """Sorted skeleton indices where a prohibition cue ends (cues preceded by a negation do not count)."""
        ends = set()
        for last, length in self._cues.iter(spelled):
            first = last - length + 1
            if first == 0 or skeleton[first - 1] not in NEGATIONS:
                ends.add(last)
        return sorted(ends)

    @staticmethod
    def _prohibited(cue_ends: list[int], sep: tuple[int, ...], first: int) -> bool:
        """A cue ends shortly before `first`, with no end of sentence in between."""
        i = bisect.bisect_left(cue_ends, first) - 1
        if i < 0:
            return False
        cue_end = cue_ends[i]
        return first - cue_end <= PROHIBITION_REACH and STOP not in sep[cue_end + 1 : first + 1]

    def _innocent_spans(self, folded: Folded, spelled: str) -> dict[int, list[int]]:
        spans: dict[int, list[int]] = {}
        for last, length in self._innocent.iter(spelled):
            first = last - length + 1
            # An innocent word does not run across a sentence break: "吸大麻，烦死了" is not 大麻烦.
            if max(folded.sep[first + 1 : last + 1], default=NONE) < HARD:
                spans.setdefault(first, []).append(last + 1)
        return spans

    def _innocent_cover(self, spans: dict[int, list[int]], start: int, end: int) -> tuple[bool, bool]:
        """Whether innocent words reaching outside [start, end) cover any, and all, of its characters."""
        covered = bytearray(end - start)
        for begin in range(max(0, start - self._innocent_longest + 1), end):
            for finish in spans.get(begin, ()):
                if finish <= start:
                    continue
                if start <= begin and finish <= end and (begin, finish) != (start, end):
                    continue  # an innocent word inside the hit says nothing about it (香港 in 香港独立)
                for k in range(max(begin, start), min(finish, end)):
                    covered[k - start] = 1
        return any(covered), all(covered)


def _latin_bounded(folded: Folded, first: int, last: int) -> bool:
    """ASCII words need ASCII boundaries (a separator, an ideograph or the end of the text): SB is not in USB."""
    skeleton, sep = folded.skeleton, folded.sep
    if is_latin(skeleton[first]) and first > 0 and sep[first] <= INVISIBLE and is_latin(skeleton[first - 1]):
        return False
    after = last + 1
    return not (
        is_latin(skeleton[last]) and after < len(skeleton) and sep[after] <= INVISIBLE and is_latin(skeleton[after])
    )


@lru_cache(maxsize=1)
def default_lexicons() -> Lexicons:
    return Lexicons.load()


@lru_cache(maxsize=32)
def _build(
    lexicons: Lexicons,
    extra: tuple[tuple[str, tuple[str, ...]], ...],
    tenant_innocent: tuple[str, ...],
    link_policy: LinkPolicy,
    detect_mobile: bool,
    detect_id_numbers: bool,
) -> Moderator:
    keys: dict[str, list[_Entry]] = {}

    def add(word: str, entry: _Entry) -> None:
        folded = fold(word)
        key = folded.skeleton
        spaces = frozenset(k for k in range(1, len(key)) if folded.sep[k] >= SOFT)
        entry = replace(entry, spaces=spaces) if spaces else entry
        bucket = keys.setdefault(key, [])
        if entry not in bucket:
            bucket.append(entry)

    def add_term(category: str, term: Term, tenant: bool) -> None:
        add(term.text, _Entry(category, term.text, "", tenant))
        for alias in term.aliases:
            add(alias, _Entry(category, term.text, "alias", tenant))
        for variant in homophone_variants(fold_term(term.text), lexicons.homophones):
            add(variant, _Entry(category, term.text, "homophone", tenant))

    for lexicon in lexicons.lexicons:
        for term in lexicon.terms:
            add_term(lexicon.category, term, tenant=False)
    for category, words in extra:
        for word in words:
            add_term(category, Term(_checked(word, f"tenant term for {category}")), tenant=True)

    terms = _Automaton((key, (len(key), tuple(entries))) for key, entries in keys.items())
    innocent_words = {fold_term(w) for lexicon in lexicons.lexicons for w in lexicon.innocent}
    innocent_words |= {key for key in map(fold_term, tenant_innocent) if key}
    innocent = _Automaton((word, len(word)) for word in innocent_words)
    cues = _Automaton((cue, len(cue)) for cue in {fold_term(c) for c in lexicons.prohibitions})
    digest = hashlib.sha256(repr((lexicons.version, extra, tenant_innocent)).encode()).hexdigest()[:16]
    return Moderator(
        terms=terms,
        innocent=innocent,
        innocent_longest=max(map(len, innocent_words), default=0),
        cues=cues,
        finder=LinkFinder(lexicons.links),
        link_policy=link_policy,
        detect_mobile=detect_mobile,
        detect_id_numbers=detect_id_numbers,
        version=digest,
    )


def homophone_variants(key: str, table: tuple[tuple[str, tuple[str, ...]], ...]) -> list[str]:
    variants = [key]
    for fragment, alternatives in table:
        for current in list(variants):
            if fragment not in current:
                continue
            for alternative in alternatives:
                candidate = current.replace(fragment, alternative)
                if candidate not in variants:
                    variants.append(candidate)
                if len(variants) > MAX_VARIANTS:
                    return variants[1:]
    return variants[1:]


# Mainland mobile numbers (1[3-9]x, 11 digits; +86 / 0086 prefix; 3-4-4 groups) and 18-digit resident ID numbers
# (GB 11643-1999: region, birth date, sequence, ISO 7064 MOD 11-2 check character).
_MOBILE = re.compile(r"(?<![0-9a-z+])(?:(?:\+|00)?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![0-9a-z])")
_ID_NUMBER = re.compile(r"(?<![0-9a-z])(\d{6}) ?((?:18|19|20)\d{2})(\d{2})(\d{2}) ?(\d{3})([0-9x])(?![0-9a-z])")
_PROVINCES: Final = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62}
    | {63, 64, 65, 71, 81, 82, 83, 91}
)
_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def valid_id_number(number: str) -> bool:
    """An 18-character resident ID number with a known province, a real birth date and a matching check character."""
    number = number.strip().upper()
    if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return False
    if int(number[:2]) not in _PROVINCES:
        return False
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    if not (1800 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17]


def _private_numbers(folded: Folded, in_link: bytearray) -> list[tuple[str, int, int]]:
    found = []
    text = folded.text
    for match in _ID_NUMBER.finditer(text):
        if not in_link[match.start()] and valid_id_number("".join(match.groups())):
            found.append(("id_number", *folded.text_span(match.start(), match.end())))
    for match in _MOBILE.finditer(text):
        if not in_link[match.start()]:
            found.append(("mobile_number", *folded.text_span(match.start(), match.end())))
    return found


def _mask(text: str, private: list[tuple[str, int, int]]) -> str:
    """Hide the middle of phone and ID numbers (138****5678, 340**************X) wherever an excerpt shows them."""
    if not private:
        return text
    chars = list(text)
    for detector, start, end in private:
        keep_head, keep_tail = (3, 4) if detector == "mobile_number" else (3, 1)
        positions = [i for i in range(start, end) if chars[i].isalnum()]
        if detector == "mobile_number" and len(positions) > 11:
            positions = positions[-11:]  # the country code stays readable, the number does not
        for i in positions[keep_head : len(positions) - keep_tail]:
            chars[i] = "*"
    return "".join(chars)


def _excerpt(text: str, start: int, end: int) -> str:
    """At most EXCERPT_LENGTH characters around text[start:end], '…' where cut, on one line."""
    limit = EXCERPT_LENGTH
    if len(text) <= limit:
        return _one_line(text)
    if end - start >= limit - 1:
        return _one_line(text[start : start + limit - 1] + "…")
    room = limit - (end - start) - 2  # two characters kept for the ellipses
    left = max(0, start - room // 2)
    right = min(len(text), end + (room - (start - left)))
    left = max(0, start - (room - (right - end)))
    return _one_line(("…" if left > 0 else "") + text[left:right] + ("…" if right < len(text) else ""))


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)
