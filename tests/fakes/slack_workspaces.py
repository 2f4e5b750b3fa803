"""A fake Slack with two workspaces that install the app through OAuth v2 ("Add to Slack").

`FakeSlackWorkspaces` is `FakeSlack` plus what many workspaces need, as Slack documents it:

- `approve` is the installer clicking "Allow" on Slack's authorize page: it checks the
  authorize URL (client id, scopes the manifest grants, a redirect URI among the app's
  Redirect URLs) and returns where Slack sends the browser back, with a one-time code.
- ``oauth.v2.access`` exchanges that code for the workspace's own bot token. The client is
  authenticated by HTTP Basic auth or form fields; ``invalid_client_id``,
  ``bad_client_secret``, ``invalid_code`` (unknown or used) and ``bad_redirect_uri`` (not
  the one the authorize step used) are refused as on Slack.
- Each workspace has its own channels and people: a token of one workspace cannot see the
  other's (``channel_not_found``, ``user_not_found``). A workspace's token after it
  uninstalled the app answers ``token_revoked``.
- `command` and `send_team_event` reach the app in HTTP mode, signed, from one workspace;
  `uninstall` sends ``tokens_revoked`` and ``app_uninstalled`` as Slack does.

The single token of `FakeSlack` (``BOT_TOKEN``) still works, for the environment's token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
from aiohttp import web

from tests.fakes.slack_server import FakeSlack

CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "fake-client-secret-0123456789"
APP_ID = "A0FAKE"


@dataclass
class Team:
    """One workspace: its channels, its people and, once installed, the bot's token."""

    id: str
    name: str
    channels: set[str]
    admins: set[str]
    members: set[str] = field(default_factory=set)
    token: str | None = None


def two_teams() -> dict[str, Team]:
    """Return workspaces A (channel C0A, admin U0ADA) and B (channel C0B, admin U0ADB)."""
    return {
        "T0A": Team("T0A", "Team A", {"C0A"}, {"U0ADA"}, {"U0MEMA"}),
        "T0B": Team("T0B", "Team B", {"C0B"}, {"U0ADB"}, {"U0MEMB"}),
    }


@dataclass
class FakeSlackWorkspaces(FakeSlack):
    """`FakeSlack` serving several workspaces that install the app with OAuth v2."""

    teams: dict[str, Team] = field(default_factory=two_teams)
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    # The app's Redirect URLs (OAuth & Permissions); the first is used when none is asked.
    redirect_urls: list[str] = field(default_factory=list)
    # code -> (team id, installer, redirect_uri given at the authorize step or None)
    codes: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    # Every call made with a workspace's token: (method, team id, channel or "").
    team_calls: list[tuple[str, str, str]] = field(default_factory=list)
    oauth_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # The base's checks (channels exist, people exist) see every workspace's.
        for team in self.teams.values():
            self.channels |= team.channels
            self.admins |= team.admins
            self.members |= team.members

    # -- the installer's browser -------------------------------------------------------------

    def approve(self, authorize_url: str, team_id: str, user: str) -> str:
        """Return where Slack sends the installer after "Allow" on ``authorize_url``."""
        parts = urlsplit(authorize_url)
        if parts.path != "/oauth/v2/authorize":
            raise ValueError(f"not Slack's authorize page: {parts.path}")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if query.get("client_id") != self.client_id:
            raise ValueError("invalid_client_id")
        asked = {s for s in query.get("scope", "").split(",") if s}
        if not asked or not asked <= self.manifest.scopes:
            raise ValueError(f"invalid_scope: {sorted(asked - self.manifest.scopes)}")
        redirect = query.get("redirect_uri")
        if redirect is not None and redirect not in self.redirect_urls:
            raise ValueError("bad_redirect_uri")  # Slack shows this on its own page
        target = redirect or self.redirect_urls[0]
        code = secrets.token_hex(8)
        self.codes[code] = (team_id, user, redirect)
        return f"{target}?{urlencode({'code': code, 'state': query.get('state', '')})}"

    # -- the Web API -------------------------------------------------------------------------

    def _team_of(self, authorization: str) -> Team | None:
        token = authorization.removeprefix("Bearer ")
        return next((t for t in self.teams.values() if t.token and t.token == token), None)

    def _authorized(self, method: str, authorization: str) -> bool:
        return self._team_of(authorization) is not None or super()._authorized(
            method, authorization
        )

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method == "oauth.v2.access":
            return await self._oauth_access(request)
        authorization = request.headers.get("Authorization", "")
        if authorization.removeprefix("Bearer ") in self.revoked:
            return web.json_response({"ok": False, "error": "token_revoked"})
        team = self._team_of(authorization)
        if team is None:
            return await super()._api(request)
        args = await self._args(request)
        channel = str(args.get("channel") or "")
        self.team_calls.append((method, team.id, channel))
        people = team.admins | team.members
        dms = {self.dm_channel(user) for user in people}
        if channel and channel not in team.channels | dms:
            self.calls.append((method, args))
            return web.json_response({"ok": False, "error": "channel_not_found"})
        person = str(args.get("user") or args.get("users") or "")
        if method in ("users.info", "conversations.open") and person not in people:
            self.calls.append((method, args))
            return web.json_response({"ok": False, "error": "user_not_found"})
        if method == "auth.test":
            self.calls.append((method, args))
            return web.json_response(
                {"ok": True, "team": team.name, "team_id": team.id, "user_id": "U0BOT",
                 "bot_id": "B0BOT", "url": f"https://{team.id.lower()}.slack.com/"}
            )  # fmt: skip
        if method == "users.info":
            self.calls.append((method, args))
            info = {"id": person, "team_id": team.id, "is_admin": person in team.admins}
            return web.json_response({"ok": True, "user": info | {"is_owner": False}})
        return await super()._api(request)

    async def _oauth_access(self, request: web.Request) -> web.Response:
        """``oauth.v2.access``: a code from `approve` for the workspace's bot token."""
        args = await self._args(request)
        client_id, client_secret = args.get("client_id"), args.get("client_secret")
        basic = request.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            decoded = base64.b64decode(basic.removeprefix("Basic ")).decode()
            client_id, _, client_secret = decoded.partition(":")
        self.calls.append(("oauth.v2.access", {"code": args.get("code")}))
        error = None
        code = self.codes.get(str(args.get("code") or ""))
        if client_id != self.client_id:
            error = "invalid_client_id"
        elif not hmac.compare_digest(str(client_secret or ""), self.client_secret):
            error = "bad_client_secret"
        elif code is None:
            error = "invalid_code"
        elif args.get("redirect_uri") not in self._redirects_allowed(code[2]):
            error = "bad_redirect_uri"
        if error is not None or code is None:
            self.oauth_errors.append(str(error))
            return web.json_response({"ok": False, "error": error})
        del self.codes[str(args["code"])]  # a code is good once
        team_id, installer, _ = code
        team = self.teams[team_id]
        if team.token is not None:
            self.revoked.add(team.token)  # a reinstall replaces the workspace's token
        team.token = f"xoxb-{team_id}-{secrets.token_hex(6)}"
        return web.json_response(
            {
                "ok": True,
                "access_token": team.token,
                "token_type": "bot",
                "scope": ",".join(sorted(self.manifest.scopes)),
                "bot_user_id": "U0BOT",
                "app_id": APP_ID,
                "team": {"name": team.name, "id": team.id},
                "enterprise": None,
                "is_enterprise_install": False,
                "authed_user": {"id": installer},
            }
        )

    def _redirects_allowed(self, asked: str | None) -> tuple[str | None, ...]:
        """Return the redirect_uri values ``oauth.v2.access`` accepts for a code.

        One given at the authorize step must be given again, the same; else it may be left
        out or be one of the app's Redirect URLs.
        """
        return (asked,) if asked is not None else (None, *self.redirect_urls)

    # -- requests to the app (HTTP mode) -----------------------------------------------------

    async def command(
        self, team_id: str, command: str, text: str, *, user: str, channel: str
    ) -> tuple[int, dict[str, Any]]:
        """POST a slash command from a workspace to ``events_url``; return status and answer."""
        form = {
            "token": "legacy",
            "team_id": team_id,
            "team_domain": team_id.lower(),
            "channel_id": channel,
            "user_id": user,
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": f"http://127.0.0.1:{self.port}/response_url/{secrets.token_hex(4)}",
            "trigger_id": "trigger",
        }
        status, body = await self._signed(
            urlencode(form).encode(), "application/x-www-form-urlencoded"
        )
        return status, json.loads(body) if body.startswith("{") else {"text": body}

    async def send_team_event(self, team_id: str, event: dict[str, Any]) -> bool:
        """POST an Events API event from a workspace; False when Slack would not send it."""
        why = self.manifest.why_not_sent(str(event["type"]), self.missing_scopes)
        if why is not None:
            self.undelivered.append((str(event["type"]), why))
            return False
        self._clock += 1
        payload = {
            "token": "legacy",
            "team_id": team_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{self._clock}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team_id, "user_id": "U0BOT", "is_bot": True}],
        }
        status, _ = await self._signed(json.dumps(payload).encode(), "application/json")
        self.event_statuses.append(status)
        return True

    async def uninstall(self, team_id: str) -> None:
        """Remove the app from a workspace: its token dies, then both events are sent."""
        team = self.teams[team_id]
        if team.token is not None:
            self.revoked.add(team.token)
            team.token = None
        await self.send_team_event(
            team_id, {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0BOT"]}}
        )
        await self.send_team_event(team_id, {"type": "app_uninstalled"})

    async def _signed(self, body: bytes, content_type: str) -> tuple[int, str]:
        """POST ``body`` to the app signed as Slack signs (v0, HMAC-SHA256 of ts and body)."""
        assert self.events_url is not None, "set events_url to the app's /slack/events"
        timestamp = str(int(time.time()))
        base = b"v0:" + timestamp.encode() + b":" + body
        digest = hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": f"v0={digest}",
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.events_url, data=body, headers=headers) as response,
        ):
            return response.status, await response.text()
