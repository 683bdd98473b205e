"""A fake WeCom + Official Account API over real HTTP, for tests and the local stack.

One server answers both platforms' paths (reference/wecom-protocol.md §5): they share `/cgi-bin/` and differ only
in their token endpoints (`gettoken` for WeCom, `token` for the Official Account), so point both
QUNGUI_WECOM_API_BASE and QUNGUI_MP_API_BASE at `base_url`.

What it does, as the platforms do:
- issues tokens (WeCom: the same token until it expires; Official Account: a new one per call, the previous one
  retired after 5 minutes) and rejects missing (41001), unknown (40014), expired (42001) and retired (40001) ones;
- answers the get APIs from registries that tests fill (users, departments, tags, external contacts, app-created
  groups, customer groups, archive rooms);
- applies the documented limits on the fake clock: per member 30 app messages a minute (excess silently dropped,
  listed in `dropped`), 200 group messages a minute per member, 20 robot messages a minute (45009), the
  Official Account's 48 h customer-service window (45015) and its 5-message quota (45047);
- honours `enable_duplicate_check` (WeCom) and `client_msg_id` (Official Account): a duplicate is answered ok and
  not delivered again (listed in `duplicates`).

A registry left empty accepts anyone (the local stack needs no setup); once a test adds to it, it is enforced.

For tests: errors on demand (`inject`/`fail`: errcode, HTTP status, raw body, delay, a gate that holds the request),
every request recorded (`requests`, `wait_for`), and every delivered message (`deliveries`). With `print_sends`, each
delivered message is printed as one readable line, so a person running the local stack sees what would have been
sent.

Run standalone: `python -m qungui_cli.fake_wecom --port 8001`.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import socket
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any, Self
from urllib.parse import parse_qsl, urlsplit

Json = dict[str, Any]
OA_TOKEN_GRACE = 300  # a replaced Official Account token keeps working this long
MEMBER_APP_MESSAGES_PER_MINUTE = 30
MEMBER_APPCHAT_MESSAGES_PER_MINUTE = 200
ROBOT_MESSAGES_PER_MINUTE = 20
SERVICE_WINDOW = 48 * 3600
SERVICE_WINDOW_MESSAGES = 5
CLIENT_MSG_ID_WINDOW = 600
MAX_CONTENT_BYTES = 2048
APP_MSGTYPES = frozenset(
    {"text", "image", "voice", "video", "file", "textcard", "news", "mpnews", "markdown", "miniprogram_notice",
     "template_card"}
)  # fmt: skip
APPCHAT_MSGTYPES = frozenset({"text", "image", "voice", "video", "file", "textcard", "news", "mpnews", "markdown"})
ROBOT_MSGTYPES = frozenset({"text", "markdown", "markdown_v2", "image", "news", "file", "voice", "template_card"})
CUSTOM_MSGTYPES = frozenset(
    {"text", "image", "voice", "video", "music", "news", "mpnews", "msgmenu", "miniprogrampage"}
)


@dataclass
class Fault:
    """One injected misbehaviour for the next request to a path.

    With `errcode`, `status` ≠ 200 or `body`, the request is refused with that answer. Without them the request is
    processed normally and `delay` only holds the answer back, which is how a lost answer looks to a client that
    times out: the message was delivered, the caller does not know it. `gate` holds the request before anything
    happens until the test sets it.
    """

    errcode: int | None = None
    errmsg: str = "injected failure"
    status: int = 200
    body: bytes | str | None = None
    delay: float = 0.0
    gate: threading.Event | None = None

    @property
    def refuses(self) -> bool:
        return self.errcode is not None or self.status != 200 or self.body is not None


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any  # the parsed JSON body, or None
    at: float  # on the fake's clock
    status: int | None = None  # set once answered
    errcode: int | None = None

    @property
    def access_token(self) -> str | None:
        return self.query.get("access_token")


@dataclass(frozen=True)
class Delivery:
    """A message that reached (or, in `dropped`, silently failed to reach) a recipient."""

    api: str  # message/send, appchat/send, webhook/send, message/custom/send, message/template/send
    to: str  # UserID, chatid, robot key or OpenID
    msgtype: str
    body: Mapping[str, Any]  # the request body
    at: float
    msgid: str | None = None


@dataclass
class _Token:
    value: str
    family: str  # "wecom" or "mp"
    app: str
    expires_at: float
    retired_at: float | None = None


@dataclass
class _Follower:
    last_interaction: float | None
    sent_in_window: int = 0


class _Reject(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errcode, errmsg)
        self.errcode = errcode
        self.errmsg = errmsg


def _require(condition: object, field_name: str) -> None:
    if not condition:
        raise _Reject(40035, f"invalid parameter: {field_name}")


def _content(body: Json, msgtype: str) -> None:
    part = body.get(msgtype)
    if not isinstance(part, dict):
        raise _Reject(40035, f"invalid parameter: {msgtype}")
    if msgtype in ("text", "markdown", "markdown_v2"):
        content = part.get("content")
        if not isinstance(content, str) or not content:
            raise _Reject(40035, f"invalid parameter: {msgtype}.content")
        if len(content.encode("utf-8")) > MAX_CONTENT_BYTES:
            raise _Reject(45002, "content size out of limit")
    elif msgtype == "textcard":
        for name in ("title", "description", "url"):
            _require(isinstance(part.get(name), str) and part[name], f"textcard.{name}")
    elif msgtype == "template_card":
        _require(part.get("card_type"), "template_card.card_type")
        if part["card_type"] == "button_interaction":
            _require(isinstance(part.get("main_title"), dict), "template_card.main_title")
            task_id = part.get("task_id")
            _require(isinstance(task_id, str) and 0 < len(task_id) <= 128, "template_card.task_id")
            _require(isinstance(part.get("button_list"), list) and part["button_list"], "template_card.button_list")
            for button in part["button_list"]:
                _require(isinstance(button, dict) and button.get("text") and button.get("key"), "button_list")


class _Window:
    """Events per key within a sliding window on the fake clock."""

    def __init__(self, limit: int, seconds: float = 60) -> None:
        self.limit = limit
        self.seconds = seconds
        self._times: dict[str, deque[float]] = defaultdict(deque)

    def admit(self, key: str, now: float) -> bool:
        times = self._times[key]
        while times and times[0] <= now - self.seconds:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeWeCom

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.open_connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self.open_connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Close kept-alive connections too, so a stopped fake is gone for its clients, as a restarted server is."""
        with self._connections_lock:
            connections, self.open_connections = self.open_connections, set()
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is a scenario under test, not a failure of the fake.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real API: the client pools connections
    timeout = 60  # an idle keep-alive connection frees its thread eventually
    # Headers and body go out in separate writes; with Nagle on, the body can wait ~40 ms for the client's delayed
    # ACK, which made every fake answer look slow (bench/outbox.py measured 44 ms vs 0.3 ms).
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, payload = self.server.fake.serve(method, self.path, raw)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except ConnectionError:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeWeCom:
    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        *,
        clock: Callable[[], float] = time.time,
        token_ttl: int = 7200,
        print_sends: bool = False,
        out: IO[str] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.clock = clock
        self.token_ttl = token_ttl
        self.print_sends = print_sends
        self._out = out
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._serial = itertools.count(1)
        # registries (empty = accept anyone)
        self.apps: dict[str, str] = {}  # corp_id -> secret
        self.archive_secrets: dict[str, str] = {}  # corp_id -> the chat archive's (会话内容存档) secret
        self.mp_apps: dict[str, str] = {}  # app_id -> secret
        self.users: dict[str, Json] = {}
        self.departments: dict[int, Json] = {}
        self.tags: dict[int, Json] = {}  # tagid -> {"tagid", "tagname", "userids"}
        self.external_contacts: dict[str, Json] = {}  # external_userid -> externalcontact/get answer
        self.appchats: dict[str, Json] = {}
        self.customer_groups: dict[str, Json] = {}
        self.archive_rooms: dict[str, Json] = {}
        self.robots: set[str] = set()
        self.followers: dict[str, _Follower] = {}
        self.templates: set[str] = set()
        # what happened
        self._requests: list[Recorded] = []
        self._deliveries: list[Delivery] = []
        self.dropped: list[Delivery] = []
        self.duplicates: list[Delivery] = []
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._tokens: dict[str, _Token] = {}
        self._current_token: dict[tuple[str, str], str] = {}
        self._recent_sends: dict[str, float] = {}  # duplicate-check key -> time
        self._template_ids: dict[tuple[str, str, str], tuple[float, int]] = {}
        self._member_app = _Window(MEMBER_APP_MESSAGES_PER_MINUTE)
        self._member_appchat = _Window(MEMBER_APPCHAT_MESSAGES_PER_MINUTE)
        self._robot = _Window(ROBOT_MESSAGES_PER_MINUTE)
        self._routes: dict[str, tuple[str, str | None, Callable[[_Token | None, dict[str, str], Any], Json]]] = {
            "/cgi-bin/gettoken": ("GET", None, self._gettoken),
            "/cgi-bin/token": ("GET", None, self._mp_token),
            "/cgi-bin/message/send": ("POST", "wecom", self._message_send),
            "/cgi-bin/appchat/create": ("POST", "wecom", self._appchat_create),
            "/cgi-bin/appchat/update": ("POST", "wecom", self._appchat_update),
            "/cgi-bin/appchat/get": ("GET", "wecom", self._appchat_get),
            "/cgi-bin/appchat/send": ("POST", "wecom", self._appchat_send),
            "/cgi-bin/externalcontact/groupchat/get": ("POST", "wecom", self._groupchat_get),
            "/cgi-bin/msgaudit/groupchat/get": ("POST", "wecom", self._msgaudit_groupchat_get),
            "/cgi-bin/user/get": ("GET", "wecom", self._user_get),
            "/cgi-bin/department/get": ("GET", "wecom", self._department_get),
            "/cgi-bin/tag/list": ("GET", "wecom", self._tag_list),
            "/cgi-bin/tag/get": ("GET", "wecom", self._tag_get),
            "/cgi-bin/externalcontact/get": ("GET", "wecom", self._external_contact_get),
            "/cgi-bin/webhook/send": ("POST", None, self._webhook_send),
            "/cgi-bin/message/custom/send": ("POST", "mp", self._custom_send),
            "/cgi-bin/message/template/send": ("POST", "mp", self._template_send),
        }

    # --- lifecycle ---------------------------------------------------------------------------------------------------

    def start(self) -> Self:
        self._stopping.clear()
        self._server = _Server((self.host, self.port))
        self._server.fake = self
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-wecom", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # frees requests held by a delay or a gate
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.drop_connections()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- registries --------------------------------------------------------------------------------------------------

    def add_app(self, corp_id: str, secret: str) -> None:
        self.apps[corp_id] = secret

    def add_archive_secret(self, corp_id: str, secret: str) -> None:
        """From now on msgaudit/* answers only tokens issued for this secret, as WeCom's chat archive does."""
        self.archive_secrets[corp_id] = secret

    def add_mp_app(self, app_id: str, secret: str) -> None:
        self.mp_apps[app_id] = secret

    def add_user(self, userid: str, name: str = "", *, department: Sequence[int] = (1,), **fields: Any) -> None:
        user: Json = {
            "userid": userid,
            "name": name or userid,
            "department": list(department),
            "main_department": department[0] if department else 1,
            "is_leader_in_dept": [0] * len(department),
            "position": "",
            "status": 1,
        }
        user.update(fields)
        with self._lock:
            self.users[userid] = user

    def add_department(self, department_id: int, name: str, parent_id: int = 1) -> None:
        """A department; the root is `add_department(1, "公司", 0)`."""
        with self._lock:
            self.departments[int(department_id)] = {
                "id": int(department_id),
                "name": name,
                "name_en": "",
                "department_leader": [],
                "parentid": int(parent_id),
                "order": 0,
            }

    def add_tag(self, tagid: int, name: str, userids: Iterable[str] = ()) -> None:
        with self._lock:
            self.tags[int(tagid)] = {"tagid": int(tagid), "tagname": name, "userids": list(userids)}

    def add_external_contact(
        self,
        external_userid: str,
        name: str,
        corp_name: str = "",
        tags: Iterable[str | Mapping[str, Any]] = (),
        follow_user: str = "",
    ) -> None:
        """A customer followed by member `follow_user`. `tags`: names of corp tags (type 1, group "客户标签"), or
        dicts with any of group_name, tag_name, tag_id, type (e.g. a member's own tag, type 2)."""
        serial = itertools.count(1)
        tag_list = [
            {"group_name": "客户标签", "tag_name": t, "tag_id": f"et{external_userid}{next(serial)}", "type": 1}
            if isinstance(t, str)
            else {"group_name": "客户标签", "tag_id": f"et{external_userid}{next(serial)}", "type": 1, **t}
            for t in tags
        ]
        contact: Json = {"external_userid": external_userid, "name": name, "type": 2 if corp_name else 1, "gender": 0}
        if corp_name:
            contact["corp_name"] = corp_name
            contact["corp_full_name"] = corp_name
        follow = {"userid": follow_user, "remark": "", "description": "", "createtime": 0, "tags": tag_list}
        with self._lock:
            self.external_contacts[external_userid] = {"external_contact": contact, "follow_user": [follow]}

    def add_appchat(self, chatid: str, name: str, owner: str, userlist: Sequence[str]) -> None:
        with self._lock:
            self.appchats[chatid] = {"chatid": chatid, "name": name, "owner": owner, "userlist": list(userlist)}

    def add_customer_group(
        self,
        chat_id: str,
        name: str,
        owner: str,
        members: Iterable[Mapping[str, Any]],
        *,
        admins: Sequence[str] = (),
        notice: str = "",
        create_time: int = 0,
        member_version: str = "",
    ) -> None:
        """`members`: dicts with at least `userid`; type 1 (corp member), join_time 0 and join_scene 1 by default."""
        member_list = [{"type": 1, "join_time": 0, "join_scene": 1, **m} for m in members]
        with self._lock:
            self.customer_groups[chat_id] = {
                "chat_id": chat_id,
                "name": name,
                "owner": owner,
                "create_time": create_time,
                "notice": notice,
                "member_list": member_list,
                "admin_list": [{"userid": a} for a in admins],
                "member_version": member_version or f"v{len(member_list)}",
            }

    def add_archive_room(
        self,
        roomid: str,
        roomname: str,
        creator: str,
        members: Iterable[tuple[str, int]],
        *,
        notice: str = "",
        room_create_time: int = 0,
    ) -> None:
        with self._lock:
            self.archive_rooms[roomid] = {
                "roomname": roomname,
                "creator": creator,
                "room_create_time": room_create_time,
                "notice": notice,
                "members": [{"memberid": m, "jointime": t} for m, t in members],
            }

    def add_robot(self, key: str) -> None:
        self.robots.add(key)

    def add_template(self, template_id: str) -> None:
        self.templates.add(template_id)

    def follower_interacted(self, openid: str, at: float | None = None) -> None:
        """The follower sent the Official Account a message: opens a new 48 h customer-service window."""
        with self._lock:
            self.followers[openid] = _Follower(last_interaction=self.clock() if at is None else at)

    def add_follower(self, openid: str) -> None:
        """A follower who has not interacted (a template message reaches them, a customer-service one does not)."""
        with self._lock:
            self.followers.setdefault(openid, _Follower(last_interaction=None))

    # --- tokens ------------------------------------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every issued token expires now (→ 42001), as the platforms may do early."""
        with self._lock:
            now = self.clock()
            for token in self._tokens.values():
                token.expires_at = min(token.expires_at, now)

    def revoke_tokens(self) -> None:
        """Forget every issued token (→ 40014)."""
        with self._lock:
            self._tokens.clear()
            self._current_token.clear()

    # --- faults and records ------------------------------------------------------------------------------------------

    def inject(self, path: str, *faults: Fault) -> None:
        """Queue faults for the next requests to `path` (e.g. "/cgi-bin/message/send"), one request each."""
        with self._lock:
            self._faults[path.rstrip("/")].extend(faults)

    def fail(self, path: str, errcode: int, errmsg: str = "injected failure", *, times: int = 1) -> None:
        self.inject(path, *(Fault(errcode=errcode, errmsg=errmsg) for _ in range(times)))

    def requests(self, path: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self._requests if path is None or r.path == path.rstrip("/")]

    def wait_for(self, path: str, count: int, *, answered: bool = False, timeout: float = 5.0) -> list[Recorded]:
        """Block until `count` requests to `path` arrived (or were answered); for tests that coordinate threads."""

        def ready() -> list[Recorded] | None:
            found = [r for r in self._requests if r.path == path.rstrip("/") and (not answered or r.status)]
            return found if len(found) >= count else None

        with self._changed:
            if not self._changed.wait_for(lambda: ready() is not None, timeout=timeout):
                raise TimeoutError(f"fewer than {count} requests to {path} within {timeout}s")
            return ready() or []

    def deliveries(self, api: str | None = None, to: str | None = None) -> list[Delivery]:
        with self._lock:
            return [d for d in self._deliveries if (api is None or d.api == api) and (to is None or d.to == to)]

    def clear(self) -> None:
        """Forget requests, deliveries and pending faults; registries and tokens stay."""
        with self._lock:
            self._requests.clear()
            self._deliveries.clear()
            self.dropped.clear()
            self.duplicates.clear()
            self._faults.clear()

    # --- serving -----------------------------------------------------------------------------------------------------

    def serve(self, method: str, raw_path: str, raw_body: bytes) -> tuple[int, bytes]:
        parts = urlsplit(raw_path)
        path = parts.path.rstrip("/")
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        body: Any = None
        malformed = False
        if raw_body:
            try:
                body = json.loads(raw_body.decode("utf-8"))
            except ValueError:
                malformed = True
        with self._changed:
            record = Recorded(method, path, query, body, at=self.clock())
            self._requests.append(record)
            queue = self._faults.get(path)
            fault = queue.popleft() if queue else None
            self._changed.notify_all()

        if fault is not None and fault.gate is not None:
            while not fault.gate.wait(0.05) and not self._stopping.is_set():
                pass
        if fault is not None and fault.refuses:
            status, errcode = fault.status, fault.errcode
            if fault.body is not None:
                payload = fault.body.encode("utf-8") if isinstance(fault.body, str) else fault.body
            elif errcode is not None:
                payload = json.dumps({"errcode": errcode, "errmsg": fault.errmsg}).encode("utf-8")
            else:
                payload = f'{{"error": "HTTP {status}"}}'.encode()
        else:
            status, data = self._route(method, path, query, body, malformed)
            errcode = data.get("errcode") if data is not None else None
            payload = b"not found" if data is None else json.dumps(data, ensure_ascii=False).encode("utf-8")
        if fault is not None and fault.delay:
            self._stopping.wait(fault.delay)
        with self._changed:
            record.status, record.errcode = status, errcode
            self._changed.notify_all()
        return status, payload

    def _route(self, method: str, path: str, query: dict[str, str], body: Any, malformed: bool) -> tuple[int, Any]:
        route = self._routes.get(path)
        if route is None:
            return 404, None
        expected_method, family, handler = route
        try:
            if method != expected_method:
                raise _Reject(43002 if expected_method == "POST" else 43001, f"require {expected_method} method")
            if malformed or (expected_method == "POST" and not isinstance(body, dict)):
                raise _Reject(47001, "data format error")
            with self._lock:
                token = self._authorize(query, family) if family else None
                return 200, {"errcode": 0, "errmsg": "ok", **handler(token, query, body)}
        except (TypeError, ValueError, KeyError, AttributeError):
            # A field of the wrong type: the platforms answer with an errcode, never a 500.
            reject = _Reject(40035, "invalid parameter")
        except _Reject as rejected:
            reject = rejected
        return 200, {"errcode": reject.errcode, "errmsg": f"{reject.errmsg}, hint: [fake-{next(self._serial)}]"}

    def _authorize(self, query: dict[str, str], family: str) -> _Token:
        value = query.get("access_token")
        if not value:
            raise _Reject(41001, "access_token missing")
        token = self._tokens.get(value)
        if token is None or token.family != family:
            raise _Reject(40014, "invalid access_token")
        now = self.clock()
        if token.retired_at is not None and now >= token.retired_at:
            raise _Reject(40001, "invalid credential, access_token is invalid or not latest")
        if now >= token.expires_at:
            raise _Reject(42001, "access_token expired")
        return token

    def _issue(self, family: str, app: str, *, reuse: bool) -> Json:
        now = self.clock()
        current = self._tokens.get(self._current_token.get((family, app), ""))
        if reuse and current is not None and now < current.expires_at:
            return {"access_token": current.value, "expires_in": int(current.expires_at - now)}
        if current is not None and current.retired_at is None:
            current.retired_at = now + OA_TOKEN_GRACE
        value = f"{family}-token-{next(self._serial)}"
        self._tokens[value] = _Token(value, family, app, expires_at=now + self.token_ttl)
        self._current_token[(family, app)] = value
        return {"access_token": value, "expires_in": self.token_ttl}

    # --- WeCom -------------------------------------------------------------------------------------------------------

    def _gettoken(self, _: _Token | None, query: dict[str, str], __: Any) -> Json:
        corp_id, secret = query.get("corpid", ""), query.get("corpsecret", "")
        if not corp_id:
            raise _Reject(41002, "corpid missing")
        if not secret:
            raise _Reject(41004, "corpsecret missing")
        if self.apps and corp_id not in self.apps:
            raise _Reject(40013, "invalid corpid")
        if self.apps and secret not in (self.apps[corp_id], self.archive_secrets.get(corp_id)):
            raise _Reject(40001, "invalid credential")
        # WeCom answers with the same token while it is valid.
        return self._issue("wecom", f"{corp_id}:{secret}", reuse=True)

    def _message_send(self, token: _Token | None, _: dict[str, str], body: Json) -> Json:
        _require(isinstance(body.get("agentid"), int), "agentid")
        msgtype = body.get("msgtype")
        if msgtype not in APP_MSGTYPES:
            raise _Reject(40008, "invalid message type")
        _content(body, msgtype)
        _require(0 < int(body.get("duplicate_check_interval", 1800)) <= 4 * 3600, "duplicate_check_interval")
        requested = [u for u in str(body.get("touser") or "").split("|") if u]
        if "@all" in requested:
            requested = sorted(self.users)
        valid = [u for u in requested if not self.users or u in self.users]
        invalid = [u for u in requested if u not in valid]
        parties = [p for p in str(body.get("toparty") or "").split("|") if p]
        tags = [t for t in str(body.get("totag") or "").split("|") if t]
        if not valid and not parties and not tags:
            raise _Reject(81013, "user & party & tag all invalid")
        msgid = f"fake-msgid-{next(self._serial)}"
        now = self.clock()
        if body.get("enable_duplicate_check") and self._seen_recently(body, now):
            self._note(self.duplicates, "message/send", body.get("touser", ""), msgtype, body, msgid)
        else:
            app = token.app if token else ""
            for userid in valid:
                admitted = self._member_app.admit(f"{app}#{userid}", now)
                self._note(self._deliveries if admitted else self.dropped, "message/send", userid, msgtype, body, msgid)
            for party in parties:
                self._note(self._deliveries, "message/send", f"party:{party}", msgtype, body, msgid)
            for tag in tags:
                self._note(self._deliveries, "message/send", f"tag:{tag}", msgtype, body, msgid)
            self._print(f"message/send → {'|'.join(valid + parties + tags)}", msgtype, body)
        answer: Json = {"invaliduser": "|".join(invalid), "invalidparty": "", "invalidtag": "", "msgid": msgid}
        if msgtype == "template_card":
            answer["response_code"] = f"fake-response-code-{msgid}"
        return answer

    def _seen_recently(self, body: Json, now: float) -> bool:
        msgtype = body["msgtype"]
        key = json.dumps(
            [body.get("agentid"), body.get("touser"), body.get("toparty"), body.get("totag"), msgtype, body[msgtype]],
            sort_keys=True,
            ensure_ascii=False,
        )
        last = self._recent_sends.get(key)
        self._recent_sends[key] = now
        return last is not None and now - last < int(body.get("duplicate_check_interval", 1800))

    def _chat(self, chatid: Any) -> Json:
        chat = self.appchats.get(str(chatid or ""))
        if chat is None:
            raise _Reject(86003, "chatid not exist")
        return chat

    def _appchat_create(self, _: _Token | None, __: dict[str, str], body: Json) -> Json:
        name, owner, userlist = body.get("name", ""), body.get("owner"), body.get("userlist")
        if len(str(name)) > 50:
            raise _Reject(86004, "invalid chat name")
        if not isinstance(userlist, list):
            raise _Reject(40035, "invalid parameter: userlist")
        if not 2 <= len(userlist) <= 2000:
            raise _Reject(86006, "invalid member count")
        chatid = str(body.get("chatid") or f"wrfake{next(self._serial)}")
        if chatid in self.appchats:
            raise _Reject(86215, "chatid exists")
        self.appchats[chatid] = {"chatid": chatid, "name": name, "owner": owner or userlist[0], "userlist": userlist}
        return {"chatid": chatid}

    def _appchat_update(self, _: _Token | None, __: dict[str, str], body: Json) -> Json:
        chat = self._chat(body.get("chatid"))
        if "name" in body:
            if len(str(body["name"])) > 50:
                raise _Reject(86004, "invalid chat name")
            chat["name"] = body["name"]
        if "owner" in body:
            chat["owner"] = body["owner"]
        removed = set(body.get("del_user_list") or ())
        chat["userlist"] = [u for u in chat["userlist"] if u not in removed]
        chat["userlist"] += [u for u in body.get("add_user_list") or () if u not in chat["userlist"]]
        return {}

    def _appchat_get(self, _: _Token | None, query: dict[str, str], __: Any) -> Json:
        chat = self._chat(query.get("chatid"))
        return {"chat_info": {**chat, "userlist": list(chat["userlist"]), "chat_type": 0}}

    def _appchat_send(self, _: _Token | None, __: dict[str, str], body: Json) -> Json:
        chat = self._chat(body.get("chatid"))
        msgtype = body.get("msgtype")
        if msgtype not in APPCHAT_MSGTYPES:
            raise _Reject(40008, "invalid message type")
        _content(body, msgtype)
        now = self.clock()
        self._note(self._deliveries, "appchat/send", chat["chatid"], msgtype, body)
        for member in chat["userlist"]:
            if not self._member_appchat.admit(member, now):
                self._note(self.dropped, "appchat/send", member, msgtype, body)
        self._print(f"appchat/send → group {chat['chatid']} ({chat['name']})", msgtype, body)
        return {}

    def _groupchat_get(self, _: _Token | None, __: dict[str, str], body: Json) -> Json:
        group = self.customer_groups.get(str(body.get("chat_id") or ""))
        if group is None:
            raise _Reject(40050, "chatid not exist")  # code not re-verified against the docs
        members = [dict(m) for m in group["member_list"]]
        if not body.get("need_name"):
            for member in members:
                member.pop("name", None)
        return {"group_chat": {**group, "member_list": members}}

    def _msgaudit_groupchat_get(self, token: _Token | None, __: dict[str, str], body: Json) -> Json:
        if (
            token is not None
            and self.archive_secrets
            and token.app.split(":", 1)[1] not in self.archive_secrets.values()
        ):
            # The chat archive's APIs take only its own secret's token (48002: no permission; not re-verified).
            raise _Reject(48002, "api forbidden: use the chat archive secret")
        room = self.archive_rooms.get(str(body.get("roomid") or ""))
        if room is None:
            raise _Reject(40050, "roomid not exist")  # code not re-verified against the docs
        return dict(room)

    def _user_get(self, _: _Token | None, query: dict[str, str], __: Any) -> Json:
        user = self.users.get(query.get("userid", ""))
        if user is None:
            raise _Reject(60111, "userid not found")
        return dict(user)

    def _department_get(self, _: _Token | None, query: dict[str, str], __: Any) -> Json:
        # 60123 无效的部门id (global error table, path/90313; read in an SDK's copy of it, not on the page itself).
        department = self.departments.get(int(query.get("id") or 0))
        if department is None:
            raise _Reject(60123, "invalid party id")
        return {"department": dict(department)}

    def _tag_list(self, _: _Token | None, __: dict[str, str], ___: Any) -> Json:
        return {"taglist": [{"tagid": t["tagid"], "tagname": t["tagname"]} for t in self.tags.values()]}

    def _tag_get(self, _: _Token | None, query: dict[str, str], __: Any) -> Json:
        # 40068 不合法的标签ID (global error table; not re-verified on the page).
        tag = self.tags.get(int(query.get("tagid") or 0))
        if tag is None:
            raise _Reject(40068, "invalid tagid")
        userlist = [{"userid": u, "name": str(self.users.get(u, {}).get("name", u))} for u in tag["userids"]]
        return {"tagname": tag["tagname"], "userlist": userlist, "partylist": []}

    def _external_contact_get(self, _: _Token | None, query: dict[str, str], __: Any) -> Json:
        # 40096 不合法的外部联系人userid: what WeCom answers for a customer no member of the corp has added (community
        # answers; the page itself lists no codes). 84061 (不存在外部联系人的关系) is the other answer seen in practice.
        external_userid = query.get("external_userid", "")
        if not external_userid:
            raise _Reject(41035, "missing external userid")
        contact = self.external_contacts.get(external_userid)
        if contact is None:
            raise _Reject(40096, "invalid external userid")
        return json.loads(json.dumps(contact))

    def _webhook_send(self, _: _Token | None, query: dict[str, str], body: Json) -> Json:
        key = query.get("key", "")
        if not key or (self.robots and key not in self.robots):
            raise _Reject(93000, "invalid webhook url")
        msgtype = body.get("msgtype")
        if msgtype not in ROBOT_MSGTYPES:
            raise _Reject(40008, "invalid message type")
        _content(body, msgtype)
        if not self._robot.admit(key, self.clock()):
            raise _Reject(45009, "api freq out of limit")
        self._note(self._deliveries, "webhook/send", key, msgtype, body)
        self._print(f"webhook/send → robot {key[:4]}…", msgtype, body)
        return {}

    # --- Official Account --------------------------------------------------------------------------------------------

    def _mp_token(self, _: _Token | None, query: dict[str, str], __: Any) -> Json:
        if query.get("grant_type") != "client_credential":
            raise _Reject(40002, "invalid grant_type")
        app_id, secret = query.get("appid", ""), query.get("secret", "")
        if not app_id or (self.mp_apps and app_id not in self.mp_apps):
            raise _Reject(40013, "invalid appid")
        if not secret or (self.mp_apps and self.mp_apps[app_id] != secret):
            raise _Reject(40001, "invalid credential, AppSecret error")
        return self._issue("mp", app_id, reuse=False)

    def _follower(self, openid: Any) -> _Follower | None:
        if not self.followers:
            return None
        follower = self.followers.get(str(openid or ""))
        if follower is None:
            raise _Reject(40003, "invalid openid")
        return follower

    def _custom_send(self, _: _Token | None, __: dict[str, str], body: Json) -> Json:
        msgtype = body.get("msgtype")
        if msgtype not in CUSTOM_MSGTYPES:
            raise _Reject(40008, "invalid message type")
        if msgtype == "text":
            _content(body, "text")
        follower = self._follower(body.get("touser"))
        if follower is not None:
            last = follower.last_interaction
            if last is None or self.clock() - last > SERVICE_WINDOW:
                raise _Reject(45015, "response out of time limit or subscription is canceled")
            if follower.sent_in_window >= SERVICE_WINDOW_MESSAGES:
                raise _Reject(45047, "out of response count limit")
            follower.sent_in_window += 1
        self._note(self._deliveries, "message/custom/send", str(body.get("touser")), msgtype, body)
        self._print(f"message/custom/send → {body.get('touser')}", msgtype, body)
        return {}

    def _template_send(self, token: _Token | None, __: dict[str, str], body: Json) -> Json:
        template_id = body.get("template_id")
        if not template_id or (self.templates and template_id not in self.templates):
            raise _Reject(40037, "invalid template_id")
        _require(isinstance(body.get("data"), dict), "data")
        openid = str(body.get("touser") or "")
        self._follower(openid)
        _require(openid, "touser")
        now = self.clock()
        dedup_key = (token.app if token else "", openid, str(body.get("client_msg_id") or ""))
        seen = self._template_ids.get(dedup_key) if dedup_key[2] else None
        if seen is not None and now - seen[0] < CLIENT_MSG_ID_WINDOW:
            self._note(self.duplicates, "message/template/send", openid, "template", body, str(seen[1]))
            return {"msgid": seen[1]}
        msgid = next(self._serial)
        if dedup_key[2]:
            self._template_ids[dedup_key] = (now, msgid)
        self._note(self._deliveries, "message/template/send", openid, "template", body, str(msgid))
        self._print(f"message/template/send → {openid}", "template", body)
        return {"msgid": msgid}

    # --- helpers -----------------------------------------------------------------------------------------------------

    def _note(
        self, into: list[Delivery], api: str, to: str, msgtype: str, body: Json, msgid: str | None = None
    ) -> None:
        into.append(Delivery(api=api, to=to, msgtype=msgtype, body=body, at=self.clock(), msgid=msgid))

    def _print(self, target: str, msgtype: str, body: Json) -> None:
        if not self.print_sends:
            return
        out = self._out or sys.stdout
        print(f"[fake wecom] {target}  {msgtype}: {summarize(msgtype, body)}", file=out, flush=True)


def summarize(msgtype: str, body: Mapping[str, Any], limit: int = 200) -> str:
    """One readable line for a message body."""
    part = body.get(msgtype) if msgtype != "template" else body
    part = part if isinstance(part, Mapping) else {}
    if msgtype in ("text", "markdown", "markdown_v2"):
        text = str(part.get("content", ""))
    elif msgtype == "textcard":
        text = f"{part.get('title', '')} — {part.get('description', '')} <{part.get('url', '')}>"
    elif msgtype == "template_card":
        title = (part.get("main_title") or {}).get("title", "")
        buttons = " ".join(f"[{b.get('text')}]" for b in part.get("button_list") or ())
        text = f"{title} {buttons} (task {part.get('task_id', '-')})"
    elif msgtype == "template":
        fields = ", ".join(f"{k}={(v or {}).get('value', '')}" for k, v in (part.get("data") or {}).items())
        text = f"template {part.get('template_id')}: {fields}"
    else:
        text = json.dumps(part, ensure_ascii=False)
    text = text.replace("\n", " ⏎ ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qungui_cli.fake_wecom", description="fake WeCom + Official Account API"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001, help="0 picks a free port")
    parser.add_argument("--token-ttl", type=int, default=7200, help="seconds a token lives")
    parser.add_argument("--quiet", action="store_true", help="do not print delivered messages")
    args = parser.parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        # A terminal without UTF-8 still shows the Chinese messages, escaped, rather than crashing a request.
        sys.stdout.reconfigure(errors="backslashreplace")
    fake = FakeWeCom(args.port, args.host, token_ttl=args.token_ttl, print_sends=not args.quiet).start()
    print(f"fake WeCom/OA API on {fake.base_url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
