"""rulebooks.md (the normalized seed rulebooks) and the four seed policies built on it: every clause has a stable id,
and every clause is either enforced by a rule of its rulebook's policy or listed as unenforceable with a reason."""

from __future__ import annotations

import re

import pytest

from chalicelib.policies import RULEBOOKS_PATH, RulebookFormatError, clauses, parse_rulebooks, rulebooks
from chalicelib.rules.policy import (
    SEED_POLICIES,
    ContentRule,
    NicknameFormatRule,
    Policy,
    default_policy,
    merge,
    shipped_policy,
)

SEED_RULEBOOK = dict(zip(SEED_POLICIES, ("1", "2", "3", "4"), strict=True))


def test_rulebooks_have_their_names_and_clause_counts() -> None:
    books = rulebooks()

    assert {book.id: (book.label, book.name, len(book.clause_ids)) for book in books.values()} == {
        "1": ("篇一", "ART精英交流群", 16),
        "2": ("篇二", "酒神公司", 11),
        "3": ("篇三", "五七五同窗再聚首", 10),
        "4": ("篇四", "安徽商会", 8),
    }
    assert len(clauses()) == 45


@pytest.mark.parametrize(
    ("clause_id", "fragment"),
    [
        ("1.2.1", "微信群名：ART精英交流群。"),
        ("1.4.2", "如超过30分钟依然没有回应或者解决的，负责此项问题的人员将承担100元的罚款。"),
        ("1.4.5", "否则每次罚款50元。"),
        ("2.3.3", "命名规则：部门+姓名；例如：“销售部-张三”。"),
        ("2.3.8", "分享到朋友圈"),
        ("3.7", "三个月不发一次言者，请自觉退出本群。"),
        ("3.8", "同学于同学之间不能有歧视"),  # the source's own slip, kept
        ("3.10", "本着自愿的原则进群"),  # 本著 in the source: an OpenCC conversion error, fixed
        ("4.3.2", "命名规则：所在公司+部门职位+姓名；例如：“安徽商会金融服务部张三”。"),
        ("4.3.4", "处罚当事人发群红包"),
        ("4.4", "本制度自发布之日起执行。"),
    ],
)
def test_clause_texts(clause_id: str, fragment: str) -> None:
    assert fragment in clauses()[clause_id].text


def test_clauses_know_their_rulebook_and_section() -> None:
    found = clauses()

    assert (found["1.1"].rulebook, found["1.1"].section) == ("1", "总则")
    assert (found["1.4.2"].rulebook, found["1.4.2"].section) == ("1", "微信群管理要求")
    assert (found["2.3.5"].rulebook, found["2.3.5"].section) == ("2", "基本要求")
    assert (found["3.7"].rulebook, found["3.7"].section) == ("3", None)
    assert (found["4.3.2"].rulebook, found["4.3.2"].section) == ("4", "基本要求")
    assert found["1.5"].section is None
    # 4.3.2 spans three lines in the source: one clause, how-to and naming rule together.
    assert found["4.3.2"].text.startswith("群成员一律实名制。操作方法：")


def test_clause_texts_are_clean_simplified_chinese() -> None:
    traditional = set("規發員會學與著進內關對決則絡嚴現實應辦門確經認給時為稱點問題罰執網溝須擊標開業務當語處個")
    for clause in clauses().values():
        assert not re.search(r"\([a-zü\u00e0-\u01dc]+\)", clause.text), clause.id  # no pinyin gloss
        assert not traditional & set(clause.text), clause.id
        assert not re.search(r"[,:;()]", clause.text), clause.id  # full-width punctuation inside Chinese text
        assert clause.text == clause.text.strip()
        assert "  " not in clause.text


def test_parse_rejects_malformed_rulebooks_naming_the_line() -> None:
    head = "## [1] 篇一：测试\n### [1.2] 节\n- [1.2.1] 甲。\n"
    cases = {
        head + "- [1.2.1] 乙。\n": "rulebooks.md:4: clause 1.2.1 appears twice",
        head + "- [2.1] 乙。\n": "rulebooks.md:4: clause '2.1' is outside rulebook 1",
        head + "- [1.3.1] 乙。\n": "rulebooks.md:4: clause 1.3.1 has no section 1.3",
        "- [1.1] 甲。\n": "rulebooks.md:1: clause '1.1' is outside rulebook None",
        head + "## [1] 篇二：又一\n": "rulebooks.md:4: rulebook 1 appears twice",
        "## [1] 篇一：空\n": "rulebooks.md: rulebook 1 has no clause",
    }
    for text, message in cases.items():
        with pytest.raises(RulebookFormatError) as raised:
            parse_rulebooks(text)
        assert str(raised.value) == message


def test_commentary_lines_are_not_clauses() -> None:
    books, found = parse_rulebooks("# title\nprose - [9] not a clause\n## [1] 篇一：名\n说明\n- [1.1] 甲。\n")

    assert list(found) == ["1.1"]
    assert books["1"].clause_ids == ("1.1",)


def test_the_shipped_file_parses_the_same_as_the_cache() -> None:
    books, found = parse_rulebooks(RULEBOOKS_PATH.read_text(encoding="utf-8"))

    assert found == dict(clauses())
    assert books == dict(rulebooks())


@pytest.mark.parametrize("name", SEED_POLICIES)
def test_every_clause_of_a_rulebook_is_mapped_or_declared_unenforceable(name: str) -> None:
    policy = shipped_policy(name)
    book = rulebooks()[SEED_RULEBOOK[name]]
    assert policy.rulebook is not None
    assert policy.rulebook.id == book.id

    enforced = policy.covered_clauses()
    unenforceable = {entry.clause for entry in policy.unenforceable}

    assert set(book.clause_ids) - enforced - unenforceable == set(), "clauses left out"
    assert (enforced | unenforceable) - set(book.clause_ids) == set(), "clauses of another rulebook"
    # A clause both enforced and listed as unenforceable must say which part no rule covers.
    for entry in policy.unenforceable:
        if entry.clause in enforced:
            assert entry.part, entry.clause
        assert entry.part is None or entry.part in clauses()[entry.clause].text, entry.clause


@pytest.mark.parametrize("name", SEED_POLICIES)
def test_declarative_clauses_are_marked(name: str) -> None:
    policy = shipped_policy(name)
    declarative = {entry.clause for entry in policy.unenforceable if entry.declarative}
    # Purpose, scope and effective-date clauses: nothing to enforce.
    for clause_id in ("1.1", "1.5", "2.1", "2.2", "2.4", "4.1", "4.2", "4.4"):
        if clause_id.startswith(SEED_RULEBOOK[name] + "."):
            assert clause_id in declarative


def test_the_fines_and_penalties_of_the_rulebooks() -> None:
    art = shipped_policy("art_elite")
    task, shirking = art.rule("ack.task"), art.rule("manual.shirking")

    assert (task.clause, task.fine_amount(task.actions_for(1)[0])) == ("1.4.2", 100)
    assert (shirking.clause, shirking.fine_amount(shirking.actions_for(1)[0])) == ("1.4.5", 50)
    assert task.confirm == shirking.confirm == "admin"
    chamber = shipped_policy("anhui_chamber")
    red_packets = [rule.id for rule in chamber.rules if any(a.type == "red_packet" for a in rule.actions_for(1))]
    assert red_packets == ["content.harmful", "content.illegal", "content.ads", "content.insults"]
    assert all(rule.clause == "4.3.4" for rule in map(chamber.rule, red_packets))
    assert [a.type for a in chamber.rule("voice.budget").actions_for(10)] == ["remind"]


def test_nickname_patterns_follow_the_rulebooks() -> None:
    patterns = {name: shipped_policy(name).rule("nickname.format") for name in SEED_POLICIES}

    assert {name: rule.pattern for name, rule in patterns.items() if isinstance(rule, NicknameFormatRule)} == {
        "art_elite": "{name}",
        "jiushen": "{department}-{name}",
        "classmates_575": "{name}",
        "anhui_chamber": "{company}{department}{position?}{name}",
    }


def test_default_is_what_the_four_share() -> None:
    # Each default rule has a namesake of the same kind in every seed policy, so a seed used as a group override
    # replaces it rather than running beside it.
    default = default_policy()
    assert default.rulebook is None
    for name in SEED_POLICIES:
        seed = shipped_policy(name)
        for rule in default.rules:
            assert type(seed.rule(rule.id)) is type(rule), (name, rule.id)


@pytest.mark.parametrize("name", SEED_POLICIES)
def test_a_seed_over_the_default_never_judges_one_thing_twice(name: str) -> None:
    merged = merge(default_policy(), shipped_policy(name))

    categories = [c for rule in merged.rules_of(ContentRule) for c in rule.categories]
    assert len(categories) == len(set(categories))
    assert len(merged.rules_of(NicknameFormatRule)) == 1


def test_default_quotes_excerpts_of_the_clauses_it_cites() -> None:
    default = default_policy()

    for rule in default.rules:
        quoted = default.quote(rule).rstrip("。")
        # An excerpt: every phrase of the quote comes from the cited clause, less a seed's own group name.
        source = re.sub(r"：“[^”]*”", "", clauses()[rule.clause].text)
        assert all(phrase in source for phrase in re.split(r"[，、。]", quoted) if phrase), rule.id


def test_the_existing_self_service_answers_cite_real_clauses() -> None:
    # chalicelib/rules/commands.py cites 2.3.2 and 3.9; a renumbering here would silently orphan them.
    assert "我在本群的昵称" in clauses()["2.3.2"].text
    assert "消息免打扰" in clauses()["3.9"].text


def test_shipped_policies_are_policies() -> None:
    for name in ("default", *SEED_POLICIES):
        assert isinstance(shipped_policy(name), Policy)
