"""The corp directory as the rules need it: names, departments with their ancestors, positions, leaders and tags of
staff; company and customer tags of external contacts. Read through the WeCom API, cached in DynamoDB
(DirectoryUser / DirectoryDepartment items in the tenant's partition) and in this object.

One `Directory` per reconciliation run (or per warm container): it remembers what it read per (tenant, id), so a
member of many groups costs one lookup. What it reads, per call:

- `facts` for staff: the user's item (GetItem, or nothing when `prefetch`/`known_staff` loaded it). An item fetched
  within `max_age` is used as is; otherwise `user/get`, and the new item is stored (PutItem). Departments come from
  one Query of the tenant's DEPT# items per Directory; a department missing there or older than `max_age` costs
  `department/get` and a PutItem. Tags: taken from the user's item; a user read again through `user/get` gets tags from
  `tag/list` + one `tag/get` per tag, read once per tenant per Directory (and again after `max_age`).
- `facts` for external contacts: `externalcontact/get`, once per contact per Directory; nothing is stored.
- `known_staff`: one Query of the tenant's USER# items and the DEPT# Query; no API call.

Failures: a temporary API or DynamoDB error (RetryableError, a store error) propagates, so the caller retries the
group later; a permanent one (unknown id, no permission, a configuration problem) degrades to what is known, and a
staff member whose userid the directory does not know (60111), who left (status 5) or was deleted is `in_directory`
False — never an exception.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from chalicelib.observability import logger
from chalicelib.record import Record
from chalicelib.rules.roster import MemberFacts
from chalicelib.store import keys
from chalicelib.store.models import DirectoryDepartment, DirectoryUser
from chalicelib.wecom.client import Department, ExternalContact, GroupMember, Tag, User
from chalicelib.wecom.errors import PermanentError

Clock = Callable[[], float]

DEFAULT_MAX_AGE = 24 * 3600
MAX_DEPARTMENT_DEPTH = 16  # departments per chain; WeCom allows 15 levels below the root
USER_UNKNOWN = 60111  # UserID不存在
STATUS_LEFT = 5  # 退出企业
EXTERNAL_TYPE = 2  # groupchat/get member type of an external contact
BATCH_GET_LIMIT = 100


class DirectoryApi(Protocol):
    """What the directory reads; WeComClient is one."""

    def user_get(self, userid: str) -> User: ...

    def department_get(self, department_id: int) -> Department: ...

    def tag_list(self) -> tuple[Tag, ...]: ...

    def tag_users(self, tagid: int) -> tuple[str, ...]: ...

    def external_contact_get(self, external_userid: str) -> ExternalContact: ...


class GroupMemberLike(Protocol):
    """A member as a group listing shows them; `MemberRef` is one."""

    @property
    def userid(self) -> str: ...

    @property
    def external(self) -> bool: ...

    @property
    def nickname(self) -> str: ...

    @property
    def display_name(self) -> str: ...

    @property
    def invitor(self) -> str | None: ...

    @property
    def joined_at(self) -> int: ...


class MemberRef(Record):
    """A member of a group as the platform listed them, before the directory is asked."""

    userid: str
    external: bool = False
    nickname: str = ""
    display_name: str = ""
    invitor: str | None = None
    joined_at: int = 0

    @classmethod
    def of(cls, member: GroupMember) -> MemberRef:
        """From a groupchat/get member (type 2: an external contact)."""
        return cls(
            userid=member.userid,
            external=member.type == EXTERNAL_TYPE,
            nickname=member.group_nickname,
            display_name=member.name,
            invitor=member.invitor,
            joined_at=member.join_time,
        )


@dataclass(slots=True)
class _Seen:
    """An entry of the per-instance cache: the item (None: nothing known), when it was read, and whether it is the
    answer (`resolved`: fresh, or just fetched) or only what the table held (a batch read, known_staff)."""

    item: DirectoryUser | None
    at: float
    resolved: bool


class Directory:
    def __init__(
        self,
        api: DirectoryApi,
        *,
        clock: Clock = time.time,
        max_age: float = DEFAULT_MAX_AGE,
        load_tags: bool = True,
    ) -> None:
        """`load_tags=False` skips tag/list + tag/get when a user is read again (the item's tags stay as they were):
        for tenants with many tags and no rule that uses them."""
        self.api = api
        self.clock = clock
        self.max_age = max_age
        self.load_tags = load_tags
        self._users: dict[tuple[str, str], _Seen] = {}
        self._departments: dict[str, dict[int, DirectoryDepartment | None]] = {}
        self._department_misses: dict[tuple[str, int], float] = {}
        self._tags: dict[str, tuple[float, dict[str, tuple[str, ...]]]] = {}
        self._externals: dict[tuple[str, str], tuple[float, ExternalContact | None]] = {}

    # --- public ------------------------------------------------------------------------------------------------------

    def facts(self, tenant: str, member: GroupMemberLike) -> MemberFacts:
        """What the platform listed about `member`, joined with what the directory says about them."""
        if member.external:
            return self._external_facts(tenant, member)
        item = self._user(tenant, member.userid)
        if item is None or item.deleted:
            return _base(member)
        return self._item_facts(tenant, item, member, fetch=True)

    def facts_all(self, tenant: str, members: Iterable[GroupMemberLike]) -> list[MemberFacts]:
        """`facts` for many members, with their stored items read in batches of 100 (BatchGetItem)."""
        listed = list(members)
        self.prefetch(tenant, [m.userid for m in listed if not m.external])
        return [self.facts(tenant, m) for m in listed]

    def prefetch(self, tenant: str, userids: Iterable[str]) -> None:
        """Read the stored items of `userids` not yet cached here, 100 per BatchGetItem."""
        now = self.clock()
        wanted = list(dict.fromkeys(u for u in userids if u and self._seen(tenant, u, now) is None))
        pk = keys.tenant_pk(tenant)
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            chunk = wanted[start : start + BATCH_GET_LIMIT]
            found = {item.userid: item for item in DirectoryUser.batch_get([(pk, keys.user_sk(u)) for u in chunk])}
            for userid in chunk:
                self._users[(tenant, userid)] = _Seen(found.get(userid), now, resolved=False)

    def known_staff(self, tenant: str) -> list[MemberFacts]:
        """Every staff member the table knows and does not mark deleted (for required members), departments expanded
        from stored departments only: no API call, however old the items."""
        now = self.clock()
        items = DirectoryUser.query(
            keys.tenant_pk(tenant), DirectoryUser.sk.startswith(keys.user_sk("")), consistent_read=False
        )
        staff: list[MemberFacts] = []
        for item in items:
            if not item.userid:
                continue
            if self._seen(tenant, item.userid, now) is None:
                self._users[(tenant, item.userid)] = _Seen(item, now, resolved=False)
            if not item.deleted:
                staff.append(self._item_facts(tenant, item, MemberRef(userid=item.userid), fetch=False))
        return staff

    # --- staff -------------------------------------------------------------------------------------------------------

    def _seen(self, tenant: str, userid: str, now: float) -> _Seen | None:
        seen = self._users.get((tenant, userid))
        return seen if seen is not None and now - seen.at < self.max_age else None

    def _fresh(self, fetched_at: float | None, now: float) -> bool:
        return bool(fetched_at) and now - float(fetched_at or 0) < self.max_age

    def _user(self, tenant: str, userid: str) -> DirectoryUser | None:
        now = self.clock()
        seen = self._seen(tenant, userid, now)
        if seen is not None and seen.resolved:
            return seen.item
        stored = seen.item if seen is not None else self._load_user(tenant, userid)
        # Fresh, or deleted by a change_contact event (fetched_at 0): only create_user brings such a userid back.
        if stored is not None and (self._fresh(stored.fetched_at, now) or (stored.deleted and not stored.fetched_at)):
            item: DirectoryUser | None = stored
        else:
            item = self._fetch_user(tenant, userid, stored)
        self._users[(tenant, userid)] = _Seen(item, now, resolved=True)
        return item

    @staticmethod
    def _load_user(tenant: str, userid: str) -> DirectoryUser | None:
        try:
            return DirectoryUser.get(keys.tenant_pk(tenant), keys.user_sk(userid))
        except DoesNotExist:
            return None

    def _fetch_user(self, tenant: str, userid: str, stored: DirectoryUser | None) -> DirectoryUser | None:
        """user/get, stored as the new item. When WeCom refuses for another reason than an unknown userid (no
        permission, a configuration problem), the stored item however old, else None: stale facts beat treating every
        member as a stranger while a tenant's setup is broken."""
        try:
            user = self.api.user_get(userid)
        except PermanentError as error:
            if error.errcode != USER_UNKNOWN:
                logger.warning(
                    "directory user unreadable",
                    extra={"tenant": tenant, "errcode": error.errcode, "api": error.api},
                )
                return stored
            # Not in the directory: remembered as deleted, so the next lookups within max_age ask nobody.
            gone = _user_item(tenant, userid, deleted=True, fetched_at=int(self.clock()))
            self._save(gone)
            return gone
        tags = self._tag_map(tenant).get(userid, ()) if self.load_tags else _strs(stored.tags if stored else ())
        item = _user_item(
            tenant,
            userid,
            name=user.name or None,
            departments=list(user.department),
            leader_in=[d for d, flag in zip(user.department, user.is_leader_in_dept, strict=False) if flag],
            position=user.position or None,
            tags=list(tags),
            deleted=user.status == STATUS_LEFT,
            fetched_at=int(self.clock()),
        )
        self._save(item)
        return item

    def _item_facts(self, tenant: str, item: DirectoryUser, member: GroupMemberLike, *, fetch: bool) -> MemberFacts:
        ids, names = self._expand(tenant, _ints(item.departments), fetch=fetch)
        return MemberFacts(
            userid=member.userid,
            external=False,
            nickname=member.nickname,
            display_name=member.display_name,
            invitor=member.invitor,
            joined_at=member.joined_at,
            in_directory=True,
            name=item.name or "",
            departments=names,
            department_ids=ids,
            position=item.position or "",
            tags=tuple(_strs(item.tags)),
            leader=bool(item.leader_in),
        )

    @staticmethod
    def _save(item: DirectoryUser | DirectoryDepartment) -> None:
        # The answer is good whether or not it could be stored: a failed write only costs a lookup next time.
        try:
            item.save()
        except PynamoDBException as exc:
            logger.warning("directory cache write failed", extra={"error": type(exc).__name__})

    # --- departments -------------------------------------------------------------------------------------------------

    def _stored_departments(self, tenant: str) -> dict[int, DirectoryDepartment | None]:
        known = self._departments.get(tenant)
        if known is None:
            known = {}
            items = DirectoryDepartment.query(
                keys.tenant_pk(tenant), DirectoryDepartment.sk.startswith(_DEPT_PREFIX), consistent_read=False
            )
            for item in items:
                if item.department_id is not None:
                    known[int(item.department_id)] = item
            self._departments[tenant] = known
        return known

    def _department(self, tenant: str, department_id: int, *, fetch: bool) -> DirectoryDepartment | None:
        known = self._stored_departments(tenant)
        item = known.get(department_id)
        now = self.clock()
        if not fetch or (item is not None and self._fresh(item.fetched_at, now)):
            return item
        missed = self._department_misses.get((tenant, department_id))
        if missed is not None and now - missed < self.max_age:
            return item
        try:
            department = self.api.department_get(department_id)
        except PermanentError as error:
            logger.warning(
                "directory department unreadable",
                extra={"tenant": tenant, "department": department_id, "errcode": error.errcode},
            )
            self._department_misses[(tenant, department_id)] = now
            return item
        fresh = DirectoryDepartment(keys.tenant_pk(tenant), keys.department_sk(department_id))
        fresh.department_id = department_id
        fresh.name = department.name or (item.name if item is not None else None)
        fresh.parent_id = department.parentid or None
        fresh.fetched_at = int(now)
        self._save(fresh)
        known[department_id] = fresh
        return fresh

    def _expand(self, tenant: str, departments: list[int], *, fetch: bool) -> tuple[tuple[int, ...], tuple[str, ...]]:
        """The member's departments, then every department above them (each once; a cycle, or 16 departments from a
        member's department up, ends a chain), as ids and as the names known for them."""
        ids: dict[int, None] = dict.fromkeys(departments)
        names: dict[str, None] = {}
        for start in departments:
            current: int | None = start
            seen: set[int] = set()
            while current and current not in seen and len(seen) < MAX_DEPARTMENT_DEPTH:
                seen.add(current)
                ids.setdefault(current, None)
                item = self._department(tenant, current, fetch=fetch)
                if item is None:
                    break
                if item.name:
                    names.setdefault(item.name, None)
                current = int(cast(float, item.parent_id)) if item.parent_id else None
        return tuple(ids), tuple(names)

    # --- tags --------------------------------------------------------------------------------------------------------

    def _tag_map(self, tenant: str) -> Mapping[str, tuple[str, ...]]:
        """userid -> names of the directory tags on them, read once per tenant per max_age."""
        now = self.clock()
        cached = self._tags.get(tenant)
        if cached is not None and now - cached[0] < self.max_age:
            return cached[1]
        members: dict[str, dict[str, None]] = {}
        try:
            tags = self.api.tag_list()
        except PermanentError as error:
            logger.warning("directory tags unreadable", extra={"tenant": tenant, "errcode": error.errcode})
            tags = ()
        for tag in tags:
            try:
                userids = self.api.tag_users(tag.tagid)
            except PermanentError as error:  # e.g. deleted between the two calls (40068)
                logger.warning(
                    "directory tag unreadable", extra={"tenant": tenant, "tag": tag.tagid, "errcode": error.errcode}
                )
                continue
            for userid in userids:
                if tag.tagname:
                    members.setdefault(userid, {})[tag.tagname] = None
        result = {userid: tuple(names) for userid, names in members.items()}
        self._tags[tenant] = (now, result)
        return result

    # --- external contacts -------------------------------------------------------------------------------------------

    def _external_facts(self, tenant: str, member: GroupMemberLike) -> MemberFacts:
        now = self.clock()
        key = (tenant, member.userid)
        cached = self._externals.get(key)
        if cached is None or now - cached[0] >= self.max_age:
            try:
                contact: ExternalContact | None = self.api.external_contact_get(member.userid)
            except PermanentError as error:
                logger.warning(
                    "external contact unreadable", extra={"tenant": tenant, "errcode": error.errcode, "api": error.api}
                )
                contact = None
            cached = (now, contact)
            self._externals[key] = cached
        contact = cached[1]
        if contact is None:
            return _base(member)
        return MemberFacts(
            userid=member.userid,
            external=True,
            nickname=member.nickname,
            display_name=member.display_name or contact.name,
            invitor=member.invitor,
            joined_at=member.joined_at,
            company=contact.corp_name,
            tags=contact.tag_names,
        )


_DEPT_PREFIX = keys.department_sk(0)[: len("DEPT#")]


def _base(member: GroupMemberLike) -> MemberFacts:
    return MemberFacts(
        userid=member.userid,
        external=member.external,
        nickname=member.nickname,
        display_name=member.display_name,
        invitor=member.invitor,
        joined_at=member.joined_at,
    )


def _user_item(tenant: str, userid: str, **values: Any) -> DirectoryUser:
    return DirectoryUser(keys.tenant_pk(tenant), keys.user_sk(userid), userid=userid, **values)


def _ints(values: Any) -> list[int]:
    # PynamoDB types list attributes as lists of attributes; the values are plain numbers.
    return [int(v) for v in values or ()]


def _strs(values: Any) -> list[str]:
    return [str(v) for v in values or ()]
