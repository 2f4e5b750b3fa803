"""Slack's "Add to Slack" (OAuth v2) for many workspaces, on Bolt's own OAuth flow.

HTTP mode with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET serves ``GET /slack/install`` (a page
with the Add to Slack link, and a state cookie) and ``GET /slack/oauth_redirect`` (where Slack
sends the installer back with a code, exchanged with ``oauth.v2.access`` for the workspace's
own bot token). Bolt runs the flow; this module gives it:

- `StoreInstallationStore` and `StoreStateStore`: Bolt's installation and state stores over
  our store (`InstallRecords`), with the injected clock. A state is good once, for
  `STATE_EXPIRY_S`; a reused, unknown or expired one gets a page that says so.
- `WorkspaceTokens`: the token a delivery or notice posts with, by the workspace of the
  channel's subscription: that workspace's own install, else SLACK_BOT_TOKEN.
- `add_uninstall_listeners`: ``app_uninstalled`` and ``tokens_revoked`` pause the workspace's
  subscriptions (with the reason) and forget its install.

The client secret is only ever handed to Bolt (sent to Slack in the Authorization header of
``oauth.v2.access``); nothing here logs it or the tokens.
"""

from __future__ import annotations

import html
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.error import BoltError
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.oauth import OAuthStateUtils
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.delivery.workspaces import WorkspaceInstall, uninstall_reason
from bot.ports import Clock

logger = logging.getLogger(__name__)
STATE_EXPIRY_S = 600
"""How long an install link's state is good for (Bolt's and Slack's examples: 10 minutes)."""
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
BOT_SCOPES = (
    "commands",
    "chat:write",
    "channels:history",
    "groups:history",
    "app_mentions:read",
    "users:read",
    "im:write",
    "reactions:read",
    "channels:read",
    "groups:read",
)
"""The bot scopes asked for at install: those of slack-manifest.yml (a test compares them)."""


class InstallRecords(Protocol):
    """What the OAuth flow keeps in the store (`storage.installations.InstallationsPart`)."""

    async def save_install(self, install: WorkspaceInstall) -> None:
        """Keep a workspace's install, replacing the one it had."""
        ...

    async def find_install(self, enterprise_id: str, team_id: str) -> WorkspaceInstall | None:
        """Return a workspace's install."""
        ...

    async def delete_install(self, enterprise_id: str, team_id: str) -> bool:
        """Forget a workspace's install."""
        ...

    async def revoke_install_token(self, enterprise_id: str, team_id: str) -> bool:
        """Drop a workspace's bot token."""
        ...

    async def issue_oauth_state(self, state: str, expires_at: datetime) -> None:
        """Keep a state until ``expires_at``."""
        ...

    async def consume_oauth_state(self, state: str, now: datetime) -> bool:
        """Use a state up; True when it was good."""
        ...


class TokenDirectory(Protocol):
    """Where a channel's or a subscriber's workspace and a workspace's token are found."""

    async def channel_workspace(self, platform: str, channel: str) -> str | None:
        """Return the workspace of a channel's subscription."""
        ...

    async def subscriber_workspace(self, platform: str, user: str) -> str | None:
        """Return the workspace where ``user`` subscribed a channel."""
        ...

    async def team_bot_token(self, team_id: str) -> str | None:
        """Return a workspace's own bot token."""
        ...


def _key(enterprise_id: str | None, team_id: str | None, org_wide: bool | None) -> tuple[str, str]:
    """Return the store's key of a workspace: an org-wide install has no team."""
    return enterprise_id or "", "" if org_wide else team_id or ""


def _installation_of(found: WorkspaceInstall) -> Installation:
    """Return Bolt's view of a stored install (its bot, through ``to_bot()``)."""
    return Installation(
        app_id=found.app_id,
        enterprise_id=found.enterprise_id or None,
        team_id=found.team_id or None,
        team_name=found.team_name,
        bot_token=found.bot_token,
        bot_id=found.bot_id,
        bot_user_id=found.bot_user_id,
        bot_scopes=found.bot_scopes,
        user_id=found.installer_user_id,
        is_enterprise_install=found.enterprise_install,
        installed_at=found.installed_at.timestamp(),
    )


def _scopes(scopes: Any) -> str:
    return ",".join(scopes) if isinstance(scopes, list | tuple) else str(scopes or "")


class StoreInstallationStore(AsyncInstallationStore):
    """Bolt's installation store over ours: one install (bot token) per workspace.

    Only bot tokens are asked for (no user scopes), so a workspace's installation is its
    bot. A failure to save becomes Bolt's "storage_error" page, not a traceback.
    """

    def __init__(self, records: InstallRecords, clock: Clock) -> None:
        self._records = records
        self._clock = clock

    @property
    def logger(self) -> logging.Logger:
        """The logger Bolt writes the store's troubles to."""
        return logger

    async def async_save(self, installation: Installation) -> None:
        """Keep the workspace's new install (Bolt calls this once Slack gave the token)."""
        enterprise, team = _key(
            installation.enterprise_id, installation.team_id, installation.is_enterprise_install
        )
        install = WorkspaceInstall(
            enterprise_id=enterprise,
            team_id=team,
            team_name=installation.team_name or installation.enterprise_name or "",
            app_id=installation.app_id or "",
            bot_token=installation.bot_token,
            bot_id=installation.bot_id or "",
            bot_user_id=installation.bot_user_id or "",
            bot_scopes=_scopes(installation.bot_scopes),
            installer_user_id=installation.user_id or "",
            enterprise_install=bool(installation.is_enterprise_install),
            installed_at=self._clock.now(),
        )
        try:
            await self._records.save_install(install)
        except Exception as exc:  # any database failure: Bolt shows its failure page
            logger.warning("could not save the install of %s: %s", team, exc.__class__.__name__)
            raise BoltError("the install could not be saved") from None
        logger.info("Slack workspace %s (%s) installed the app", team, install.team_name)

    async def async_save_bot(self, bot: Bot) -> None:
        """Keep a bot's new token (token rotation), on its workspace's install."""
        enterprise, team = _key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        found = await self._records.find_install(enterprise, team)
        if found is not None:
            await self._records.save_install(
                _replace_token(found, bot.bot_token, self._clock.now())
            )

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        """Return the workspace's bot (its token), or None when not installed there."""
        found = await self._records.find_install(
            *_key(enterprise_id, team_id, is_enterprise_install)
        )
        if found is None or found.bot_token is None:
            return None
        return _installation_of(found).to_bot()

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """Return the workspace's installation (the installer's, when ``user_id`` is given)."""
        found = await self._records.find_install(
            *_key(enterprise_id, team_id, is_enterprise_install)
        )
        if found is None or found.bot_token is None:
            return None
        if user_id is not None and user_id != found.installer_user_id:
            return None  # no user tokens are kept: only the installer has an installation
        return _installation_of(found)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Drop the workspace's bot token (revoked)."""
        await self._records.revoke_install_token(*_key(enterprise_id, team_id, False))

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """Forget the workspace's install."""
        await self._records.delete_install(*_key(enterprise_id, team_id, False))


def _replace_token(install: WorkspaceInstall, token: str, at: datetime) -> WorkspaceInstall:
    return WorkspaceInstall(
        install.enterprise_id,
        install.team_id,
        install.team_name,
        install.app_id,
        token,
        install.bot_id,
        install.bot_user_id,
        install.bot_scopes,
        install.installer_user_id,
        install.enterprise_install,
        at,
    )


class StoreStateStore(AsyncOAuthStateStore):
    """Bolt's state store over ours: a random state, good once, for ``expiry_s``."""

    def __init__(self, records: InstallRecords, clock: Clock, expiry_s: int = STATE_EXPIRY_S):
        self._records = records
        self._clock = clock
        self._expiry = timedelta(seconds=expiry_s)

    @property
    def logger(self) -> logging.Logger:
        """The logger Bolt writes the store's troubles to."""
        return logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        """Return a new state for an install link."""
        state = secrets.token_urlsafe(32)
        await self._records.issue_oauth_state(state, self._clock.now() + self._expiry)
        return state

    async def async_consume(self, state: str) -> bool:
        """Use ``state`` up: True once for a state issued less than ``expiry_s`` ago."""
        if not state or len(state) > 200:
            return False
        return await self._records.consume_oauth_state(state, self._clock.now())


_FAILURES = {
    "invalid_browser": "This install was started in another browser, or its cookie is gone.",
    "invalid_state": "This install link has expired (links are good for 10 minutes) or was "
    "already used.",
    "missing_code": "Slack did not send the install back with a code.",
    "invalid_code": "Slack did not accept the install's code (it was wrong, expired or "
    "already used).",
    "access_denied": "The install was cancelled.",
    "storage_error": "The install could not be saved here; please try again in a while.",
}


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        f"<title>{title}</title></head>"
        '<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto">'
        f"<h2>{title}</h2>{body}</body></html>"
    )


class PageCallbacks(AsyncCallbackOptions):
    """The pages an installer sees at the end: installed, or what went wrong and what next."""

    def __init__(self, install_path: str = INSTALL_PATH) -> None:
        self._install_path = install_path
        self._state = OAuthStateUtils(expiration_seconds=STATE_EXPIRY_S)
        super().__init__(success=self._success, failure=self._failure)

    async def _success(self, args: AsyncSuccessArgs) -> BoltResponse:
        team = html.escape(args.installation.team_name or args.installation.team_id or "")
        body = (
            f"<p>LLM News Digest is installed in <b>{team}</b>.</p>"
            "<p>In a channel: <code>/invite @LLM News Digest</code>, then "
            "<code>/digest-admin subscribe</code>.</p>"
        )
        return self._response(200, _page("Installed", body))

    async def _failure(self, args: AsyncFailureArgs) -> BoltResponse:
        reason = _FAILURES.get(args.reason, "The install did not complete.")
        logger.warning("a Slack install failed: %s", args.reason[:80])
        link = html.escape(self._install_path)
        body = f'<p>{html.escape(reason)}</p><p><a href="{link}">Start the install again</a>.</p>'
        return self._response(args.suggested_status_code, _page("Not installed", body))

    def _response(self, status: int, page: str) -> BoltResponse:
        return BoltResponse(
            status=status,
            body=page,
            headers={
                "Content-Type": "text/html; charset=utf-8",
                # The state was used up (or was bad): the browser forgets it either way.
                "Set-Cookie": [self._state.build_set_cookie_for_deletion()],
            },
        )


_TOKEN = re.compile(r"xox[a-z]-[A-Za-z0-9-]+")
SDK_LOGGERS = ("slack_sdk.web.async_base_client", "slack_bolt.AsyncApp", __name__)
"""Where slack_sdk and Bolt log requests and answers (at DEBUG: bodies, with the tokens)."""


class RedactSecrets(logging.Filter):
    """Masks Slack tokens (``xoxb-…``) and the given secrets in a log record's text.

    slack_sdk logs every answer's body at DEBUG, and ``oauth.v2.access`` answers with the
    workspace's new token.
    """

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record without secrets; never drop it."""
        text = record.getMessage()
        clean = _TOKEN.sub("xox*-(redacted)", text)
        for secret in self.secrets:
            clean = clean.replace(secret, "(redacted)")
        if clean != text:
            record.msg, record.args = clean, None
        return True


def redact_slack_logs(*secrets: str) -> None:
    """Keep tokens and ``secrets`` out of what slack_sdk and Bolt log (once per logger)."""
    wanted = tuple(s for s in secrets if s)
    for name in SDK_LOGGERS:
        target = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) and f.secrets == wanted for f in target.filters):
            target.addFilter(RedactSecrets(wanted))


def authorize_url(api_url: str) -> str:
    """Return Slack's authorize page next to its Web API (``https://slack.com/api/``)."""
    base = api_url.rstrip("/")
    base = base.removesuffix("/api")
    return f"{base}/oauth/v2/authorize"


def oauth_settings(
    client_id: str,
    client_secret: str,
    records: InstallRecords,
    clock: Clock,
    *,
    api_url: str,
    public_url: str | None = None,
) -> AsyncOAuthSettings:
    """Return Bolt's OAuth settings: our stores, our pages, the manifest's bot scopes.

    With ``public_url`` (DIGEST_PUBLIC_URL) the redirect URI is
    ``<public_url>/slack/oauth_redirect``, sent to Slack at both steps as it requires;
    without, Slack uses the app's one configured Redirect URL.
    """
    redirect = public_url.rstrip("/") + REDIRECT_PATH if public_url else None
    redact_slack_logs(client_secret)
    settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        redirect_uri=redirect,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        callback_options=PageCallbacks(),
        authorization_url=authorize_url(api_url),
        installation_store=StoreInstallationStore(records, clock),
        installation_store_bot_only=True,
        state_store=StoreStateStore(records, clock),
        state_expiration_seconds=STATE_EXPIRY_S,
        logger=logger,
    )
    return settings


WorkspaceGone = Callable[[str, str], Awaitable[object]]
"""Pauses a workspace's subscriptions: (team id, reason)."""


def add_uninstall_listeners(app: AsyncApp, records: InstallRecords, gone: WorkspaceGone) -> None:
    """On ``app_uninstalled`` and ``tokens_revoked`` (bot), pause and forget the workspace.

    Slack sends both when a workspace removes the app; whichever comes first does the work
    and the other finds nothing left to do.
    """

    async def uninstalled(event: dict[str, Any], context: AsyncBoltContext) -> None:
        if event.get("type") == "tokens_revoked" and not (event.get("tokens") or {}).get("bot"):
            return  # only user tokens were revoked: we keep none
        enterprise = context.enterprise_id or ""
        team = context.team_id or ""
        install = await records.find_install(enterprise, team)
        if install is None:
            return
        reason = uninstall_reason(str(event.get("type")), team, install.team_name)
        await gone(team, reason)
        await records.delete_install(enterprise, team)
        logger.warning("Slack workspace %s removed the app: %s", team, reason)

    app.event("app_uninstalled")(uninstalled)
    app.event("tokens_revoked")(uninstalled)


class WorkspaceTokens:
    """The token to post with in a channel or to a person: that workspace's own.

    Else the environment's (SLACK_BOT_TOKEN, the single-workspace set-up); None when there
    is neither.
    """

    def __init__(self, directory: TokenDirectory, default: str | None) -> None:
        self._directory = directory
        self._default = default
        self._seen: dict[str, str] = {}  # channel -> workspace, from requests (newest last)

    def remember(self, channel: str, team: str) -> None:
        """Note that a request from ``channel`` came from workspace ``team``.

        A channel with no subscription (``/digest-admin publish`` there) is then posted in
        with its workspace's token. The oldest are forgotten past `REMEMBERED_CHANNELS`.
        """
        self._seen.pop(channel, None)
        self._seen[channel] = team
        while len(self._seen) > REMEMBERED_CHANNELS:
            del self._seen[next(iter(self._seen))]

    async def _of_team(self, team: str | None) -> str | None:
        token = await self._directory.team_bot_token(team) if team else None
        return token or self._default

    async def for_channel(self, channel: str) -> str | None:
        """Return the token of the workspace whose subscription (or request) is ``channel``."""
        team = await self._directory.channel_workspace("slack", channel)
        return await self._of_team(team or self._seen.get(channel))

    async def for_user(self, user: str) -> str | None:
        """Return the token of the workspace where ``user`` subscribed a channel."""
        return await self._of_team(await self._directory.subscriber_workspace("slack", user))


REMEMBERED_CHANNELS = 10_000
"""How many channels `WorkspaceTokens` remembers the workspace of, from requests."""


def learn_channels(app: AsyncApp, tokens: WorkspaceTokens) -> None:
    """Let every request to ``app`` tell ``tokens`` which workspace its channel is in."""

    async def learn(context: AsyncBoltContext, next: Callable[[], Awaitable[None]]) -> None:
        if context.channel_id and context.team_id:
            tokens.remember(context.channel_id, context.team_id)
        await next()

    app.middleware(learn)
