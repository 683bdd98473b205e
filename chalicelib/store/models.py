"""PynamoDB models of the single qungui table (infra/tables.yaml creates it; keys come from store/keys.py).

Connection settings come from the environment: the table name from QUNGUI_TABLE, the region from AWS_REGION or
AWS_DEFAULT_REGION, and the endpoint from botocore's own resolution (AWS_ENDPOINT_URL[_DYNAMODB] for moto and the
local stack), so no model hard-codes a host.
"""

from __future__ import annotations

from typing import TypeVar

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.connection import TableConnection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.config import Settings

SCHEMA_VERSION = 1
_Entity = TypeVar("_Entity", bound="Item")
_settings = Settings.from_env()


class _Meta:
    table_name = _settings.table_name
    region = _settings.region
    # Fail fast instead of hanging a callback past WeCom's 5 s budget.
    connect_timeout_seconds = 2
    read_timeout_seconds = 3
    max_retry_attempts = 2


class DueIndex(GlobalSecondaryIndex[_Entity]):
    """GSI1: items that fall due at a time (open acknowledgements, outbox retries), queried by due time only."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class ActivityIndex(GlobalSecondaryIndex["Item"]):
    """GSI2: members of a group ordered by last activity, for the inactivity sweep."""

    class Meta:
        index_name = "gsi2"
        projection = KeysOnlyProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class Item(Model):
    """Base of every entity: the shared key schema, indexes, TTL and schema version."""

    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    schema_version = NumberAttribute(default=SCHEMA_VERSION)
    due = DueIndex["Item"]()
    activity = ActivityIndex()

    @classmethod
    def _get_connection(cls) -> TableConnection:
        # Every entity shares Item's one connection (one botocore client): PynamoDB would otherwise build a client
        # per model class, each reloading the service model on a cold start (~60 ms, and a TLS handshake on AWS).
        if cls is not Item:
            return Item._get_connection()
        return super()._get_connection()


class TenantRecord(Item):
    """A tenant's non-secret settings; secrets live in SSM under `secrets_parameter`."""

    class Meta(_Meta):
        pass

    corp_id = UnicodeAttribute()
    agent_id = NumberAttribute(null=True)
    admins = ListAttribute(of=UnicodeAttribute, default=list)
    secrets_parameter = UnicodeAttribute()
    # Bumped on every re-key; the previous credentials stay valid until a callback verifies with the new ones.
    secrets_generation = NumberAttribute(default=1)
    previous_retired = BooleanAttribute(default=True)
    bot_enabled = BooleanAttribute(default=False)
    mp_app_id = UnicodeAttribute(null=True)
    mp_mode = UnicodeAttribute(default="safe")
    max_skew = NumberAttribute(default=300)
    govern = UnicodeAttribute(default="all")
    timezone = UnicodeAttribute(default="Asia/Shanghai")
    verify_code = UnicodeAttribute(null=True)
    mp_template_id = UnicodeAttribute(null=True)
    retention_days = NumberAttribute(default=180)  # how long ledger evidence excerpts are kept (docs/data.md)
    policy = UnicodeAttribute(null=True)  # the applied policy's YAML source, for `qungui policy show`
    policy_compiled = UnicodeAttribute(null=True)  # what the request path runs (chalicelib.rules.compiled)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    # GSI1 lists tenants (gsi1pk = tenants_gsi_pk()): scheduled jobs find every tenant without a table scan.
    due = DueIndex["TenantRecord"]()  # type: ignore[assignment]


class VerifyCode(Item):
    """Maps a 可信域名 verification code to the file content WeCom expects at /WW_verify_{code}.txt."""

    class Meta(_Meta):
        pass

    tenant = UnicodeAttribute()
    content = UnicodeAttribute()


class DedupRecord(Item):
    """One per processed callback: written in the same transaction as the event's effects."""

    class Meta(_Meta):
        pass

    event_type = UnicodeAttribute()
    reply_body = UnicodeAttribute(null=True)  # the exact response body returned, for a byte-identical replay
    reply_content_type = UnicodeAttribute(null=True)
    decisions = ListAttribute(of=UnicodeAttribute, default=list)  # decision kinds, for audit; no message text
    processed_at = NumberAttribute()


class MemberActivity(Item):
    """One member of one group, however often they leave and come back (the roster): presence as reconciliation last
    saw it, last activity (for the sweep), counters, and the state of the nickname check."""

    class Meta(_Meta):
        pass

    tenant = UnicodeAttribute()
    chat_id = UnicodeAttribute()
    member = UnicodeAttribute()
    last_active_at = NumberAttribute(default=0)
    messages = NumberAttribute(default=0)
    extra = MapAttribute[str, object](default=dict)
    # None: seen speaking, never reconciled; True/False: in the group or not when the roster was last reconciled.
    present = BooleanAttribute(null=True)
    joined_at = NumberAttribute(null=True)
    left_at = NumberAttribute(null=True)
    joins = NumberAttribute(default=0)  # a member who leaves and rejoins is one item with joins == 2
    external = BooleanAttribute(null=True)
    invitor = UnicodeAttribute(null=True)
    nickname = UnicodeAttribute(null=True)
    name_due_at = NumberAttribute(null=True)  # when the nickname is checked next (after the grace, or a recheck)
    name_wrong_since = NumberAttribute(null=True)  # the nickname has been wrong since; None while it is right


class AccessToken(Item):
    """A platform access token shared by every Lambda: one refresh at a time, guarded by a lease."""

    class Meta(_Meta):
        pass

    token = UnicodeAttribute(null=True)
    token_expires_at = NumberAttribute(default=0)  # epoch seconds after which the token must not be used
    lease_owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(default=0)  # epoch seconds; another refresher waits until then


class GroupRecord(Item):
    """A group qungui knows: its kind decides what can be enforced there (DESIGN.md §1)."""

    class Meta(_Meta):
        pass

    chat_id = UnicodeAttribute()
    kind = UnicodeAttribute(default="unknown")  # customer | appchat | internal | unknown
    governed = BooleanAttribute(default=True)
    name = UnicodeAttribute(null=True)
    owner = UnicodeAttribute(null=True)
    policy = UnicodeAttribute(null=True)  # the policy document applied to this group (YAML text), if any
    policy_compiled = UnicodeAttribute(null=True)  # tenant default + this override, compiled
    # Set by `qungui group add`. None: qungui created the record itself (a change_external_chat for a group nobody
    # enrolled), which a `govern: listed` tenant does not govern.
    enrolled_at = NumberAttribute(null=True)
    first_seen_at = NumberAttribute(null=True)
    admins = ListAttribute(of=UnicodeAttribute, default=list)  # group admins (customer groups: admin_list)
    leaders = ListAttribute(of=UnicodeAttribute, default=list)  # members who are leaders (policy or directory)
    locked_name = UnicodeAttribute(null=True)  # the name renames are compared with (group_name rule)
    member_version = UnicodeAttribute(null=True)  # customer groups: groupchat/get member_version last reconciled
    member_count = NumberAttribute(null=True)
    reconciled_at = NumberAttribute(null=True)
    reconcile_requested_at = NumberAttribute(null=True)
    dismissed_at = NumberAttribute(
        null=True
    )  # the owner dismissed it: no longer read  # an event asked for a reconciliation (lost events, joins)
    required_missing = ListAttribute(of=UnicodeAttribute, default=list)  # required members last reported missing
    digest_sent_for = UnicodeAttribute(null=True)  # the ISO week of the last weekly digest


class OutboxItem(Item):
    """One outbound message: written with the decision that caused it, delivered by jobs/deliver.py.

    While it waits (pending, retrying) it sits in GSI1 under its due time; sent and dead items leave the index, so
    the delivery job reads only what is due. Dead items are kept until an admin re-queues or drops them.
    """

    class Meta(_Meta):
        pass

    tenant = UnicodeAttribute()
    channel = UnicodeAttribute()  # app | appchat | robot | mp
    to = UnicodeAttribute()  # UserID, app chat id, robot name or OpenID
    payload = UnicodeAttribute()  # JSON: {"msgtype": ..., ...} as the platform takes it
    source = UnicodeAttribute()  # the event (or command) that caused it, for audit
    status = UnicodeAttribute(default="pending")  # pending | retrying | sent | dead
    attempts = NumberAttribute(default=0)
    next_attempt_at = NumberAttribute(default=0)
    lease_until = NumberAttribute(default=0)
    slot_at = NumberAttribute(null=True)  # a pacing slot this item reserved (jobs/deliver.py), if any
    last_error = UnicodeAttribute(null=True)
    platform_msgid = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    sent_at = NumberAttribute(null=True)
    # The same GSI1 as Item's, bound to this class so that a query returns OutboxItems (PynamoDB binds an index to
    # the class whose body declares it).
    due = DueIndex["OutboxItem"]()  # type: ignore[assignment]  # narrower on purpose: same index, typed results


class LedgerEntry(Item):
    """One ledger entry (DESIGN.md §4). Entries are never rewritten: a waiver, payment or reversal is a new entry that
    `ref`s the one it settles, and only the settled entry's `status` (a projection of what settles it) changes."""

    class Meta(_Meta):
        pass

    entry_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    member = UnicodeAttribute()
    group = UnicodeAttribute(null=True)
    rule = UnicodeAttribute()
    clause = UnicodeAttribute()  # the clause text as decided: a later rulebook edit never rewrites history
    amount = NumberAttribute(null=True)
    status = UnicodeAttribute()
    ref = UnicodeAttribute(null=True)
    evidence = UnicodeAttribute(default="")
    excerpt = UnicodeAttribute(null=True)
    evidence_hash = UnicodeAttribute(default="")
    policy_version = UnicodeAttribute(default="")
    at = NumberAttribute()
    severity = UnicodeAttribute(null=True)  # warnings: normal | serious (escalation weighs serious ones more)
    due = DueIndex["LedgerEntry"]()  # type: ignore[assignment]  # GSI1 here: entry by id


class AuditRecord(Item):
    """An admin action or a refused attempt at one (DESIGN.md: admin commands from non-admins are audited)."""

    class Meta(_Meta):
        pass

    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    detail = UnicodeAttribute(default="")
    at = NumberAttribute()


class OffenceLog(Item):
    """When a member offended against one rule (epoch seconds); read to place the next offence on the ladder."""

    class Meta(_Meta):
        pass

    times = ListAttribute(of=NumberAttribute, default=list)


class VoiceCounter(Item):
    """Voice messages one member sent in one group in one week (rules/voice.py): a set of message ids, so a replayed
    message never counts twice. Expires a few weeks after its week."""

    class Meta(_Meta):
        pass

    msg_ids = UnicodeSetAttribute(null=True)


class DirectoryUser(Item):
    """What the corp directory says about a staff member (change_contact events, user/get), for names, eligibility,
    leaders and required members. Department ids here; names in DirectoryDepartment."""

    class Meta(_Meta):
        pass

    userid = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    departments = ListAttribute(of=NumberAttribute, default=list)
    leader_in = ListAttribute(of=NumberAttribute, default=list)  # department ids the user leads (is_leader_in_dept)
    position = UnicodeAttribute(null=True)
    tags = ListAttribute(of=UnicodeAttribute, default=list)  # tag names
    deleted = BooleanAttribute(default=False)
    fetched_at = NumberAttribute(default=0)  # when user/get last answered (0: known only from events)


class DirectoryDepartment(Item):
    class Meta(_Meta):
        pass

    department_id = NumberAttribute()
    name = UnicodeAttribute(null=True)
    parent_id = NumberAttribute(null=True)
    fetched_at = NumberAttribute(default=0)


class RateWindow(Item):
    """Pacing for one sending limit (a member's 30 app messages a minute, a robot's 20): the earliest time the next
    message may go out (GCRA's theoretical arrival time, with no burst)."""

    class Meta(_Meta):
        pass

    next_free_at = NumberAttribute(default=0)


ALL_MODELS: tuple[type[Item], ...] = (
    Item,
    TenantRecord,
    VerifyCode,
    DedupRecord,
    MemberActivity,
    AccessToken,
    GroupRecord,
    OutboxItem,
    RateWindow,
    LedgerEntry,
    AuditRecord,
    OffenceLog,
    VoiceCounter,
    DirectoryUser,
    DirectoryDepartment,
)


def reset_connection() -> None:
    """Drop the shared connection (tests: a client must not outlive the mock it was made under)."""
    Item._connection = None
