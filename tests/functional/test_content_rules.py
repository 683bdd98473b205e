"""Content clauses end to end: signed group messages → Events → decisions → ledger and outbox (篇一 三(3)(5),
篇三 8, 篇四 三(4) in the shipped policies), through the real routes."""

from __future__ import annotations

import json

import pytest
from conftest import NOW
from oracle import app_text, bot_text

from chalicelib.store.models import LedgerEntry, OutboxItem
from qungui_cli.main import main as qungui


def cli(*args: str) -> int:
    return qungui(["--stage", "dev", *args])


def say(client, peer, text: str, msg_id: str, sender: str = "lisi", chat: str | None = "wrSales", at: int = NOW):
    call = peer.bot_post(bot_text(sender, text, msg_id, chat_id=chat), timestamp=at)
    response = client.http.post(call.path, headers={"Content-Type": "application/json"}, body=call.body)
    assert response.status_code == 200, response.body
    return response


def ledger() -> list[LedgerEntry]:
    return list(LedgerEntry.query("T#acme", LedgerEntry.sk.startswith("LEDGER#"), consistent_read=True))


def outbox() -> list[OutboxItem]:
    return list(OutboxItem.query("T#acme", OutboxItem.sk.startswith("OUT#"), consistent_read=True))


def test_gambling_in_a_group_is_warned_recorded_and_the_member_reminded(client, tenant, peer):
    say(client, peer, "@群规助手 新开的菠菜网站，首充送彩金", "m1")
    [entry] = ledger()
    assert (entry.kind, entry.member, entry.group, entry.rule, entry.status) == (
        "warning",
        "lisi",
        "wrSales",
        "content.harmful",
        "active",
    )
    assert entry.clause == "严禁在群内发布色情、赌博、病毒链接。"
    assert entry.evidence == "m1"
    assert entry.excerpt
    assert len(entry.excerpt) <= 60
    assert entry.policy_version == "1"
    [reminder] = outbox()
    assert reminder.to == "lisi"
    content = json.loads(reminder.payload)["text"]["content"]
    assert "赌博" in content
    assert "已记警告一次" in content
    assert "【群规 篇一 三(5)】" in content


def test_a_retry_records_nothing_twice(client, tenant, peer):
    for _ in range(3):
        say(client, peer, "@群规助手 来玩网赌，稳赚", "m-retry")
    assert len(ledger()) == 1
    assert len(outbox()) == 1


def test_evasions_are_caught_and_innocent_words_are_not(client, tenant, peer):
    say(client, peer, "@群规助手 这事真是大麻烦，杀毒软件也装好了", "m-innocent")
    say(client, peer, "@群规助手 賭.博.网.站 了解一下", "m-evasion")
    assert [entry.evidence for entry in ledger()] == ["m-evasion"]


def test_shadow_rules_record_for_the_digest_and_act_on_nobody(client, tenant, peer):
    say(client, peer, "@群规助手 你就是个傻逼", "m-insult")  # default.yaml: content.insults is in shadow mode
    [entry] = ledger()
    assert (entry.kind, entry.rule) == ("shadow", "content.insults")
    assert outbox() == []


def test_one_to_one_messages_are_never_judged(client, tenant, peer):
    call = peer.app_post(app_text("lisi", "赌博网站了解一下", NOW, 777), NOW)
    client.http.post(call.path, headers={"Content-Type": "text/xml"}, body=call.body)
    say(client, peer, "赌博网站了解一下", "m-single", chat=None)
    assert ledger() == []


LADDER_POLICY = """\
schema_version: 1
id: sales
version: "2"
rules:
  - id: content.harmful
    kind: content
    clause: "1.3.5"
    categories: [gambling]
    confirm: admin
    actions:
      - {at: 1, do: [warn]}
      - {at: 2, do: [warn, {fine: 100}, alert_admins]}
"""


def test_the_ladder_climbs_and_a_fine_waits_for_an_admin(client, tenant, peer, tmp_path, directory):
    policy = tmp_path / "sales.yaml"
    policy.write_text(LADDER_POLICY, encoding="utf-8")
    assert cli("policy", "apply", str(policy), "--tenant", "acme") == 0
    directory.forget("acme")
    say(client, peer, "@群规助手 网赌了解一下", "m1", at=NOW)
    say(client, peer, "@群规助手 网赌再了解一下", "m2", at=NOW + 60)
    first, second_warning, fine = sorted(ledger(), key=lambda e: (e.at, e.kind != "warning"))
    assert (first.kind, second_warning.kind, fine.kind) == ("warning", "warning", "fine")
    assert (fine.amount, fine.status, fine.policy_version) == (100, "active", "2")
    alerts = [item for item in outbox() if item.to in ("boss", "deputy")]
    assert sorted(item.to for item in alerts) == ["boss", "deputy"]
    alert = json.loads(alerts[0].payload)["markdown"]["content"]
    assert "第2次" in alert
    assert "罚款100元（待管理员确认）" in alert
    assert f"豁免 {fine.entry_id}" in alert


def test_ledger_cli_json_contract(client, tenant, peer, capsys):
    say(client, peer, "@群规助手 网赌了解一下", "m1")
    capsys.readouterr()
    assert cli("ledger", "--tenant", "acme", "--json") == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert set(entry) == {"id", "kind", "member", "group", "rule", "clause", "amount", "status", "ref", "evidence",
                          "excerpt", "policy_version", "at"}  # fmt: skip
    assert entry["at"].endswith("+08:00")
    assert entry["kind"] == "warning"
    assert entry["amount"] is None
    assert entry["ref"] is None


@pytest.mark.parametrize(
    ("yaml_text", "line", "message"),
    [
        ("schema_version: 1\nid: x\nversion: '1'\nrules:\n  - id: a\n    kind: content\n    clause: '9.9'\n", 7,
         "unknown clause"),
        ("schema_version: 1\nid: x\nversion: '1'\nrules:\n  - id: a\n    kind: nonsense\n    clause: '1.3.5'\n", 6,
         "kind"),
    ],
)  # fmt: skip
def test_policy_validate_names_the_line(tmp_path, capsys, yaml_text, line, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    assert qungui(["policy", "validate", str(path)]) == 2
    error = capsys.readouterr().err
    assert f"line {line}" in error
    assert message in error


def test_policy_show_names_what_runs(tenant, capsys, tmp_path):
    capsys.readouterr()
    assert cli("policy", "show", "--tenant", "acme") == 0
    assert "shipped default" in capsys.readouterr().out
    policy = tmp_path / "sales.yaml"
    policy.write_text(LADDER_POLICY, encoding="utf-8")
    cli("policy", "apply", str(policy), "--tenant", "acme")
    capsys.readouterr()
    assert cli("policy", "show", "--tenant", "acme", "--json") == 0
    assert json.loads(capsys.readouterr().out)["version"] == "2"


def test_evidence_excerpts_expire_with_the_tenants_retention_but_the_entry_stays(client, tenant, peer):
    from datetime import UTC, datetime

    def iso(epoch: int) -> str:
        return datetime.fromtimestamp(epoch, tz=UTC).isoformat()

    say(client, peer, "@群规助手 网赌了解一下", "m1")
    assert cli("job", "retention", "--now", iso(NOW + 179 * 86400)) == 0
    [entry] = ledger()
    assert entry.excerpt
    assert cli("tenant", "add", "acme", "--retention-days", "30") == 0
    assert cli("job", "retention", "--now", iso(NOW + 31 * 86400)) == 0
    [entry] = ledger()
    assert entry.excerpt is None
    assert (entry.kind, entry.evidence, len(entry.evidence_hash)) == ("warning", "m1", 64)
