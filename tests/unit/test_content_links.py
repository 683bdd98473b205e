"""Links: found in every spelling members use, judged by the tenant's policy, and only their shape is flagged."""

from __future__ import annotations

import pytest

from chalicelib.rules.content import Hit, Moderator
from chalicelib.rules.links import LinkData, LinkFinder, LinkPolicy
from chalicelib.rules.normalize import fold


@pytest.fixture(scope="module")
def moderator() -> Moderator:
    return Moderator.build()


def link_hits(moderator: Moderator, text: str) -> list[Hit]:
    return [h for h in moderator.scan(text) if h.category == "malicious_links"]


@pytest.mark.parametrize(
    ("text", "host", "why", "span"),
    [
        ("看这个 http://t.cn/A6xyz 快", "t.cn", ("short_link",), (4, 21)),
        ("ｈｔｔｐ：／／ｔ．ｃｎ／ＡｂＣ", "t.cn", ("short_link",), (0, 15)),
        ("打开dwz。cn/abc123领取", "dwz.cn", ("short_link",), (2, 15)),
        ("bit.ly/3abcD", "bit.ly", ("short_link",), (0, 12)),
        ("m.tb.cn/h.abc 抢券", "m.tb.cn", ("short_link",), (0, 13)),
        ("下载 https://x.example.com/app/v2.apk?from=qq#top", "x.example.com", ("apk",), (3, 47)),
        ("http://45.76.12.3/login", "45.76.12.3", ("ip",), (0, 23)),
        ("后台 192.168.0.1:8080/admin", "192.168.0.1", ("ip",), (3, 25)),
        ("(见 https://dwz.cn/x)。", "dwz.cn", ("short_link",), (3, 19)),
    ],
)
def test_suspicious_links_are_flagged_on_the_original_span(
    moderator: Moderator, text: str, host: str, why: tuple[str, ...], span: tuple[int, int]
) -> None:
    (hit,) = link_hits(moderator, text)
    assert (hit.term, hit.why, hit.kind, (hit.start, hit.end)) == (host, why, "link", span)


@pytest.mark.parametrize(
    "text",
    [
        "文档在 https://docs.qq.com/doc/DabcXYZ",
        "请在 www.company.com 上提交",
        "邮件发到 zhangsan@company.com",
        "改动见 readme.md 和 main.py，版本 v1.2.3",
        "服务器 IP 10.0.0.12 已加白名单",
        "安装包 qungui-1.2.apk 在群文件",  # a file name, not a download link
        "价格涨了 3.5%",
    ],
)
def test_ordinary_links_and_look_alikes_pass(moderator: Moderator, text: str) -> None:
    assert link_hits(moderator, text) == []


def test_links_are_not_read_as_words(moderator: Moderator) -> None:
    # "sb" inside a host is not an insult, and the digits of a path are not a phone number.
    assert moderator.scan("https://sb.example.com/u/13812345678") == []


def test_allow_list_wins_over_shape_and_covers_subdomains() -> None:
    moderator = Moderator.build(link_policy=LinkPolicy.of(allow_domains=["t.cn", "https://Corp.Example.com/"]))
    assert link_hits(moderator, "http://t.cn/abc") == []
    assert link_hits(moderator, "http://files.corp.example.com/a.apk") == []
    assert [h.term for h in link_hits(moderator, "http://dwz.cn/abc")] == ["dwz.cn"]


def test_deny_list_flags_a_domain_and_its_subdomains() -> None:
    moderator = Moderator.build(link_policy=LinkPolicy.of(deny_domains=["*.bad.com"]))
    (hit,) = link_hits(moderator, "去 www.bad.com/x 看看")
    assert (hit.term, hit.why) == ("www.bad.com", ("denied_domain",))
    assert link_hits(moderator, "notbad.com/x") == []


def test_allow_only_flags_every_unlisted_domain() -> None:
    moderator = Moderator.build(link_policy=LinkPolicy.of(allow_domains=["company.com"], allow_only=True))
    assert link_hits(moderator, "https://www.company.com/a") == []
    (hit,) = link_hits(moderator, "https://docs.qq.com/doc/x")
    assert hit.why == ("unlisted_domain",)


def test_each_shape_check_can_be_switched_off() -> None:
    policy = LinkPolicy.of(flag_short_links=False, flag_apk=False, flag_bare_ip=False)
    moderator = Moderator.build(link_policy=policy)
    assert moderator.scan("http://t.cn/a http://1.2.3.4/x.apk") == []


def test_several_faults_are_reported_together() -> None:
    (hit,) = link_hits(Moderator.build(), "http://1.2.3.4:81/update.apk")
    assert hit.why == ("apk", "ip")


def test_finder_positions_are_in_folded_text() -> None:
    data = LinkData.parse("# version: t\n[short_links]\nt.cn\n[tlds]\ncom\n")
    finder = LinkFinder(data)
    folded = fold("ｈｔｔｐ：／／ｔ．ｃｎ／Ａ。")
    (link,) = finder.find(folded.text)
    assert (link.url, link.host, link.path) == ("http://t.cn/a", "t.cn", "/a")
    assert folded.text_span(link.start, link.end) == (0, 13)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[short_links]\nt.cn\n", "missing '# version:'"),
        ("# version: 1\nt.cn\n", "line 2"),
        ("# version: 1\n[nope]\n", "unknown section"),
        ("# version: 1\n[tlds]\nhttp://x\n", "line 3"),
    ],
)
def test_link_data_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LinkData.parse(text)
