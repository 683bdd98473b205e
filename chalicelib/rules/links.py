"""Links in chat text: find them (also full-width and scheme-less), and judge them against a tenant's link policy.

The rulebooks ban 病毒链接 (篇一 三(5), 篇二 3.6, 篇四 4). What a chat filter can see of a "virus link" is its shape:
a short link that hides where it goes, an Android package download, a bare IP address instead of a name, or a domain
the tenant named. Ordinary links (a shared document, the company site) are work and pass unless the tenant runs an
allow-list (`allow_only`).

Detection runs on the folded text (normalize.py), where ｈｔｔｐｓ：／／ already reads https://, and positions are
indices into that folded text; content.py maps them back to the original.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# Characters a URL is made of once folded; anything else (an ideograph, a space, a Chinese quote) ends it.
_URL_CHARS = r"[a-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
# Trailing punctuation belongs to the sentence, not the link ("见 https://a.cn/x。" / "(https://a.cn)").
_TRAILING = ".,;:!?)]'\""
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# The Chinese full stop stands in for a dot in links typed to dodge filters (example。com); only between ASCII labels.
_DOT = r"[.。]"


@dataclass(frozen=True, slots=True)
class LinkData:
    """Shipped link knowledge, from lexicons/links.txt."""

    version: str
    short_hosts: frozenset[str]
    tlds: frozenset[str]
    deny: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str, *, source: str = "links.txt") -> LinkData:
        sections: dict[str, set[str]] = {"short_links": set(), "tlds": set(), "deny": set()}
        version = ""
        current: set[str] | None = None
        for number, raw in enumerate(text.splitlines(), 1):
            if raw.startswith("# version:"):
                version = raw.partition(":")[2].strip()
            line = raw.split("#", 1)[0].strip().lower()
            if not line:
                continue
            if line.startswith("[") and line.endswith("]"):
                current = sections.get(line[1:-1])
                if current is None:
                    raise ValueError(f"{source} line {number}: unknown section {line}")
                continue
            if current is None or not re.fullmatch(r"[a-z0-9.-]+", line):
                raise ValueError(f"{source} line {number}: expected a host or TLD inside a section, got {raw!r}")
            current.add(line)
        if not version:
            raise ValueError(f"{source}: missing '# version:' header")
        return cls(
            version=version,
            short_hosts=frozenset(sections["short_links"]),
            tlds=frozenset(sections["tlds"]),
            deny=frozenset(sections["deny"]),
        )

    @classmethod
    def load(cls, path: Path) -> LinkData:
        return cls.parse(path.read_text(encoding="utf-8"), source=path.name)


@dataclass(frozen=True, slots=True)
class LinkPolicy:
    """A tenant's view of links. Domains match themselves and their subdomains."""

    allow_domains: frozenset[str] = frozenset()  # never flagged, whatever their shape (the company's own shortener)
    deny_domains: frozenset[str] = frozenset()  # always flagged
    allow_only: bool = False  # flag every domain that is not allowed
    flag_short_links: bool = True
    flag_apk: bool = True
    flag_bare_ip: bool = True

    @classmethod
    def of(
        cls,
        *,
        allow_domains: Iterable[str] = (),
        deny_domains: Iterable[str] = (),
        allow_only: bool = False,
        flag_short_links: bool = True,
        flag_apk: bool = True,
        flag_bare_ip: bool = True,
    ) -> LinkPolicy:
        """Field names match chalicelib.rules.policy.LinkPolicy: `LinkPolicy.of(**rule.links.model_dump())`."""
        return cls(
            allow_domains=frozenset(_clean_domain(d) for d in allow_domains),
            deny_domains=frozenset(_clean_domain(d) for d in deny_domains),
            allow_only=allow_only,
            flag_short_links=flag_short_links,
            flag_apk=flag_apk,
            flag_bare_ip=flag_bare_ip,
        )


@dataclass(frozen=True, slots=True)
class Link:
    start: int  # folded-text span
    end: int
    url: str  # as folded: lower case, half-width
    host: str
    path: str = field(default="")


class LinkFinder:
    """Compiled once per LinkData: the scheme-less pattern is built from its TLD and short-host lists."""

    def __init__(self, data: LinkData) -> None:
        self.data = data
        tlds = "|".join(sorted((re.escape(t) for t in data.tlds), key=len, reverse=True))
        shorts = "|".join(sorted((re.escape(h).replace(r"\.", _DOT) for h in data.short_hosts), key=len, reverse=True))
        bare_host = rf"(?:{_LABEL}{_DOT})+(?:{tlds})" if tlds else r"(?!)"
        short_host = rf"(?:{shorts})" if shorts else r"(?!)"
        ip = r"\d{1,3}(?:\.\d{1,3}){3}"
        self._pattern = re.compile(
            rf"""
            (?P<scheme>(?:https?|ftp)://{_URL_CHARS}+)
            | (?<![a-z0-9@._-])
              (?:
                (?P<short>(?:{_LABEL}{_DOT})*{short_host}/{_URL_CHARS}*)
              | (?P<ip>{ip}(?::\d{{1,5}})?/{_URL_CHARS}*|{ip}:\d{{1,5}}(?:/{_URL_CHARS}*)?)
              | (?P<bare>{bare_host}(?![a-z0-9-])(?::\d{{1,5}})?(?:/{_URL_CHARS}*)?)
              )
            """,
            re.VERBOSE,
        )

    def find(self, text: str) -> list[Link]:
        links = []
        for match in self._pattern.finditer(text):
            raw = match.group(0)
            stripped = raw.rstrip(_TRAILING)
            if raw.endswith(")") and stripped.count("(") < raw.count("("):
                stripped = raw  # keep a balanced parenthesis that is part of the path
            if not stripped:
                continue
            url = stripped.replace("。", ".")
            host, path = _split(url)
            if not host:
                continue
            links.append(Link(match.start(), match.start() + len(stripped), url, host, path))
        return links

    def judge(self, link: Link, policy: LinkPolicy) -> tuple[str, ...]:
        """Why a link is flagged under this policy; empty when it is not."""
        host = link.host
        if _under(host, policy.allow_domains):
            return ()
        reasons = []
        if _under(host, policy.deny_domains) or _under(host, self.data.deny):
            reasons.append("denied_domain")
        if policy.flag_short_links and _under(host, self.data.short_hosts):
            reasons.append("short_link")
        if policy.flag_apk and link.path.split("?", 1)[0].split("#", 1)[0].endswith(".apk"):
            reasons.append("apk")
        if policy.flag_bare_ip and _is_ip(host):
            reasons.append("ip")
        if policy.allow_only and not reasons:
            reasons.append("unlisted_domain")
        return tuple(reasons)


def _split(url: str) -> tuple[str, str]:
    rest = url.split("://", 1)[1] if "://" in url else url
    authority, slash, path = rest.partition("/")
    for mark in "?#":
        authority = authority.split(mark, 1)[0]
    host = authority.rsplit("@", 1)[-1]
    # An IPv6 literal keeps its colons inside brackets; otherwise a colon starts the port.
    host = host[1:].split("]", 1)[0] if host.startswith("[") else host.split(":", 1)[0]
    return host.strip("."), slash + path


def _under(host: str, domains: frozenset[str]) -> bool:
    if not domains:
        return False
    labels = host.split(".")
    return any(".".join(labels[i:]) in domains for i in range(len(labels)))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _clean_domain(domain: str) -> str:
    domain = domain.strip().lower().rstrip(".")
    if "://" in domain:
        domain = domain.split("://", 1)[1]
    domain = domain.split("/", 1)[0]
    return domain.removeprefix("*.").removeprefix(".")
