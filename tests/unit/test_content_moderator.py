"""The content matcher: trap-set decisions, what a Hit says, tenant extensions and the compiled-once cache."""

from __future__ import annotations

import pytest

from chalicelib.rules.content import EXCERPT_LENGTH, LexiconError, Lexicons, Moderator, default_lexicons


@pytest.fixture(scope="module")
def moderator() -> Moderator:
    return Moderator.build()


# The trap set: each row is a decision documented in the lexicon files' headers.
TRAPS = [
    # 大麻 vs 大麻烦: the innocent word covers the hit; across a sentence break it does not.
    ("这事真是个大麻烦", set()),
    ("哪里能买到大麻", {"drugs"}),
    ("吸大麻，烦死了", {"drugs"}),
    ("这 个 大 麻 烦", set()),
    # single characters are never terms
    ("杀毒软件记得更新", set()),
    ("滚动播放的通知", set()),
    ("我跟你打赌一顿饭", set()),
    ("他又在赌气", set()),
    # 赌博 across a comma is two words: 打赌 + 博士 (all covered), or bridged into 博弈 (any covered)
    ("我们打赌，博士论文下周交", set()),
    ("打个赌。博弈论很有趣", set()),
    ("王博士下午到", set()),
    ("一起去赌博吧", {"gambling"}),
    ("赌 . 博", {"gambling"}),
    # 台独 straddling 舞台 + 独白, 平台 + 独立, 这台 + 独立; but 台独立场 has nothing innocent on its 台
    ("她在舞台独白那段演得好", set()),
    ("平台独立部署", set()),
    ("这台独立服务器", set()),
    ("台独立场", {"politics"}),
    # official stance phrasing is innocent, a longer term wrapping it is not
    ("坚决反对台独", set()),
    ("我不反对台独", {"politics"}),
    # a mention of the leader is not 不良政治倾向; a derogatory nickname is
    ("学习习近平总书记重要讲话精神", set()),
    ("习包子又讲话了", {"politics"}),
    # 六四 is a profit split; the event's names are terms
    ("利润按六四分成", set()),
    ("六四事件", {"politics"}),
    # 法轮 is Buddhist; 法轮功 is the cult
    ("转法轮，法轮常转", set()),
    ("法轮功学员", {"religion"}),
    # 菠菜 is spinach; 菠菜网站 is 博彩网站
    ("食堂的菠菜不错", set()),
    ("菠菜网站推荐", {"gambling"}),
    # ASCII words need ASCII boundaries
    ("USB接口坏了", set()),
    ("this is bad", set()),
    ("你个SB", {"insults"}),
    ("你个 s b", {"insults"}),
    # prohibitions in the same sentence turn a term into a rule; not across a sentence, not when negated
    ("严禁在群内发布色情、赌博、病毒链接", set()),
    ("珍爱生命，远离毒品", set()),
    ("严禁赌博。今晚一起去赌博吧", {"gambling"}),
    ("我不反对赌博", {"gambling"}),
    ("要不要一起赌博", {"gambling"}),
]


@pytest.mark.parametrize(("text", "categories"), TRAPS, ids=[t for t, _ in TRAPS])
def test_trap_set(moderator: Moderator, text: str, categories: set[str]) -> None:
    assert moderator.categories(text) == categories


def test_a_plain_hit() -> None:
    (hit,) = Moderator.build().scan("明天一起去赌博吧")
    assert (hit.category, hit.kind, hit.term, hit.start, hit.end, hit.why) == ("gambling", "plain", "赌博", 5, 7, ())
    assert hit.excerpt == "明天一起去赌博吧"


@pytest.mark.parametrize(
    ("text", "term", "why", "span"),
    [
        ("賭\u200b博", "赌博", ("invisible",), (0, 3)),
        ("赌 😀 博", "赌博", ("separator",), (0, 5)),
        ("ｄｕｂｏ", "赌博", ("alias", "lookalike"), (0, 4)),
        ("菠菜平台", "博彩平台", ("homophone",), (0, 4)),
        ("在ЅВ群里", "傻逼", ("alias", "lookalike"), (1, 3)),
    ],
)
def test_evasion_hits_say_what_was_undone(
    moderator: Moderator, text: str, term: str, why: tuple[str, ...], span: tuple[int, int]
) -> None:
    (hit,) = moderator.scan(text)
    assert (hit.kind, hit.term, hit.why, (hit.start, hit.end)) == ("evasion", term, why, span)


def test_traditional_script_is_not_an_evasion(moderator: Moderator) -> None:
    (hit,) = moderator.scan("賭博網站")
    assert (hit.kind, hit.term) == ("plain", "赌博")


def test_the_widest_reading_wins_within_a_category(moderator: Moderator) -> None:
    (hit,) = moderator.scan("这个色情网站")
    assert hit.term == "色情网站"


def test_one_span_can_touch_two_categories(moderator: Moderator) -> None:
    assert moderator.categories("领导都是废物") == {"defamation", "insults"}


def test_hits_come_in_text_order(moderator: Moderator) -> None:
    hits = moderator.scan("傻逼，出售冰毒，http://t.cn/x 代开发票")
    assert [h.category for h in hits] == ["insults", "drugs", "malicious_links", "ads"]
    assert [h.start for h in hits] == sorted(h.start for h in hits)


def test_words_too_far_apart_are_not_one_word(moderator: Moderator) -> None:
    assert moderator.scan("赌" + " " * 6 + "博") != []
    assert moderator.scan("赌" + " " * 7 + "博") == []


def test_long_messages_get_a_centred_excerpt(moderator: Moderator) -> None:
    text = "前" * 100 + "出售冰毒" + "后" * 100
    (hit,) = moderator.scan(text)
    assert len(hit.excerpt) <= EXCERPT_LENGTH
    assert hit.excerpt.startswith("…")
    assert hit.excerpt.endswith("…")
    assert "出售冰毒" in hit.excerpt
    assert text[hit.start : hit.end] == "冰毒"


def test_excerpt_is_one_line(moderator: Moderator) -> None:
    (hit,) = moderator.scan("第一行\n出售冰毒\n\n第三行")
    assert hit.excerpt == "第一行 出售冰毒 第三行"


def test_tenant_terms_and_innocent_words() -> None:
    moderator = Moderator.build(tenant_terms={"defamation": ["某某集团是骗子"], "ads": ["团购接龙"]})
    assert moderator.categories("某某集团是骗子！") == {"defamation"}
    assert moderator.categories("团 购 接 龙") == {"ads"}
    # a tenant turns a shipped term off by declaring the word itself innocent
    relaxed = Moderator.build(tenant_innocent=["代购", "打死你"])
    assert relaxed.scan("再吵打死你") == []
    assert Moderator.build().categories("再吵打死你") == {"violence"}


def test_tenant_errors_are_reported() -> None:
    with pytest.raises(LexiconError, match="unknown category"):
        Moderator.build(tenant_terms={"spam": ["x x"]})
    with pytest.raises(LexiconError, match="fewer than two"):
        Moderator.build(tenant_terms={"ads": ["滚"]})
    with pytest.raises(LexiconError, match="list of words"):
        Moderator.build(tenant_terms={"confidential": "凤凰计划"})
    with pytest.raises(LexiconError, match="list of words"):
        Moderator.build(tenant_innocent="大麻烦")


def test_built_once_per_lexicon_version_and_tenant_settings() -> None:
    first = Moderator.build(tenant_terms={"confidential": ["凤凰计划"]})
    again = Moderator.build(default_lexicons(), tenant_terms={"confidential": ("凤凰计划", "凤凰计划")})
    other = Moderator.build(tenant_terms={"confidential": ["青龙计划"]})
    assert first is again
    assert other is not first
    assert other.version != first.version
    reloaded = Lexicons.load()
    assert reloaded == default_lexicons()
    assert hash(reloaded) == hash(default_lexicons())
    assert Moderator.build(reloaded, tenant_terms={"confidential": ["凤凰计划"]}) is first


def test_scan_of_nothing(moderator: Moderator) -> None:
    assert moderator.scan("") == []
    assert moderator.scan("。。。 \u200b\n") == []


def test_a_lone_surrogate_does_not_stop_the_scan(moderator: Moderator) -> None:
    # json.loads accepts "\ud800"; OpenCC cannot encode it, so that character alone stays unconverted.
    (hit,) = moderator.scan("\ud800賭博")
    assert (hit.term, hit.start, hit.end) == ("赌博", 1, 3)
