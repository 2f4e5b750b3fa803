"""A fake Slack Web API on 127.0.0.1 for the real slack_sdk clients.

It answers ``/api/<method>`` as Slack does: HTTP 200 with ``{"ok": true, ...}`` or
``{"ok": false, "error": "..."}``, arguments as query string, form or JSON body, the token in
``Authorization: Bearer``. ``chat.postMessage`` stores messages per channel with their thread
and metadata; ``conversations.replies`` reads a thread back and ``conversations.history`` a
channel (newest first; metadata only with ``include_all_metadata``, as on Slack);
``conversations.open`` opens the app's DM with a member (``D`` + their id); ``chat.update``
edits the bot's own messages only (``cant_update_message`` for a person's, as on Slack, and
``message_not_found`` for an unknown ts). Events
(``app_mention``, ``reaction_added``/``_removed``) go over Socket Mode or, in HTTP mode, as
signed POSTs, and only when slack-manifest.yml subscribes them and grants their scope. Every answer
to the bot token carries ``x-oauth-scopes``: the manifest's scopes but ``missing_scopes``. Tests can
make the next calls answer 429 with Retry-After, or a share of posts at random, or enforce
Slack's one message per second per channel (the message is then not stored, as on Slack).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import WSMsgType, web

from tests.fakes.local_site import serve_locally
from tests.fakes.slack_manifest import SlackManifest

BOT_TOKEN = "xoxb-fake-token"
APP_TOKEN = "xapp-fake-token"


@dataclass
class FakeSlack:
    """Channels, their messages, and every call; use with ``async with``."""

    channels: set[str] = field(default_factory=lambda: {"C0DIGEST"})
    admins: set[str] = field(default_factory=lambda: {"U0ADMIN"})
    members: set[str] = field(default_factory=lambda: {"U0MEMBER"})
    # Scopes the app was installed without (``missing_scope`` for the methods needing them).
    missing_scopes: set[str] = field(default_factory=set)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    rate_limit_next: int = 0
    # A share of chat.postMessage calls answered 429 at random (seeded, so runs repeat).
    rate_limit_share: float = 0.0
    seed: int = 0
    # Slack's special tier for chat.postMessage: about 1 message per second per channel.
    # 0 turns it off; a post sooner than this after the channel's last one is answered 429.
    per_channel_interval_s: float = 0.0
    # Arrival jitter forgiven (two posts sent 1 s apart may arrive a little closer).
    jitter_s: float = 0.05
    rate_limited: int = 0
    # Called with the channel right after a post is stored, before the answer goes back
    # (a test can kill the poster there: the message is posted, its answer never arrives).
    on_post: Callable[[str], None] | None = None
    _last_post: dict[str, float] = field(default_factory=dict)
    _rng: random.Random = field(default_factory=random.Random)
    port: int = 0
    _clock: int = 0
    _runner: web.AppRunner | None = None
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _acks: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    # While True, apps.connections.open fails: a dropped Socket Mode client cannot come back.
    refuse_connections: bool = False
    responses: list[dict[str, Any]] = field(default_factory=list)
    responded: asyncio.Event = field(default_factory=asyncio.Event)
    # What the app was installed from: Slack sends only subscribed events it has scopes for.
    manifest: SlackManifest = field(default_factory=SlackManifest.load)
    # Events Slack would not have sent, with why (not subscribed, scope missing).
    undelivered: list[tuple[str, str]] = field(default_factory=list)
    # HTTP mode: the app's request URL; events are POSTed there, signed with the secret.
    events_url: str | None = None
    signing_secret: str = "fake-signing-secret"
    event_statuses: list[int] = field(default_factory=list)
    # Channels the bot can see but is not a member of: conversations.info says
    # ``is_member: false`` and chat.postMessage answers ``not_in_channel``, as on Slack.
    outside: set[str] = field(default_factory=set)
    # The App Home view published for each user (``views.publish``).
    home_views: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        """The value for SLACK_API_URL."""
        return f"http://127.0.0.1:{self.port}/api/"

    async def __aenter__(self) -> Self:
        self._rng.seed(self.seed)
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/link/", self._socket)
        app.router.add_post("/response_url/{envelope}", self._response_url)
        self._runner, self.port = await serve_locally(app)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def drop_connections(self) -> None:
        """Close every Socket Mode websocket, as Slack does before a refresh or an outage."""
        for socket in list(self._sockets):
            await socket.close()

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, then collect the client's acks by envelope id."""
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0FAKE"}}
        )
        self.connected.set()
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            ack = json.loads(message.data)
            waiter = self._acks.pop(str(ack.get("envelope_id")), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(ack)
        if socket in self._sockets:
            self._sockets.remove(socket)
        return socket

    async def _response_url(self, request: web.Request) -> web.Response:
        """What Bolt's respond() posts: the delayed answer to a command."""
        self.responses.append(await request.json())
        self.responded.set()
        return web.Response(text="ok")

    async def slash_command(
        self, command: str, text: str, *, user: str = "U0ALICE", channel: str = "C0DIGEST"
    ) -> tuple[dict[str, Any], float]:
        """Send a slash command over Socket Mode; return the ack and how long it took."""
        await asyncio.wait_for(self.connected.wait(), timeout=5)
        envelope_id = str(uuid.uuid4())
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = waiter
        payload = {
            "token": "legacy",
            "team_id": "T0FAKE",
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": "digest",
            "user_id": user,
            "user_name": "alice",
            "command": command,
            "text": text,
            "api_app_id": "A0FAKE",
            "is_enterprise_install": "false",
            "response_url": f"http://127.0.0.1:{self.port}/response_url/{envelope_id}",
            "trigger_id": "trigger",
        }
        envelope = {
            "envelope_id": envelope_id,
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": payload,
        }
        started = time.perf_counter()
        await self._sockets[-1].send_json(envelope)
        ack = await asyncio.wait_for(waiter, timeout=3.0)  # Slack's deadline
        return ack, time.perf_counter() - started

    async def mention(
        self, text: str, *, thread_ts: str, user: str = "U0ALICE", channel: str = "C0DIGEST"
    ) -> bool:
        """Deliver an app_mention event (and wait for its ack); False when Slack would not."""
        self._clock += 1
        event = {
            "type": "app_mention",
            "user": user,
            "text": text,
            "ts": f"1776000000.{self._clock:06d}",
            "thread_ts": thread_ts,
            "channel": channel,
            "event_ts": f"1776000000.{self._clock:06d}",
        }
        return await self.send_event(event)

    async def open_home(self, user: str = "U0ALICE") -> bool:
        """Deliver ``app_home_opened`` (the user opened the app's Home tab); False if not sent."""
        self._clock += 1
        event = {
            "type": "app_home_opened",
            "user": user,
            "channel": self.dm_channel(user),
            "tab": "home",
            "event_ts": f"1776000000.{self._clock:06d}",
        }
        return await self.send_event(event)

    async def react(
        self,
        reaction: str,
        *,
        ts: str,
        user: str = "U0ALICE",
        channel: str = "C0DIGEST",
        added: bool = True,
    ) -> bool:
        """Deliver ``reaction_added`` (or ``_removed``) for a message; False if not sent.

        Only a message that exists can be reacted to, as on Slack.
        """
        message = next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)
        if message is None:
            raise ValueError(f"no message {ts} in {channel} to react to")
        self._clock += 1
        event = {
            "type": "reaction_added" if added else "reaction_removed",
            "user": user,
            "reaction": reaction,
            "item_user": message.get("user", "U0BOT"),
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": f"1776000000.{self._clock:06d}",
        }
        return await self.send_event(event)

    def add_message(
        self, channel: str, text: str, *, user: str = "U0ALICE", thread_ts: str | None = None
    ) -> str:
        """Post a message as a person (not the app); return its ts."""
        self._clock += 1
        ts = f"1776000000.{self._clock:06d}"
        message = {"type": "message", "ts": ts, "user": user, "text": text}
        if thread_ts:
            message["thread_ts"] = thread_ts
        self.messages.setdefault(channel, []).append(message)
        return ts

    async def send_event(self, event: dict[str, Any]) -> bool:
        """Send an Events API event the way the app receives them; False when Slack would not.

        Slack sends an event only when the manifest subscribes it and the app holds its
        scope (`SlackManifest.why_not_sent`); otherwise it is kept in ``undelivered`` with
        the reason. With ``events_url`` set (HTTP mode) it is POSTed there, signed with
        ``signing_secret``; else it goes over the Socket Mode connection and its ack is
        awaited.
        """
        why = self.manifest.why_not_sent(str(event["type"]), self.missing_scopes)
        if why is not None:
            self.undelivered.append((str(event["type"]), why))
            return False
        payload = {
            "token": "legacy",
            "team_id": "T0FAKE",
            "api_app_id": "A0FAKE",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{self._clock}",
            "event_time": 1776000000,
            "authorizations": [{"team_id": "T0FAKE", "user_id": "U0BOT", "is_bot": True}],
        }
        if self.events_url is not None:
            await self._post_signed(self.events_url, payload)
            return True
        await asyncio.wait_for(self.connected.wait(), timeout=5)
        envelope_id = str(uuid.uuid4())
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = waiter
        envelope = {
            "envelope_id": envelope_id,
            "type": "events_api",
            "accepts_response_payload": False,
            "payload": payload,
        }
        await self._sockets[-1].send_json(envelope)
        await asyncio.wait_for(waiter, timeout=3.0)
        return True

    async def _post_signed(self, url: str, payload: dict[str, Any]) -> None:
        """POST a JSON body signed as Slack signs requests (v0, HMAC-SHA256 of ts and body)."""
        body = json.dumps(payload).encode()
        timestamp = str(int(time.time()))
        base = b"v0:" + timestamp.encode() + b":" + body
        digest = hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": f"v0={digest}",
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body, headers=headers) as response,
        ):
            self.event_statuses.append(response.status)

    async def refresh(self) -> None:
        """Ask the client to reconnect, as Slack does every few hours ("refresh_requested")."""
        self.connected.clear()
        old = self._sockets[-1]
        await old.send_json({"type": "disconnect", "reason": "refresh_requested"})
        await asyncio.wait_for(self.connected.wait(), timeout=10)

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """Return a thread's messages, parent first."""
        return [
            m for m in self.messages.get(channel, []) if m["ts"] == ts or m.get("thread_ts") == ts
        ]

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.can_read_body:
            args.update(dict(await request.post()))
        return args

    @property
    def granted_scopes(self) -> frozenset[str]:
        """The bot scopes the app holds: the manifest's, but those it was installed without."""
        return self.manifest.scopes - self.missing_scopes

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        self.calls.append((method, args))
        if not self._authorized(method, request.headers.get("Authorization", "")):
            return web.json_response({"ok": False, "error": "invalid_auth"})
        response = await self._method(method, args)
        if request.headers.get("Authorization", "") == f"Bearer {BOT_TOKEN}":
            # As Slack does on every Web API answer to a valid token: the scopes it holds.
            response.headers["x-oauth-scopes"] = ",".join(sorted(self.granted_scopes))
        return response

    async def _method(self, method: str, args: dict[str, Any]) -> web.Response:
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "0"}
            )
        if method == "apps.connections.open" and self.refuse_connections:
            return web.json_response({"ok": False, "error": "internal_error"})
        if method == "apps.connections.open":
            url = f"ws://127.0.0.1:{self.port}/link/?ticket={uuid.uuid4()}&app_id=A0FAKE"
            return web.json_response({"ok": True, "url": url})
        if method == "users.info":
            user = str(args.get("user"))
            info = {
                "id": user,
                "team_id": "T0FAKE",
                "is_admin": user in self.admins,
                "is_owner": False,
            }
            return web.json_response({"ok": True, "user": info})
        if method == "auth.test":
            return web.json_response(
                {
                    "ok": True,
                    "url": "https://fake.slack.com/",
                    "team": "Fake team",
                    "user": "llm_news_digest",
                    "team_id": "T0FAKE",
                    "user_id": "U0BOT",
                    "bot_id": "B0BOT",
                    "is_enterprise_install": False,
                }
            )
        if method == "chat.postMessage":
            limited = self._post_limited(str(args.get("channel")))
            return limited if limited is not None else self._post(args)
        if method == "chat.update":
            return self._update(args)
        if method == "conversations.info":
            return self._info(str(args.get("channel", "")))
        if method == "views.publish":
            return self._publish_view(args)
        if method == "conversations.open":
            return self._open_dm(str(args.get("users", "")))
        if method in ("conversations.replies", "conversations.history"):
            channel, ts = str(args.get("channel")), str(args.get("ts"))
            if channel not in self.channels:
                return web.json_response({"ok": False, "error": "channel_not_found"})
            if method == "conversations.replies":
                found = self.thread(channel, ts)
            else:  # top-level messages, newest first
                found = [
                    m
                    for m in reversed(self.messages.get(channel, []))
                    if m.get("thread_ts") in (None, m["ts"])
                ][: int(args.get("limit") or 100)]
            if str(args.get("include_all_metadata")).lower() not in ("1", "true"):
                found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
            return web.json_response({"ok": True, "messages": found, "has_more": False})
        return web.json_response({"ok": False, "error": "unknown_method"})

    def _authorized(self, method: str, authorization: str) -> bool:
        """Tell whether a call carries the token its method needs (the bot's, or the app's)."""
        token = BOT_TOKEN if method != "apps.connections.open" else APP_TOKEN
        return authorization == f"Bearer {token}"

    def _open_dm(self, users: str) -> web.Response:
        """``conversations.open`` for one user: the app's DM with them (scope ``im:write``)."""
        if "im:write" in self.missing_scopes:
            return web.json_response({"ok": False, "error": "missing_scope", "needed": "im:write"})
        if users not in self.admins | self.members:
            return web.json_response({"ok": False, "error": "user_not_found"})
        channel = self.dm_channel(users)
        self.channels.add(channel)
        return web.json_response({"ok": True, "channel": {"id": channel}})

    def _info(self, channel: str) -> web.Response:
        """``conversations.info``: ``is_member`` says whether the bot is in the channel.

        A channel the bot cannot see (private without it, or gone) is ``channel_not_found``.
        """
        if {"channels:read", "groups:read"} & self.missing_scopes:
            return web.json_response(
                {"ok": False, "error": "missing_scope", "needed": "channels:read,groups:read"}
            )
        if channel not in self.channels | self.outside:
            return web.json_response({"ok": False, "error": "channel_not_found"})
        info = {"id": channel, "is_channel": True, "is_member": channel not in self.outside}
        return web.json_response({"ok": True, "channel": info})

    def _publish_view(self, args: dict[str, Any]) -> web.Response:
        """``views.publish``: a Home tab view for one user, refused as Slack refuses it."""
        view = args.get("view")
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                view = None
        problem = view_problem(str(args.get("user_id") or ""), view)
        if problem is not None:
            return web.json_response(
                {
                    "ok": False,
                    "error": "invalid_arguments",
                    "response_metadata": {"messages": [f"[ERROR] {problem}"]},
                }
            )
        assert isinstance(view, dict)
        self.home_views[str(args["user_id"])] = view
        return web.json_response({"ok": True, "view": {"id": "V0HOME", **view}})

    @staticmethod
    def dm_channel(user: str) -> str:
        """Return the id of the app's DM with ``user``."""
        return "D" + user[1:]

    def _post_limited(self, channel: str) -> web.Response | None:
        """Answer 429 when the post is one of the random share, or too soon in its channel."""
        retry_after = None
        if self.rate_limit_share and self._rng.random() < self.rate_limit_share:
            retry_after = 0
        elif self.per_channel_interval_s:
            now = time.monotonic()
            last = self._last_post.get(channel)
            if last is not None and now - last < self.per_channel_interval_s - self.jitter_s:
                retry_after = 1
            else:
                self._last_post[channel] = now
        if retry_after is None:
            return None
        self.rate_limited += 1
        return web.json_response(
            {"ok": False, "error": "ratelimited"},
            status=429,
            headers={"Retry-After": str(retry_after)},
        )

    def _post(self, args: dict[str, Any]) -> web.Response:
        channel = str(args.get("channel"))
        if channel in self.outside:
            return web.json_response({"ok": False, "error": "not_in_channel"})
        if channel not in self.channels:
            return web.json_response({"ok": False, "error": "channel_not_found"})
        thread_ts = args.get("thread_ts")
        if thread_ts and not self.thread(channel, str(thread_ts)):
            return web.json_response({"ok": False, "error": "thread_not_found"})
        self._clock += 1
        ts = f"1776000000.{self._clock:06d}"
        blocks = args.get("blocks")
        message = {
            "type": "message",
            "ts": ts,
            "text": args.get("text", ""),
            "blocks": json.loads(blocks) if isinstance(blocks, str) else blocks,
            "metadata": json.loads(args["metadata"])
            if isinstance(args.get("metadata"), str)
            else args.get("metadata"),
            "unfurl_links": args.get("unfurl_links"),
            "link_names": args.get("link_names"),
            "user": "U0BOT",
            "bot_id": "B0BOT",
        }
        if thread_ts:
            message["thread_ts"] = str(thread_ts)
        self.messages.setdefault(channel, []).append(message)
        if self.on_post is not None:
            self.on_post(channel)
        return web.json_response({"ok": True, "channel": channel, "ts": ts, "message": message})

    def _update(self, args: dict[str, Any]) -> web.Response:
        """``chat.update``: only the bot's own messages; Slack's refusals otherwise."""
        channel, ts = str(args.get("channel")), str(args.get("ts"))
        if channel not in self.channels:
            return web.json_response({"ok": False, "error": "channel_not_found"})
        found = [m for m in self.messages.get(channel, []) if m["ts"] == ts]
        if not found:
            return web.json_response({"ok": False, "error": "message_not_found"})
        message = found[0]
        if message.get("bot_id") != "B0BOT":
            return web.json_response({"ok": False, "error": "cant_update_message"})
        blocks = args.get("blocks")
        if not args.get("text") and not blocks:
            return web.json_response({"ok": False, "error": "no_text"})
        message["text"] = args.get("text", "")
        message["blocks"] = json.loads(blocks) if isinstance(blocks, str) else blocks
        metadata = args.get("metadata")
        if metadata is not None:
            message["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
        self._clock += 1
        message["edited"] = {"user": "U0BOT", "ts": f"1776000000.{self._clock:06d}"}
        return web.json_response(
            {"ok": True, "channel": channel, "ts": ts, "text": message["text"], "message": message}
        )


MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150


def view_problem(user_id: str, view: object) -> str | None:
    """Return why Slack would refuse to publish ``view`` as ``user_id``'s Home tab, or None.

    The limits of Slack's Block Kit reference: a home view of at most 100 blocks, a section's
    text at most 3,000 characters (each field 2,000), a header's plain text at most 150.
    """
    if not user_id:
        return "missing required field: user_id"
    if not isinstance(view, dict):
        return "missing required field: view"
    if view.get("type") != "home":
        return "view type must be home"
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return "missing required field: blocks"
    if len(blocks) > MAX_VIEW_BLOCKS:
        return f"no more than {MAX_VIEW_BLOCKS} items allowed [json-pointer:/view/blocks]"
    for index, block in enumerate(blocks):
        kind = block.get("type") if isinstance(block, dict) else None
        text = (block.get("text") or {}).get("text", "") if isinstance(block, dict) else ""
        if kind == "header" and not 0 < len(text) <= MAX_HEADER_TEXT:
            return f"must be at most {MAX_HEADER_TEXT} characters [/view/blocks/{index}/text]"
        if kind == "section":
            fields = block.get("fields") or []
            if not text and not fields:
                return f"must provide text or fields [/view/blocks/{index}]"
            if len(text) > MAX_SECTION_TEXT:
                return f"must be at most {MAX_SECTION_TEXT} characters [/view/blocks/{index}/text]"
            if any(len(f.get("text", "")) > 2000 for f in fields):
                return f"field text must be at most 2000 characters [/view/blocks/{index}]"
    return None
