"""A fake Discord (REST v10 + gateway) on 127.0.0.1 for the real discord.py client.

REST answers what discord.py calls: login (``/users/@me``, ``/oauth2/applications/@me``),
command sync, channels, guild roles and members, messages (with ``nonce`` + ``enforce_nonce``
deduplicated per author, as Discord does), threads from a message, forum posts, direct
messages (50007 from a member who closed them), message edits (the bot's own only: 50005
for another author's, 10008 for an unknown one), interaction callbacks, follow-ups and
``@original``. Any request on a channel the bot may not view (server roles, then the channel's
overwrites) is ``50001 Missing Access``, reading it included. Every response carries ``Content-Type:
application/json`` exactly (discord.py compares it with ``==``) and ``Via`` (without it a 429
looks like a Cloudflare ban). Rate limits: a 429 with bucket headers on demand, or at a given
share of message sends, and Discord's global 50 requests per second when asked to enforce it.

The gateway speaks HELLO / IDENTIFY / READY / heartbeat ACK / RESUME with zlib-stream binary
frames, sends a full GUILD_CREATE per guild, and delivers INTERACTION_CREATE on demand, and
MESSAGE_REACTION_ADD / _REMOVE only to sessions identified with the reactions intent. The
3-second interaction rule is enforced: a late first callback gets ``10062 Unknown
interaction``, a second one ``40060``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import WSMsgType, web

from tests.fakes.local_site import serve_locally

BOT_TOKEN = "fake.discord.token"
APP_ID = "1100000000000000001"
BOT_ID = "1100000000000000002"
GUILD_ID = "1200000000000000001"
OWNER_ID = "1300000000000000001"
ADMIN_ID = "1300000000000000002"
MEMBER_ID = "1300000000000000003"
TEXT_CHANNEL = "1400000000000000001"
FORUM_CHANNEL = "1400000000000000002"
ADMIN_ROLE = "1500000000000000001"

# Permission bits (Discord's documented values).
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
READ_MESSAGE_HISTORY = 1 << 16
MANAGE_GUILD = 1 << 5
ADMINISTRATOR = 1 << 3
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
BOT_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | READ_MESSAGE_HISTORY
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)
EVERYONE_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY
INTERACTION_DEADLINE_S = 3.0
# Gateway intents (IDENTIFY's bit field): reactions are sent only to clients that ask.
GUILDS_INTENT = 1 << 0
GUILD_MESSAGE_REACTIONS = 1 << 10
_JSON = "application/json"


def _user(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
        "flags": 0,
        "public_flags": 0,
    }


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".000000+00:00"


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"message": message, "code": code}, status=status)


def _json(body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Bytes, not text: aiohttp would add "; charset=utf-8", which discord.py does not accept
    # as JSON (pitfall D1).
    response = web.Response(
        body=json.dumps(body).encode(), status=status, headers=headers or {}, content_type=_JSON
    )
    response.headers["Via"] = "1.1 google"
    return response


@dataclass
class Interaction:
    """One interaction sent to the bot and what the bot answered."""

    id: str
    token: str
    sent_at: float
    callback: dict[str, Any] | None = None
    callback_at: float | None = None
    original: dict[str, Any] | None = None
    followups: list[dict[str, Any]] = field(default_factory=list)
    final_at: float | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def answer(self) -> dict[str, Any]:
        """The first callback (fails the test when the bot never answered)."""
        assert self.callback is not None, "the bot never answered"
        return self.callback

    @property
    def callback_latency(self) -> float:
        """Seconds from sending the interaction to its first callback."""
        assert self.callback_at is not None, "the bot never answered"
        return self.callback_at - self.sent_at

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every message the user saw: the callback's (or edited original) and follow-ups."""
        shown = []
        if self.original is not None:
            shown.append(self.original)
        elif self.callback is not None and self.callback.get("type") == 4:
            shown.append(self.callback.get("data") or {})
        return shown + self.followups


@dataclass
class FakeDiscord:
    """Guild, channels, messages and every REST call; use with ``async with``."""

    port: int = 0
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    command_puts: int = 0
    interactions: dict[str, Interaction] = field(default_factory=dict)
    # Direct messages: channel id -> recipient; members who refuse DMs from the server.
    dm_channels: dict[str, str] = field(default_factory=dict)
    dms_closed: set[str] = field(default_factory=set)
    rate_limit_next: int = 0
    rate_limit_share: float = 0.0
    global_limit_per_s: int | None = None
    invalid_requests: int = 0
    # Called with the channel right after a message is stored, before the answer goes back.
    on_post: Callable[[str], None] | None = None
    identified: asyncio.Event = field(default_factory=asyncio.Event)
    # The intents of each IDENTIFY, in order; dispatches a client did not ask for, with why.
    identify_intents: list[int] = field(default_factory=list)
    undelivered: list[tuple[str, str]] = field(default_factory=list)
    _intents: dict[int, int] = field(default_factory=dict)  # id(socket) -> its session's
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _nonces: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    _recent: deque[float] = field(default_factory=deque)
    _runner: web.AppRunner | None = None
    _sockets: list[tuple[web.WebSocketResponse, Any]] = field(default_factory=list)
    _seq: int = 0

    def __post_init__(self) -> None:
        self.roles = {
            GUILD_ID: {"id": GUILD_ID, "name": "@everyone", "permissions": EVERYONE_PERMISSIONS},
            ADMIN_ROLE: {"id": ADMIN_ROLE, "name": "mods", "permissions": MANAGE_GUILD},
            "1500000000000000009": {
                "id": "1500000000000000009",
                "name": "digest-bot",
                "permissions": BOT_PERMISSIONS,
            },
        }
        self.members = {
            BOT_ID: {
                "user": _user(BOT_ID, "digestbot", bot=True),
                "roles": ["1500000000000000009"],
            },
            OWNER_ID: {"user": _user(OWNER_ID, "owner"), "roles": []},
            ADMIN_ID: {"user": _user(ADMIN_ID, "mod"), "roles": [ADMIN_ROLE]},
            MEMBER_ID: {"user": _user(MEMBER_ID, "reader"), "roles": []},
        }
        self.add_channel(TEXT_CHANNEL, "llm-digest")
        self.add_channel(FORUM_CHANNEL, "papers", kind=15)

    # -- set-up and inspection --------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The value for DISCORD_API_URL."""
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        """The value for DISCORD_GATEWAY_URL."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    def snowflake(self) -> str:
        """Return a new id, increasing like Discord's snowflakes."""
        return str((int(time.time() * 1000) - 1420070400000) << 22 | next(self._ids) & 0x3FFFFF)

    def add_channel(
        self, channel_id: str, name: str, *, kind: int = 0, deny_bot: int = 0
    ) -> dict[str, Any]:
        """Add a text (0) or forum (15) channel; ``deny_bot`` is an overwrite on the bot."""
        overwrites = []
        if deny_bot:
            overwrites.append({"id": BOT_ID, "type": 1, "allow": "0", "deny": str(deny_bot)})
        channel: dict[str, Any] = {
            "id": channel_id,
            "type": kind,
            "guild_id": GUILD_ID,
            "name": name,
            "position": len(self.channels),
            "permission_overwrites": overwrites,
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }
        if kind == 15:
            channel.update(available_tags=[], default_reaction_emoji=None, default_sort_order=None)
            channel.update(default_forum_layout=0, default_thread_rate_limit_per_user=0)
        self.channels[channel_id] = channel
        self.messages.setdefault(channel_id, [])
        return channel

    def delete_channel(self, channel_id: str) -> None:
        """Delete a channel and its threads, as a server admin would."""
        for cid in [
            c
            for c, ch in self.channels.items()
            if c == channel_id or ch.get("parent_id") == channel_id
        ]:
            self.channels.pop(cid, None)
            self.messages.pop(cid, None)

    def posts(self, channel_id: str) -> list[dict[str, Any]]:
        """Return the messages in a channel or thread, oldest first."""
        return list(self.messages.get(channel_id, []))

    def threads_of(self, channel_id: str) -> list[dict[str, Any]]:
        """Return the threads started in a channel (or the posts of a forum)."""
        return [c for c in self.channels.values() if c.get("parent_id") == channel_id]

    def sends(self) -> list[tuple[str, str, Any]]:
        """Return the message-creating calls that succeeded or not, in order."""
        return [c for c in self.calls if c[0] == "POST" and c[1].endswith("/messages")]

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self._runner, self.port = await serve_locally(app)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close_sockets()
        if self._runner is not None:
            await self._runner.cleanup()

    async def close_sockets(self) -> None:
        """Close every gateway connection."""
        for socket, _ in list(self._sockets):
            await socket.close()

    # -- REST --------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        if response.status in (401, 403, 429) or (
            response.status == 404 and request.path.startswith("/api/")
        ):
            self.invalid_requests += 1
        return response

    def _rate_limited(self, request: web.Request) -> web.Response | None:
        now = time.monotonic()
        if self.global_limit_per_s is not None and "/interactions/" not in request.path:
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.global_limit_per_s:
                retry = max(0.001, 1.0 - (now - self._recent[0]))
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": retry,
                    "global": True,
                }
                headers = {"Retry-After": f"{retry:.3f}", "X-RateLimit-Global": "true",
                           "X-RateLimit-Scope": "global"}  # fmt: skip
                return _json(body, status=429, headers=headers)
            self._recent.append(now)
        is_send = request.method == "POST" and request.path.endswith("/messages")
        limited = self.rate_limit_next > 0 or (
            is_send and self.rate_limit_share and self.rng.random() < self.rate_limit_share
        )
        if not limited:
            return None
        self.rate_limit_next = max(0, self.rate_limit_next - 1)
        retry = 0.05
        headers = {
            "Retry-After": f"{retry}",
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry:.3f}",
            "X-RateLimit-Reset-After": f"{retry}",
            "X-RateLimit-Bucket": "fake-bucket-" + request.path.split("/")[4],
            "X-RateLimit-Scope": "user",
        }
        body = {"message": "You are being rate limited.", "retry_after": retry, "global": False}
        return _json(body, status=429, headers=headers)

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            if raw and request.content_type == "application/json":
                body = json.loads(raw)
        self.calls.append((request.method, path, body))
        parts = path.strip("/").split("/")
        if parts[0] == "interactions" or (parts[0] == "webhooks" and parts[1] == APP_ID):
            return self._interaction_route(request.method, parts, body)
        if request.headers.get("Authorization") != f"Bot {BOT_TOKEN}":
            return _error(401, 0, "401: Unauthorized")
        limited = self._rate_limited(request)
        if limited is not None:
            return limited
        route = (request.method, *parts)
        if route == ("GET", "users", "@me"):
            return _json(_user(BOT_ID, "digestbot", bot=True))
        if route == ("GET", "oauth2", "applications", "@me"):
            return _json(self._application())
        if route == ("GET", "gateway", "bot"):
            limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
            return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})
        if request.method == "PUT" and parts[0] == "applications" and parts[-1] == "commands":
            return self._sync_commands(parts, body)
        if route == ("POST", "users", "@me", "channels"):
            return self._open_dm(str((body or {}).get("recipient_id")))
        if parts[0] == "guilds":
            return self._guild_route(request, parts)
        if parts[0] == "channels":
            return self._channel_route(request, parts, body)
        return _error(404, 0, "404: Not Found")

    def _application(self) -> dict[str, Any]:
        return {
            "id": APP_ID,
            "name": "LLM News Digest",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": _user(OWNER_ID, "owner"),
            "verify_key": "0" * 64,
            "flags": 0,
            "team": None,
            "interactions_endpoint_url": None,
        }

    def _sync_commands(self, parts: list[str], body: Any) -> web.Response:
        self.command_puts += 1
        scope = parts[3] if parts[2] == "guilds" else "global"
        stored = []
        for command in body or []:
            entry = dict(command, id=self.snowflake(), application_id=APP_ID, version="1")
            if scope != "global":
                entry["guild_id"] = scope
            stored.append(entry)
        self.commands[scope] = stored
        return _json(stored)

    def _guild(self) -> dict[str, Any]:
        return {
            "id": GUILD_ID,
            "name": "LLM readers",
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": OWNER_ID,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [self._role(role) for role in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
        }

    def _role(self, role: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": role["id"],
            "name": role["name"],
            "color": 0,
            "hoist": False,
            "position": 0 if role["id"] == GUILD_ID else 1,
            "permissions": str(role["permissions"]),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }

    def _member(self, user_id: str) -> dict[str, Any]:
        member = self.members[user_id]
        return {
            "user": member["user"],
            "roles": list(member["roles"]),
            "joined_at": _iso(1_700_000_000),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "avatar": None,
            "premium_since": None,
            "pending": False,
        }

    def member_permissions(self, user_id: str, channel_id: str | None = None) -> int:
        """Return a member's permissions (in a channel, after overwrites), as Discord computes."""
        if user_id == OWNER_ID:
            return (1 << 53) - 1
        member = self.members[user_id]
        value = int(self.roles[GUILD_ID]["permissions"])
        for role in member["roles"]:
            value |= int(self.roles[role]["permissions"])
        if value & ADMINISTRATOR:
            return (1 << 53) - 1
        channel = self.channels.get(channel_id or "")
        if channel is not None and channel.get("parent_id"):
            channel = self.channels.get(channel["parent_id"], channel)
        for overwrite in (channel or {}).get("permission_overwrites", []):
            if overwrite["id"] in (GUILD_ID, user_id, *member["roles"]):
                value = (value & ~int(overwrite["deny"])) | int(overwrite["allow"])
        return value

    def _guild_route(self, request: web.Request, parts: list[str]) -> web.Response:
        if parts[1] != GUILD_ID:
            return _error(404, 10004, "Unknown Guild")
        if len(parts) == 2 and request.method == "GET":
            return _json(self._guild())
        if parts[2:3] == ["members"] and len(parts) == 4:
            if parts[3] not in self.members:
                return _error(404, 10007, "Unknown Member")
            return _json(self._member(parts[3]))
        if parts[2:3] == ["channels"]:
            return _json([c for c in self.channels.values() if c["type"] != 11])
        if parts[2:4] == ["threads", "active"]:
            threads = [c for c in self.channels.values() if c["type"] == 11]
            return _json({"threads": threads, "members": []})
        if parts[2:3] == ["roles"]:
            return _json([self._role(role) for role in self.roles.values()])
        return _error(404, 0, "404: Not Found")

    def _open_dm(self, recipient: str) -> web.Response:
        """``POST /users/@me/channels``: the bot's DM channel with a member (one per member)."""
        member = self.members.get(recipient)
        if member is None:
            return _error(400, 50033, "Invalid Recipient(s)")
        found = [c for c, user in self.dm_channels.items() if user == recipient]
        channel_id = found[0] if found else self.snowflake()
        self.dm_channels[channel_id] = recipient
        self.messages.setdefault(channel_id, [])
        channel = {"id": channel_id, "type": 1, "last_message_id": None, "flags": 0,
                   "recipients": [member["user"]]}  # fmt: skip
        return _json(channel)

    def direct_messages(self, user: str) -> list[dict[str, Any]]:
        """Return the bot's direct messages to ``user``, oldest first."""
        return [m for c, u in self.dm_channels.items() if u == user for m in self.messages[c]]

    def _dm_route(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        if parts[2:] != ["messages"] or request.method != "POST":
            return _error(404, 0, "404: Not Found")
        if self.dm_channels[parts[1]] in self.dms_closed:
            return _error(403, 50007, "Cannot send messages to this user")
        problem = self._check_message(body or {})
        if problem is not None:
            return problem
        message = self._message(parts[1], body)
        self.messages[parts[1]].append(message)
        return _json(message)

    def _channel_route(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        if parts[1] in self.dm_channels:
            return self._dm_route(request, parts, body)
        channel = self.channels.get(parts[1])
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        allowed = self.member_permissions(BOT_ID, channel["id"])
        if not allowed & VIEW_CHANNEL:  # a channel the bot cannot see, even to read it
            return _error(403, 50001, "Missing Access")
        if len(parts) == 2 and request.method == "GET":
            return _json(channel)
        if parts[2:3] == ["messages"] and len(parts) == 3:
            if request.method == "GET":
                return self._history(channel["id"], request)
            return self._create_message(channel, body, allowed)
        if parts[2:3] == ["messages"] and len(parts) == 4 and request.method == "GET":
            found = [m for m in self.messages.get(channel["id"], []) if m["id"] == parts[3]]
            return _json(found[0]) if found else _error(404, 10008, "Unknown Message")
        if parts[2:3] == ["messages"] and len(parts) == 4 and request.method == "PATCH":
            return self._edit_message(channel["id"], parts[3], body or {})
        if parts[2:3] == ["messages"] and parts[4:5] == ["threads"]:
            return self._thread_from_message(channel, parts[3], body, allowed)
        if parts[2:3] == ["threads"] and request.method == "POST" and channel["type"] == 15:
            return self._forum_post(channel, body, allowed)
        if parts[2:3] == ["typing"]:
            return web.Response(status=204, headers={"Via": "1.1 google"})
        return _error(404, 0, "404: Not Found")

    def _edit_message(self, channel_id: str, message_id: str, body: dict[str, Any]) -> web.Response:
        """``PATCH /channels/{id}/messages/{id}``: the bot's own messages only, as on Discord."""
        found = [m for m in self.messages.get(channel_id, []) if m["id"] == message_id]
        if not found:
            return _error(404, 10008, "Unknown Message")
        message = found[0]
        if message["author"]["id"] != BOT_ID:
            return _error(403, 50005, "Cannot edit a message authored by another user")
        edited = {key: body.get(key, message.get(key)) for key in ("content", "embeds")}
        problem = self._check_message(edited)
        if problem is not None:
            return problem
        message.update(
            {k: v for k, v in body.items() if k in ("content", "embeds", "allowed_mentions")}
        )
        message["edited_timestamp"] = _iso(time.time())
        return _json(message)

    def _history(self, channel_id: str, request: web.Request) -> web.Response:
        limit = min(100, int(request.query.get("limit", "50")))
        found = list(reversed(self.messages.get(channel_id, [])))  # newest first
        if "before" in request.query:
            found = [m for m in found if int(m["id"]) < int(request.query["before"])]
        if "after" in request.query:
            found = [m for m in found if int(m["id"]) > int(request.query["after"])]
            found = list(reversed(found))[:limit][::-1]
        return _json(found[:limit])

    def _message(
        self, channel_id: str, body: dict[str, Any], *, mid: str | None = None
    ) -> dict[str, Any]:
        return {
            "id": mid or self.snowflake(),
            "channel_id": channel_id,
            "author": _user(BOT_ID, "digestbot", bot=True),
            "content": body.get("content") or "",
            "timestamp": _iso(time.time()),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "components": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
            "nonce": body.get("nonce"),
            "allowed_mentions": body.get("allowed_mentions"),
        }

    def _check_message(self, body: dict[str, Any]) -> web.Response | None:
        content = body.get("content") or ""
        embeds = body.get("embeds") or []
        if not content and not embeds:
            return _error(400, 50006, "Cannot send an empty message")
        if len(content) > 2000 or len(embeds) > 10:
            return _error(400, 50035, "Invalid Form Body: content or embeds too long")
        total = 0
        for embed in embeds:
            sizes = {"title": 256, "description": 4096}
            for key, limit in sizes.items():
                if len(embed.get(key) or "") > limit:
                    return _error(400, 50035, f"Invalid Form Body: embed {key} too long")
            total += len(embed.get("title") or "") + len(embed.get("description") or "")
            total += len((embed.get("footer") or {}).get("text") or "")
            total += len((embed.get("author") or {}).get("name") or "")
            for item in embed.get("fields") or []:
                if len(item["name"]) > 256 or len(item["value"]) > 1024:
                    return _error(400, 50035, "Invalid Form Body: embed field too long")
                total += len(item["name"]) + len(item["value"])
        if total > 6000:
            return _error(400, 50035, "Invalid Form Body: embeds exceed 6000 characters")
        return None

    def _create_message(self, channel: dict[str, Any], body: Any, allowed: int) -> web.Response:
        needed = SEND_MESSAGES_IN_THREADS if channel["type"] == 11 else SEND_MESSAGES
        if not allowed & needed:
            return _error(403, 50013, "Missing Permissions")
        if channel["type"] == 15:
            return _error(400, 50008, "Cannot send messages in a non-text channel")
        problem = self._check_message(body or {})
        if problem is not None:
            return problem
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            if len(str(nonce)) > 25:
                return _error(400, 50035, "Invalid Form Body: nonce longer than 25")
            earlier = self._nonces.get((BOT_ID, str(nonce)))
            if earlier is not None:
                return _json(earlier)
        message = self._message(channel["id"], body)
        self.messages.setdefault(channel["id"], []).append(message)
        if nonce is not None and body.get("enforce_nonce"):
            self._nonces[(BOT_ID, str(nonce))] = message
        if self.on_post is not None:
            self.on_post(channel["id"])
        return _json(message)

    def _thread(
        self, parent: dict[str, Any], thread_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "id": thread_id,
            "type": 11,
            "guild_id": GUILD_ID,
            "parent_id": parent["id"],
            "owner_id": BOT_ID,
            "name": body.get("name", "thread"),
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": 0,
            "member_count": 1,
            "flags": 0,
            "applied_tags": [],
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration", 1440),
                "archive_timestamp": _iso(time.time()),
                "locked": False,
            },
        }

    def _thread_from_message(
        self, channel: dict[str, Any], message_id: str, body: Any, allowed: int
    ) -> web.Response:
        if not allowed & CREATE_PUBLIC_THREADS:
            return _error(403, 50013, "Missing Permissions")
        if not any(m["id"] == message_id for m in self.messages.get(channel["id"], [])):
            return _error(404, 10008, "Unknown Message")
        if message_id in self.channels:
            return _error(400, 160004, "A thread has already been created for this message")
        name = str((body or {}).get("name", ""))
        if not 1 <= len(name) <= 100:
            return _error(400, 50035, "Invalid Form Body: name must be 1-100 characters")
        thread = self._thread(channel, message_id, body or {})
        self.channels[message_id] = thread
        self.messages[message_id] = []
        return _json(thread, status=201)

    def _forum_post(self, forum: dict[str, Any], body: Any, allowed: int) -> web.Response:
        if not allowed & SEND_MESSAGES:
            return _error(403, 50013, "Missing Permissions")
        first = (body or {}).get("message") or {}
        problem = self._check_message(first)
        if problem is not None:
            return problem
        thread_id = self.snowflake()
        thread = self._thread(forum, thread_id, body or {})
        starter = self._message(thread_id, first, mid=thread_id)
        self.channels[thread_id] = thread
        self.messages[thread_id] = [starter]
        return _json(dict(thread, message=starter), status=201)

    # -- interactions ------------------------------------------------------------------------

    def _interaction_route(self, method: str, parts: list[str], body: Any) -> web.Response:
        now = time.perf_counter()
        if parts[0] == "interactions":
            interaction = self.interactions.get(parts[1])
            if interaction is None or interaction.token != parts[2]:
                return _error(404, 10062, "Unknown interaction")
            if interaction.callback is not None:
                return _error(400, 40060, "Interaction has already been acknowledged.")
            if now - interaction.sent_at > INTERACTION_DEADLINE_S:
                return _error(404, 10062, "Unknown interaction")
            kind = int(body.get("type", 0))
            data = body.get("data") or {}
            if kind == 4 and not (data.get("content") or data.get("embeds")):
                return _error(400, 50006, "Cannot send an empty message")
            interaction.callback, interaction.callback_at = body, now
            if kind in (4, 8):
                interaction.final_at = now
                interaction.done.set()
            message = self._message("0", data) if kind == 4 else None
            resource: dict[str, Any] = {"type": kind}
            if message is not None:
                resource["message"] = message
            answer = {
                "interaction": {
                    "id": interaction.id,
                    "type": 2,
                    "response_message_id": message["id"] if message else None,
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": bool(int(data.get("flags") or 0) & 64),
                },
                "resource": resource,
            }
            return _json(answer)
        token = parts[2]
        interaction = next((i for i in self.interactions.values() if i.token == token), None)
        if interaction is None:
            return _error(404, 10015, "Unknown Webhook")
        problem = self._check_message(body or {}) if method in ("POST", "PATCH") else None
        if problem is not None:
            return problem
        if parts[-1] == "@original":
            if method == "PATCH":
                interaction.original = body
                interaction.final_at = now
                interaction.done.set()
            shown = interaction.original or (interaction.callback or {}).get("data") or {}
            return _json(self._message("0", shown))
        interaction.followups.append(body)
        interaction.final_at = now
        interaction.done.set()
        return _json(self._message("0", body))

    def _interaction_payload(
        self,
        interaction: Interaction,
        kind: int,
        data: dict[str, Any],
        user_id: str,
        channel_id: str,
    ) -> dict[str, Any]:
        member = dict(
            self._member(user_id), permissions=str(self.member_permissions(user_id, channel_id))
        )
        channel = self.channels.get(channel_id) or {
            "id": channel_id,
            "type": 0,
            "guild_id": GUILD_ID,
        }
        return {
            "id": interaction.id,
            "application_id": APP_ID,
            "type": kind,
            "token": interaction.token,
            "version": 1,
            "data": data,
            "guild_id": GUILD_ID,
            "guild": {"id": GUILD_ID, "locale": "en-US", "features": []},
            "channel_id": channel_id,
            "channel": channel,
            "member": member,
            "locale": "en-US",
            "guild_locale": "en-US",
            "app_permissions": str(self.member_permissions(BOT_ID, channel_id)),
            "entitlements": [],
            "authorizing_integration_owners": {"0": GUILD_ID},
            "context": 0,
            "attachment_size_limit": 8388608,
        }

    async def interact(
        self,
        name: str,
        options: list[dict[str, Any]] | None = None,
        *,
        user_id: str = MEMBER_ID,
        channel_id: str = TEXT_CHANNEL,
        autocomplete: bool = False,
    ) -> Interaction:
        """Send a slash command (or its autocomplete) to the bot; return its record."""
        await asyncio.wait_for(self.identified.wait(), timeout=10)
        interaction = Interaction(self.snowflake(), "tok" + self.snowflake(), 0.0)
        self.interactions[interaction.id] = interaction
        scope = next(
            (s for s, cmds in self.commands.items() if any(c["name"] == name for c in cmds)),
            "global",
        )
        command = next((c for c in self.commands.get(scope, []) if c["name"] == name), {})
        data: dict[str, Any] = {
            "id": command.get("id", self.snowflake()),
            "name": name,
            "type": 1,
            "options": options or [],
        }
        if scope != "global":
            data["guild_id"] = scope
        payload = self._interaction_payload(
            interaction, 4 if autocomplete else 2, data, user_id, channel_id
        )
        interaction.sent_at = time.perf_counter()
        await self.dispatch("INTERACTION_CREATE", payload)
        return interaction

    # -- reactions ---------------------------------------------------------------------------

    def add_user_message(self, channel_id: str, content: str, user_id: str = MEMBER_ID) -> str:
        """Post a message as a member (not the bot), e.g. in an edition's thread; its id."""
        message = self._message(channel_id, {"content": content})
        message["author"] = self.members[user_id]["user"]
        self.messages.setdefault(channel_id, []).append(message)
        return str(message["id"])

    async def react(
        self,
        channel_id: str,
        message_id: str,
        emoji: str | dict[str, Any],
        *,
        user_id: str = MEMBER_ID,
        added: bool = True,
    ) -> int:
        """A member adds (or removes) a reaction; return how many connections were told.

        Discord sends MESSAGE_REACTION_ADD / _REMOVE only to sessions that identified with
        the GUILD_MESSAGE_REACTIONS intent; the others are recorded in ``undelivered``. Only
        an existing message can be reacted to. ``emoji`` is a unicode emoji or a custom
        emoji object (``{"id": ..., "name": ...}``).
        """
        found = [m for m in self.messages.get(channel_id, []) if m["id"] == message_id]
        if not found:
            raise ValueError(f"no message {message_id} in channel {channel_id} to react to")
        event = "MESSAGE_REACTION_ADD" if added else "MESSAGE_REACTION_REMOVE"
        data: dict[str, Any] = {
            "user_id": user_id,
            "channel_id": channel_id,
            "message_id": message_id,
            "guild_id": GUILD_ID,
            "emoji": {"id": None, "name": emoji} if isinstance(emoji, str) else emoji,
            "burst": False,
            "type": 0,  # normal, not a super reaction (discord.py reads it with [])
        }
        if added:  # only the add carries the member, and the message's author
            data["member"] = self._member(user_id)
            data["message_author_id"] = found[0]["author"]["id"]
        told = 0
        for socket, compressor in list(self._sockets):
            if not self._intents.get(id(socket), 0) & GUILD_MESSAGE_REACTIONS:
                self.undelivered.append((event, "the session lacks GUILD_MESSAGE_REACTIONS"))
                continue
            self._seq += 1
            await self._send(socket, compressor, {"op": 0, "t": event, "s": self._seq, "d": data})
            told += 1
        return told

    # -- gateway -----------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a dispatch to every identified gateway connection."""
        for socket, compressor in list(self._sockets):
            self._seq += 1
            await self._send(socket, compressor, {"op": 0, "t": event, "s": self._seq, "d": data})

    async def _send(
        self, socket: web.WebSocketResponse, compressor: Any, payload: dict[str, Any]
    ) -> None:
        text = json.dumps(payload)
        if compressor is None:
            await socket.send_str(text)
        else:
            await socket.send_bytes(
                compressor.compress(text.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH)
            )

    def _guild_create(self) -> dict[str, Any]:
        guild = self._guild()
        guild.update(
            unavailable=False,
            large=False,
            member_count=len(self.members),
            members=[self._member(BOT_ID)],
            channels=[c for c in self.channels.values() if c["type"] != 11],
            threads=[],
            presences=[],
            voice_states=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
            joined_at=_iso(1_700_000_000),
        )
        return guild

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await socket.prepare(request)
        compressor = zlib.compressobj() if request.query.get("compress") == "zlib-stream" else None
        await self._send(
            socket, compressor, {"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None}
        )
        async for frame in socket:
            if frame.type != WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            op = message.get("op")
            if op == 1:
                await self._send(socket, compressor, {"op": 11, "d": None, "s": None, "t": None})
            elif op == 2:
                if message["d"].get("token") != BOT_TOKEN:
                    await socket.close(code=4004, message=b"Authentication failed.")
                    break
                self._sockets.append((socket, compressor))
                self.identify_intents.append(int(message["d"].get("intents") or 0))
                self._intents[id(socket)] = self.identify_intents[-1]
                self._seq += 1
                ready = {
                    "v": 10,
                    "user": _user(BOT_ID, "digestbot", bot=True),
                    "guilds": [{"id": GUILD_ID, "unavailable": True}],
                    "session_id": "fake-session",
                    "resume_gateway_url": self.gateway_url,
                    "session_type": "normal",
                    "application": {"id": APP_ID, "flags": 0},
                    "private_channels": [],
                    "relationships": [],
                }
                if "shard" in message["d"]:
                    ready["shard"] = message["d"]["shard"]
                await self._send(
                    socket, compressor, {"op": 0, "t": "READY", "s": self._seq, "d": ready}
                )
                self._seq += 1
                await self._send(
                    socket,
                    compressor,
                    {"op": 0, "t": "GUILD_CREATE", "s": self._seq, "d": self._guild_create()},
                )
                self.identified.set()
            elif op == 6:
                self._sockets.append((socket, compressor))
                # A resumed session keeps the intents it identified with.
                self._intents[id(socket)] = (
                    self.identify_intents[-1] if self.identify_intents else 0
                )
                await self._send(
                    socket, compressor, {"op": 0, "t": "RESUMED", "s": self._seq, "d": {}}
                )
        self._sockets = [(s, c) for s, c in self._sockets if s is not socket]
        return socket
