"""Outbound WeCom API (reference/wecom-protocol.md §5): app messages, app-created groups, customer groups, the
chat-archive group list, members, and group-robot webhooks.

One `WeComClient` per app credential (corp_id, agent_id, secret); keep it for the life of a warm container so the
token stays in memory. Calls raise `chalicelib.wecom.errors` types and never retry, except once after a rejected
token: backing off is the outbox's job, so that no callback or delivery worker ever sleeps on a platform.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from chalicelib.wecom.errors import INVALID_TOKEN, TOKEN_EXPIRED
from chalicelib.wecom.http import JsonHttp, api_base, build_url
from chalicelib.wecom.tokens import Clock, IssuedToken, Sleep, TokenApi, TokenCache, TokenPolicy, issued_token

WECOM_API_BASE_ENV = "QUNGUI_WECOM_API_BASE"
WECOM_API_BASE_DEFAULT = "https://qyapi.weixin.qq.com"
TOKEN_REJECTED = frozenset({INVALID_TOKEN, TOKEN_EXPIRED})
MAX_TOUSER = 1000
MAX_PARTY_OR_TAG = 100
MAX_DUPLICATE_CHECK_INTERVAL = 4 * 3600


def wecom_api_base(env: Mapping[str, str] | None = None) -> str:
    """The WeCom API origin (and optional path prefix, for a proxy): QUNGUI_WECOM_API_BASE or Tencent's."""
    return api_base(WECOM_API_BASE_ENV, WECOM_API_BASE_DEFAULT, env)


# --- messages ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    msgtype: ClassVar[str] = "text"
    content: str
    # Robot webhooks only: @-mention members by UserID or "@all".
    mentioned_list: tuple[str, ...] = ()

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"content": self.content}
        if self.mentioned_list:
            body["mentioned_list"] = list(self.mentioned_list)
        return body


@dataclass(frozen=True, slots=True)
class Markdown:
    msgtype: ClassVar[str] = "markdown"
    content: str

    def body(self) -> dict[str, Any]:
        return {"content": self.content}


@dataclass(frozen=True, slots=True)
class TextCard:
    msgtype: ClassVar[str] = "textcard"
    title: str
    description: str
    url: str
    btntxt: str = "详情"

    def body(self) -> dict[str, Any]:
        return {"title": self.title, "description": self.description, "url": self.url, "btntxt": self.btntxt}


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    key: str  # comes back in the template_card_event callback (EventKey)
    style: int = 1  # 1..4


@dataclass(frozen=True, slots=True)
class TemplateCard:
    """A template card; by default the button_interaction kind, whose clicks arrive as template_card_event.

    `task_id` identifies the card in the click callback and must be unique per app (≤128 bytes of [0-9A-Za-z_-@]).
    `extra` carries any other documented card field (source, quote_area, card_action, replace_text, ...).
    """

    msgtype: ClassVar[str] = "template_card"
    title: str
    task_id: str | None = None
    desc: str | None = None
    card_type: str = "button_interaction"
    sub_title_text: str | None = None
    horizontal_content: tuple[tuple[str, str], ...] = ()
    buttons: tuple[Button, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        main_title: dict[str, str] = {"title": self.title}
        if self.desc is not None:
            main_title["desc"] = self.desc
        card: dict[str, Any] = {"card_type": self.card_type, "main_title": main_title}
        if self.sub_title_text is not None:
            card["sub_title_text"] = self.sub_title_text
        if self.horizontal_content:
            card["horizontal_content_list"] = [{"keyname": k, "value": v} for k, v in self.horizontal_content]
        if self.task_id is not None:
            card["task_id"] = self.task_id
        if self.buttons:
            card["button_list"] = [{"text": b.text, "style": b.style, "key": b.key} for b in self.buttons]
        card.update(self.extra)
        return card


Message = Text | Markdown | TextCard | TemplateCard
APPCHAT_TYPES = (Text, Markdown, TextCard)  # appchat/send has no template_card


def message_payload(message: Message) -> dict[str, Any]:
    return {"msgtype": message.msgtype, message.msgtype: message.body()}


# --- results -------------------------------------------------------------------------------------------------------


def _ids(value: Any) -> tuple[str, ...]:
    # message/send reports invalid recipients as "id1|id2".
    return tuple(part for part in str(value or "").split("|") if part)


@dataclass(frozen=True, slots=True)
class SendResult:
    msgid: str | None = None  # needed for message/recall
    invaliduser: tuple[str, ...] = ()
    invalidparty: tuple[str, ...] = ()
    invalidtag: tuple[str, ...] = ()
    unlicenseduser: tuple[str, ...] = ()
    response_code: str | None = None  # lets the app update a template card later

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SendResult:
        msgid = data.get("msgid")
        return cls(
            msgid=None if msgid in (None, "") else str(msgid),
            invaliduser=_ids(data.get("invaliduser")),
            invalidparty=_ids(data.get("invalidparty")),
            invalidtag=_ids(data.get("invalidtag")),
            unlicenseduser=_ids(data.get("unlicenseduser")),
            response_code=data.get("response_code") or None,
        )


@dataclass(frozen=True, slots=True)
class AppChat:
    chatid: str
    name: str
    owner: str
    userlist: tuple[str, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AppChat:
        info = data.get("chat_info") or {}
        return cls(
            chatid=str(info.get("chatid", "")),
            name=str(info.get("name", "")),
            owner=str(info.get("owner", "")),
            userlist=tuple(str(u) for u in info.get("userlist") or ()),
        )


@dataclass(frozen=True, slots=True)
class GroupMember:
    userid: str
    type: int  # 1 member of the corp, 2 external contact
    join_time: int
    join_scene: int  # 1 invited directly, 2 invitation link, 3 QR code (not the event's JoinScene coding)
    invitor: str | None = None
    group_nickname: str = ""
    name: str = ""  # only with need_name
    unionid: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GroupMember:
        invitor = data.get("invitor") or {}
        return cls(
            userid=str(data.get("userid", "")),
            type=int(data.get("type", 0)),
            join_time=int(data.get("join_time", 0)),
            join_scene=int(data.get("join_scene", 0)),
            invitor=invitor.get("userid") or None,
            group_nickname=str(data.get("group_nickname") or ""),
            name=str(data.get("name") or ""),
            unionid=data.get("unionid") or None,
        )


@dataclass(frozen=True, slots=True)
class CustomerGroup:
    chat_id: str
    name: str
    owner: str
    create_time: int
    notice: str
    members: tuple[GroupMember, ...]
    admins: tuple[str, ...]
    member_version: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CustomerGroup:
        chat = data.get("group_chat") or {}
        return cls(
            chat_id=str(chat.get("chat_id", "")),
            name=str(chat.get("name") or ""),
            owner=str(chat.get("owner") or ""),
            create_time=int(chat.get("create_time") or 0),
            notice=str(chat.get("notice") or ""),
            members=tuple(GroupMember.from_json(m) for m in chat.get("member_list") or ()),
            admins=tuple(str(a.get("userid", "")) for a in chat.get("admin_list") or ()),
            member_version=chat.get("member_version") or None,
        )


@dataclass(frozen=True, slots=True)
class ArchiveRoom:
    """An internal group as the chat archive knows it (msgaudit/groupchat/get)."""

    roomid: str
    roomname: str
    creator: str
    room_create_time: int
    notice: str
    members: tuple[tuple[str, int], ...]  # (memberid, jointime)

    @classmethod
    def from_json(cls, roomid: str, data: Mapping[str, Any]) -> ArchiveRoom:
        return cls(
            roomid=roomid,
            roomname=str(data.get("roomname") or ""),
            creator=str(data.get("creator") or ""),
            room_create_time=int(data.get("room_create_time") or 0),
            notice=str(data.get("notice") or ""),
            members=tuple((str(m.get("memberid", "")), int(m.get("jointime") or 0)) for m in data.get("members") or ()),
        )


@dataclass(frozen=True, slots=True)
class User:
    userid: str
    name: str
    department: tuple[int, ...]
    is_leader_in_dept: tuple[int, ...]
    main_department: int | None
    position: str
    status: int | None  # 1 active, 2 disabled, 4 not activated, 5 left
    raw: Mapping[str, Any]  # every other field the app is allowed to see

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> User:
        main = data.get("main_department")
        status = data.get("status")
        return cls(
            userid=str(data.get("userid", "")),
            name=str(data.get("name") or ""),
            department=tuple(int(d) for d in data.get("department") or ()),
            is_leader_in_dept=tuple(int(d) for d in data.get("is_leader_in_dept") or ()),
            main_department=None if main is None else int(main),
            position=str(data.get("position") or ""),
            status=None if status is None else int(status),
            raw=dict(data),
        )


# Directory reads (department/get, tag/list, tag/get, externalcontact/get). Checked against the WeCom docs'
# third-party/代开发 copies of the pages, which document the same API as the self-built ones:
# - department/get: path/95407 获取单个部门详情 (GET ?id=; `department: {id, name, name_en, department_leader,
#   parentid, order}`; a self-built app sees only departments within its visibility scope);
# - tag/list: path/90352 获取标签列表 (GET; `taglist: [{tagid, tagname}]`; self-built apps see every tag);
# - tag/get: path/90349 获取标签成员 (GET ?tagid=; `tagname, userlist: [{userid, name}], partylist: [ids]`; only
#   members within the app's visibility are listed);
# - externalcontact/get: path/96315 获取客户详情 (GET ?external_userid=&cursor=; `external_contact: {external_userid,
#   name, type, corp_name, corp_full_name, ...}, follow_user: [{userid, tags: [{group_name, tag_name, tag_id,
#   type}], ...}]`; the app must be listed in 「客户联系 → 可调用接口的应用」).
# Not verified: the `type` values of follow_user tags (1 企业设置 / 2 用户自定义 / 3 规则组) come from community and
# secondary pages, not from the page itself; `next_cursor` paging (a customer followed by more than 500 members) is
# not followed here; a tag's `partylist` (departments tagged as a whole) is not expanded by `tag_users`.


@dataclass(frozen=True, slots=True)
class Department:
    id: int
    name: str  # "" when the app may not see it
    parentid: int  # 0 for the root department (id 1)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Department:
        department = data.get("department") or {}
        return cls(
            id=int(department.get("id") or 0),
            name=str(department.get("name") or ""),
            parentid=int(department.get("parentid") or 0),
        )


@dataclass(frozen=True, slots=True)
class Tag:
    """A directory (通讯录) tag on members; not a customer tag."""

    tagid: int
    tagname: str


CORP_TAG = 1  # follow_user tags: 1 set by the corp (企业标签); 2 a member's own; 3 a rule group's


@dataclass(frozen=True, slots=True)
class ExternalContact:
    external_userid: str
    name: str
    corp_name: str  # the company's short name; "" for WeChat users and when hidden
    tag_names: tuple[str, ...]  # the corp's customer tags (type 1) any following member set, deduplicated
    type: int = 0  # 1 WeChat user, 2 WeCom user

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExternalContact:
        contact = data.get("external_contact") or {}
        names: dict[str, None] = {}
        for follow in data.get("follow_user") or ():
            for tag in (follow or {}).get("tags") or ():
                name = str((tag or {}).get("tag_name") or "")
                if name and int(tag.get("type") or 0) == CORP_TAG:
                    names[name] = None
        return cls(
            external_userid=str(contact.get("external_userid") or ""),
            name=str(contact.get("name") or ""),
            corp_name=str(contact.get("corp_name") or contact.get("corp_full_name") or ""),
            tag_names=tuple(names),
            type=int(contact.get("type") or 0),
        )


# --- clients -------------------------------------------------------------------------------------------------------


def _join(ids: str | Sequence[str], limit: int, name: str) -> str:
    if isinstance(ids, str):
        return ids
    if len(ids) > limit:
        raise ValueError(f"{name}: at most {limit} recipients per call, got {len(ids)}")
    return "|".join(ids)


def _no_mentions(message: Message) -> None:
    # WeCom ignores mentioned_list outside robot messages: refuse rather than let a mention silently vanish.
    if isinstance(message, Text) and message.mentioned_list:
        raise ValueError("mentioned_list works only in robot webhook messages")


class RobotClient:
    """Group-robot webhooks. The key is the robot's only credential: it never appears in a log line or an error."""

    def __init__(self, *, base_url: str | None = None, http: JsonHttp | None = None) -> None:
        self.base_url = (base_url or wecom_api_base()).rstrip("/")
        self.http = http or JsonHttp.shared()

    def send(self, key: str, payload: Message | Mapping[str, Any]) -> None:
        """POST webhook/send; `payload` is a message, or a raw body of a type the robot supports (news, image...)."""
        body = message_payload(payload) if isinstance(payload, Message) else dict(payload)
        self.http.post(build_url(self.base_url, "cgi-bin/webhook/send", {"key": key}), body, api="wecom:webhook/send")


class WeComClient(TokenApi):
    """One self-built app's outbound API; every method returns parsed results or raises a WeComError."""

    token_rejected = TOKEN_REJECTED

    def __init__(
        self,
        corp_id: str,
        agent_id: int,
        secret: str,
        *,
        base_url: str | None = None,
        http: JsonHttp | None = None,
        token_policy: TokenPolicy | None = None,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        credential: str | None = None,
    ) -> None:
        """`credential` names the secret in the shared token cache when it is not the app's own (e.g. "msgaudit"
        for the chat archive's secret): every secret has its own token."""
        self.corp_id = corp_id
        self.agent_id = int(agent_id)
        self._secret = secret
        self.base_url = (base_url or wecom_api_base()).rstrip("/")
        self.http = http or JsonHttp.shared()
        self.tokens = TokenCache(
            "wecom",
            f"{corp_id}:{credential or self.agent_id}",
            self._fetch_token,
            policy=token_policy,
            clock=clock,
            sleep=sleep,
        )
        self.robot = RobotClient(base_url=self.base_url, http=self.http)

    def __repr__(self) -> str:
        return f"WeComClient(corp_id={self.corp_id!r}, agent_id={self.agent_id})"

    def send_message(
        self,
        touser: str | Sequence[str],
        message: Message,
        *,
        toparty: str | Sequence[str] = (),
        totag: str | Sequence[str] = (),
        safe: bool = False,
        enable_id_trans: bool = False,
        enable_duplicate_check: bool = False,
        duplicate_check_interval: int = 1800,
    ) -> SendResult:
        """message/send from the app to members. WeCom drops (without error) whatever exceeds 30 messages per member
        per minute: the outbox paces sends. With the duplicate check, WeCom ignores an identical message sent to the
        same recipients within `duplicate_check_interval` seconds (≤ 4 h)."""
        _no_mentions(message)
        if not 0 < duplicate_check_interval <= MAX_DUPLICATE_CHECK_INTERVAL:
            raise ValueError("duplicate_check_interval must be within 1..14400 seconds")
        body: dict[str, Any] = {"agentid": self.agent_id, **message_payload(message)}
        for name, ids, limit in (
            ("touser", touser, MAX_TOUSER),
            ("toparty", toparty, MAX_PARTY_OR_TAG),
            ("totag", totag, MAX_PARTY_OR_TAG),
        ):
            joined = _join(ids, limit, name)
            if joined:
                body[name] = joined
        if not any(name in body for name in ("touser", "toparty", "totag")):
            raise ValueError("message/send needs at least one recipient")
        body["safe"] = int(safe)
        body["enable_id_trans"] = int(enable_id_trans)
        body["enable_duplicate_check"] = int(enable_duplicate_check)
        body["duplicate_check_interval"] = duplicate_check_interval
        return SendResult.from_json(self.call("POST", "message/send", body=body))

    def appchat_send(self, chatid: str, message: Message, *, safe: bool = False) -> SendResult:
        """appchat/send into a group this app created. Members receive at most 200 app messages a minute."""
        if not isinstance(message, APPCHAT_TYPES):
            raise ValueError(f"appchat/send does not take {message.msgtype}")
        _no_mentions(message)
        body = {"chatid": chatid, **message_payload(message), "safe": int(safe)}
        return SendResult.from_json(self.call("POST", "appchat/send", body=body))

    def appchat_create(self, name: str, owner: str, userlist: Sequence[str], *, chatid: str | None = None) -> str:
        body: dict[str, Any] = {"name": name, "owner": owner, "userlist": list(userlist)}
        if chatid:
            body["chatid"] = chatid
        return str(self.call("POST", "appchat/create", body=body).get("chatid") or chatid or "")

    def appchat_update(
        self,
        chatid: str,
        *,
        name: str | None = None,
        owner: str | None = None,
        add_user_list: Sequence[str] = (),
        del_user_list: Sequence[str] = (),
    ) -> None:
        """Rename back, hand over, add or remove members (≤ 1000 changes an hour per corp)."""
        body: dict[str, Any] = {"chatid": chatid}
        if name is not None:
            body["name"] = name
        if owner is not None:
            body["owner"] = owner
        if add_user_list:
            body["add_user_list"] = list(add_user_list)
        if del_user_list:
            body["del_user_list"] = list(del_user_list)
        self.call("POST", "appchat/update", body=body)

    def appchat_get(self, chatid: str) -> AppChat:
        return AppChat.from_json(self.call("GET", "appchat/get", query={"chatid": chatid}))

    def groupchat_get(self, chat_id: str, *, need_name: bool = True) -> CustomerGroup:
        body = {"chat_id": chat_id, "need_name": int(need_name)}
        return CustomerGroup.from_json(self.call("POST", "externalcontact/groupchat/get", body=body))

    def msgaudit_groupchat_get(self, roomid: str) -> ArchiveRoom:
        return ArchiveRoom.from_json(roomid, self.call("POST", "msgaudit/groupchat/get", body={"roomid": roomid}))

    def user_get(self, userid: str) -> User:
        return User.from_json(self.call("GET", "user/get", query={"userid": userid}))

    def department_get(self, department_id: int) -> Department:
        """department/get; 60123 for an unknown department, 60011 outside the app's visibility."""
        return Department.from_json(self.call("GET", "department/get", query={"id": int(department_id)}))

    def tag_list(self) -> tuple[Tag, ...]:
        data = self.call("GET", "tag/list")
        return tuple(
            Tag(tagid=int(t.get("tagid") or 0), tagname=str(t.get("tagname") or "")) for t in data.get("taglist") or ()
        )

    def tag_users(self, tagid: int) -> tuple[str, ...]:
        """The UserIDs tag/get lists for a tag (members within the app's visibility); 40068 for an unknown tag."""
        data = self.call("GET", "tag/get", query={"tagid": int(tagid)})
        return tuple(str(u.get("userid")) for u in data.get("userlist") or () if u.get("userid"))

    def external_contact_get(self, external_userid: str) -> ExternalContact:
        """externalcontact/get; 40096 / 84061 when no member of the corp has this customer, 60011 / 48002 without the
        customer-contact permission."""
        data = self.call("GET", "externalcontact/get", query={"external_userid": external_userid})
        return ExternalContact.from_json(data)

    def webhook_send(self, key: str, payload: Message | Mapping[str, Any]) -> None:
        """A group-robot message (≤ 20 per robot per minute; the outbox paces them)."""
        self.robot.send(key, payload)

    def _fetch_token(self) -> IssuedToken:
        url = build_url(self.base_url, "cgi-bin/gettoken", {"corpid": self.corp_id, "corpsecret": self._secret})
        return issued_token(self.http.get(url, api="wecom:gettoken"), "wecom:gettoken")
