"""Confidential material: marker words, tenant code names, mobile numbers and checked ID numbers, masked in excerpts."""

from __future__ import annotations

import pytest

from chalicelib.rules.content import Moderator, valid_id_number

# GB 11643-1999's own example number, and one computed for this test (check character 2).
VALID_ID = "11010519491231002X"
OTHER_VALID_ID = "440308199901010012"


@pytest.fixture(scope="module")
def moderator() -> Moderator:
    return Moderator.build(tenant_terms={"confidential": ["凤凰计划", "Project Falcon"]})


def test_id_number_checks() -> None:
    assert valid_id_number(VALID_ID)
    assert valid_id_number(VALID_ID.lower())
    assert valid_id_number(OTHER_VALID_ID)
    assert not valid_id_number("110105194912310021")  # check character
    assert not valid_id_number("110105194902300027")  # 30 February
    assert not valid_id_number("990105194912310025")  # no province 99
    assert not valid_id_number("11010519491231002")  # 17 characters


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("身份证11010519491231002X", (3, 21)),
        ("身份证 110105 19491231 002x 请核对", (4, 24)),
        ("证件号：４４０３０８１９９９０１０１００１２", (4, 22)),
    ],
)
def test_id_numbers_are_found_with_their_span(moderator: Moderator, text: str, span: tuple[int, int]) -> None:
    (hit,) = moderator.scan(text)
    assert (hit.category, hit.kind, hit.term, (hit.start, hit.end)) == (
        "confidential",
        "confidential",
        "id_number",
        span,
    )


@pytest.mark.parametrize(
    "text",
    [
        "订单号 110105194912310021",  # fails the checksum: an order number, not an ID
        "流水号 911010519491231002X",  # part of a longer run
        "批次 11010519491231002X9",
    ],
)
def test_id_lookalikes_pass(moderator: Moderator, text: str) -> None:
    assert moderator.scan(text) == []


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("客户电话13812345678", (4, 15)),
        ("手机 138 1234 5678", (3, 16)),
        ("电话 +86-139-1234-5678", (3, 20)),
        ("联系 008613912345678 找王总", (3, 18)),
        ("手机号 １３８ １２３４ ５６７８", (4, 17)),
    ],
)
def test_mobile_numbers_are_found_in_any_layout(moderator: Moderator, text: str, span: tuple[int, int]) -> None:
    (hit,) = moderator.scan(text)
    assert (hit.term, hit.kind, (hit.start, hit.end)) == ("mobile_number", "confidential", span)


@pytest.mark.parametrize(
    "text",
    [
        "订单号 202411301381234567",
        "工号 12812345678",  # 12x is no mobile prefix
        "金额 1381234567 元",  # ten digits
        "快递单号 SF13812345678",  # glued to letters: a tracking number
        "报销金额 8964 元",
    ],
)
def test_other_numbers_pass(moderator: Moderator, text: str) -> None:
    assert moderator.scan(text) == []


def test_excerpts_never_show_a_whole_phone_or_id_number(moderator: Moderator) -> None:
    text = "客户王总电话13812345678，身份证11010519491231002X，凤凰计划报价单"
    hits = moderator.scan(text)
    assert [h.term for h in hits] == ["mobile_number", "id_number", "凤凰计划"]
    for hit in hits:
        assert "13812345678" not in hit.excerpt
        assert "11010519491231002X" not in hit.excerpt
        assert "138****5678" in hit.excerpt
        assert "110**************X" in hit.excerpt


def test_detectors_can_be_switched_off() -> None:
    moderator = Moderator.build(detect_mobile=False, detect_id_numbers=False)
    hits = moderator.scan("电话13812345678 身份证11010519491231002X")
    assert hits == []


def test_masking_still_applies_when_detection_is_off() -> None:
    moderator = Moderator.build(detect_mobile=False)
    (hit,) = moderator.scan("我是傻逼 13812345678")
    assert hit.category == "insults"
    assert hit.excerpt == "我是傻逼 138****5678"


@pytest.mark.parametrize(
    ("text", "kind", "why"),
    [
        ("凤凰计划下周启动", "plain", ("tenant_term",)),
        ("凤 凰 计 划", "evasion", ("separator", "tenant_term")),
        ("鳳凰計劃", "plain", ("tenant_term",)),
        ("status of PROJECT FALCON?", "plain", ("tenant_term",)),
    ],
)
def test_tenant_code_names(moderator: Moderator, text: str, kind: str, why: tuple[str, ...]) -> None:
    (hit,) = moderator.scan(text)
    assert (hit.category, hit.kind, hit.why) == ("confidential", kind, why)


def test_code_names_belong_to_their_tenant() -> None:
    assert Moderator.build().scan("凤凰计划下周启动") == []


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("内部资料，请勿外传", "内部资料"),
        ("本文件绝密", "绝密"),
        ("CONFIDENTIAL - Q3 pricing", "confidential"),
        ("Internal only: roadmap", "internal only"),
    ],
)
def test_marker_words(moderator: Moderator, text: str, term: str) -> None:
    assert moderator.scan(text)[0].term == term


def test_a_prohibition_does_not_excuse_a_confidential_marker(moderator: Moderator) -> None:
    # 请勿外传 is itself the marker, and 禁止 before 机密文件 still means confidential material is present.
    assert {h.term for h in moderator.scan("禁止转发：机密文件")} == {"禁止转发", "机密文件"}


@pytest.mark.parametrize(
    "text",
    [
        "严格保守公司机密，对业务通报、群内信息、工作内容等严禁转发给非相关人员",  # 篇一 三(4): the rule itself
        "入职请签保密协议",
        "这是内部使用的脚本",
    ],
)
def test_statements_about_confidentiality_pass(moderator: Moderator, text: str) -> None:
    assert moderator.scan(text) == []
