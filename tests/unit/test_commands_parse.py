"""Reading commands as people type them: words with or without a space, full-width forms, clause labels in every
numbering the rulebooks use, mentions and entry ids."""

from __future__ import annotations

import pytest

from chalicelib.rules import compiled
from chalicelib.rules.commands_parse import clause_ref, entry_ref, mention, parse


@pytest.mark.parametrize(
    ("text", "command", "rest"),
    [
        ("帮助", "帮助", ""),
        ("？", "帮助", ""),
        ("ｈｅｌｐ", "帮助", ""),
        ("我的记录。", "我的记录", ""),
        ("为什么？", "为什么", ""),
        ("为什么我被罚款了", "为什么", "我被罚款了"),
        ("群规", "群规", ""),
        ("群规 篇二 3.2", "群规", "篇二 3.2"),
        ("群规2.3.2", "群规", "2.3.2"),
        ("群规【篇四 三(4)】", "群规", "【篇四 三(4)】"),
        ("记录 @zhangsan", "记录", "@zhangsan"),
        ("记录@zhangsan", "记录", "@zhangsan"),
        ("豁免 LABCDEFGH 误判", "豁免", "LABCDEFGH 误判"),
        ("豁免LABCDEFGH 误判", "豁免", "LABCDEFGH 误判"),
        ("确认 labcdefgh", "确认", "labcdefgh"),
        ("警告 @lisi 篇一 三(5) 截图举报：发赌博链接", "警告", "@lisi 篇一 三(5) 截图举报：发赌博链接"),
        ("影子报告", "影子报告", ""),
        ("改昵称", "改昵称", ""),
        ("群昵称", "改昵称", ""),
    ],
)
def test_commands_are_read_with_and_without_a_space(text, command, rest):
    parsed = parse(text)
    assert parsed is not None
    assert (parsed.command, parsed.rest) == (command, rest)


@pytest.mark.parametrize(
    "text", ["确认收到", "群规助手你好", "记录一下这个问题", "为什么不能发链接", "你好", "警告一下"]
)
def test_talk_that_starts_like_a_command_is_not_one(text):
    assert parse(text) is None


def test_free_text_keeps_what_was_typed_while_words_are_folded():
    parsed = parse("豁免 ＬＡＢＣＤＥＦＧＨ 误判：已核实（截图）")
    assert parsed is not None
    assert entry_ref(parsed.rest) == ("LABCDEFGH", "误判：已核实（截图）")


@pytest.mark.parametrize(
    ("reference", "clause"),
    [
        ("篇二 3.2", "2.3.2"),
        ("篇二3.2", "2.3.2"),
        ("2.3.2", "2.3.2"),
        ("篇一 四(2)", "1.4.2"),
        ("篇一 四（2）", "1.4.2"),
        ("篇一四、2", "1.4.2"),
        ("篇三 9", "3.9"),
        ("【篇四 三(4)】", "4.3.4"),
        ("3.2。", "3.2"),
        ("content.harmful", "1.3.5"),  # a rule id of the policy names its clause
        ("9.9", None),
        ("篇一", None),
        ("篇九 1", None),
    ],
)
def test_clause_references_in_every_numbering(reference, clause):
    assert clause_ref(reference, compiled.shipped("default"))[0] == clause


def test_a_clause_reference_leaves_the_rest_as_typed():
    assert clause_ref("篇一 三(5) 截图举报：发赌博链接", compiled.shipped("default")) == (
        "1.3.5",
        "截图举报：发赌博链接",
    )


def test_mentions_take_the_token_after_at_as_the_userid():
    assert mention("@zhangsan 篇一 三(5) 说明") == ("zhangsan", "篇一 三(5) 说明")
    assert mention("＠张三") == ("张三", "")
    assert mention("lisi") == ("lisi", "")


def test_entry_ids_are_upper_cased_and_may_be_glued_to_the_reason():
    assert entry_ref("labcdefgh") == ("LABCDEFGH", "")
    assert entry_ref("LABCDEFGH误判") == ("LABCDEFGH", "误判")
    assert entry_ref("12345 原因") == ("12345", "原因")
    assert entry_ref("") == ("", "")
