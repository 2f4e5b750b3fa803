"""Slack commands: a Bolt AsyncApp built from settings, answering /digest and /paper.

The app is made by a factory (Bolt calls ``auth.test`` when it first needs to, so nothing is
reached at import time). Each command is parsed and answered by the platform-free
bot.commands.digest and acknowledged with the answer: answers come from the store in milliseconds,
well inside Slack's 3-second deadline. Socket Mode runs on the aiohttp handler, started
without blocking and closed cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.chat.slack_chat import escape, item_blocks, safe_url
from adapters.chat.slack_home import add_home_listener
from adapters.chat.slack_reactions import add_reaction_listeners
from adapters.health import RequestErrorLog
from bot.commands.admin import AdminContext, answer_admin
from bot.commands.digest import answer
from bot.commands.ports import AdminStore, CommandStore
from bot.commands.reply import Command, Reply, error
from bot.edition.render import DigestItem
from bot.feedback.ports import FeedbackStore
from bot.ports import Clock, CredentialRefusedError
from bot.web.links import Links, with_item_links

logger = logging.getLogger(__name__)
MAX_LISTED = 20
REFUSED_TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
    }
)
"""Slack's answers to a token it will never accept: retrying cannot help."""
CONNECT_TIMEOUT_S = 30.0
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def _line(item: DigestItem) -> str:
    url = safe_url(item.url)
    title = escape(item.title)
    linked = f"<{url}|{title}>" if url else title
    why = escape(item.summary.split(". ")[0].rstrip(".") + ".")
    web = safe_url(item.web_url or "")
    page = f" · <{web}|On the web>" if web else ""
    return f"• *{linked}* · {item.difficulty.label}{page}\n{why}"


def reply_message(reply: Reply) -> dict[str, Any]:
    """Return a reply as an ephemeral Slack message (text fallback plus blocks)."""
    headline = escape(reply.text)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": headline, "verbatim": True}}
    ]
    if reply.full_cards:
        for item in reply.items[:3]:
            blocks += item_blocks(item)
    else:
        for item in reply.items[:MAX_LISTED]:
            text = _line(item)[:3000]
            blocks.append(
                {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}
            )
    return {"text": headline, "blocks": blocks[:50], "response_type": "ephemeral"}


PaperFetcher = Callable[[str], Awaitable[Reply]]
"""Fetches and summarizes an unknown arXiv paper, answering with its card."""
ChannelPublisher = Callable[[str], Awaitable[Reply]]
"""Posts the latest edition to a channel now and says how it went."""
ItemRewriter = Callable[[str, str, str], Awaitable[Reply]]
"""Rewrites a featured item's summary, (item, note, who), and says what it edited."""


INVITE = "/invite @LLM News Digest"


async def channel_problem(client: AsyncWebClient, channel: str) -> str | None:
    """Tell why the bot could not post in ``channel`` (one line), or None if it is a member.

    ``conversations.info`` says ``is_member``; a private channel the bot is not in is
    ``channel_not_found`` to it. When Slack cannot tell (unreachable, rate limited) the
    subscription goes ahead: a delivery that fails later pauses it with the reason.
    """
    try:
        found = await client.conversations_info(channel=channel)
    except SlackApiError as exc:
        code = str(exc.response.get("error") or "")
        if code == "channel_not_found":
            return f"I cannot see this channel: invite me with {INVITE}, then subscribe again."
        if code == "missing_scope":
            return (
                "the app lacks the channels:read / groups:read scopes: reinstall it from "
                "slack-manifest.yml, then subscribe again."
            )
        logger.warning("conversations.info for %s failed (%s); subscribing anyway", channel, code)
        return None
    except (OSError, TimeoutError) as exc:
        logger.warning("conversations.info for %s failed (%s); subscribing anyway", channel, exc)
        return None
    if not (found.get("channel") or {}).get("is_member"):
        return f"I am not in this channel yet: {INVITE}, then run /digest-admin subscribe again."
    return None


class SlackStore(CommandStore, AdminStore, FeedbackStore, Protocol):
    """What the Slack app reads and writes (votes from reactions included)."""


def build_slack_app(
    client: AsyncWebClient,
    store: SlackStore,
    clock: Clock,
    *,
    fetch_paper: PaperFetcher | None = None,
    publish_to: ChannelPublisher | None = None,
    rewrite: ItemRewriter | None = None,
    admin_user_ids: tuple[str, ...] = (),
    default_tz: str = "UTC",
    signing_secret: str | None = None,
    links: Links | None = None,
    oauth: AsyncOAuthSettings | None = None,
) -> AsyncApp:
    """Return the Bolt app answering the commands of DESIGN.md §6 from ``store``.

    Reactions on an edition's item replies are kept as votes (`add_reaction_listeners`).
    An unknown arXiv id is acknowledged at once ("Fetching…") and answered through the
    command's response_url once fetched and summarized. With a signing secret (HTTP mode)
    every request's signature is verified; Socket Mode needs none. With ``links``
    (DIGEST_PUBLIC_URL), every item an answer lists links its archive page. With ``oauth``
    ("Add to Slack", `adapters.chat.slack_oauth`) each request is answered with the token of
    its workspace (listeners use the request's ``client``, never ``client`` itself).
    """
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        request_verification_enabled=signing_secret is not None,
        oauth_settings=oauth,
    )

    async def handle(
        name: str, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond
    ) -> None:
        reply = await answer(
            Command(
                name,
                str(command.get("text") or ""),
                str(command.get("user_id") or ""),
                str(command.get("channel_id") or ""),
            ),
            store,
        )
        reply = with_item_links(reply, links) if links else reply
        if reply.fetch_arxiv_id is None:
            await ack(**reply_message(reply))
            return
        if fetch_paper is None:
            await ack(
                **reply_message(error(f"arXiv:{reply.fetch_arxiv_id} is not in the digest yet"))
            )
            return
        # Acknowledge within Slack's 3 s, then answer through the response_url.
        await ack(**reply_message(reply))
        await respond(
            **reply_message(await fetch_paper(reply.fetch_arxiv_id)), replace_original=False
        )

    @app.command("/digest")
    async def digest(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await handle("digest", ack, command, respond)

    @app.command("/paper")
    async def paper(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await handle("paper", ack, command, respond)

    @app.event("app_mention")
    async def mention(event: dict[str, Any], client: AsyncWebClient) -> None:
        # Slack runs no slash command inside a thread: "@bot paper 2604.31415" does instead,
        # answered in the same thread (visible to the thread, never pinging anyone).
        words = _MENTION.sub("", str(event.get("text") or "")).split(maxsplit=1)
        name = words[0].lower().lstrip("/") if words else ""
        if name not in ("paper", "digest"):
            reply = error("ask me “paper <arXiv id, link or words>” or “digest [difficulty:…]”")
        else:
            channel = str(event.get("channel") or "")
            command = Command(
                name, words[1] if len(words) > 1 else "", str(event.get("user") or ""), channel
            )
            reply = await answer(command, store)
            reply = with_item_links(reply, links) if links else reply
            if reply.fetch_arxiv_id is not None and fetch_paper is not None:
                reply = await fetch_paper(reply.fetch_arxiv_id)
        message = reply_message(reply)
        await client.chat_postMessage(
            channel=str(event.get("channel") or ""),
            thread_ts=str(event.get("thread_ts") or event.get("ts") or ""),
            text=message["text"],
            blocks=message["blocks"],
            unfurl_links=False,
            unfurl_media=False,
        )

    async def is_admin(client: AsyncWebClient, user_id: str) -> bool:
        if user_id in admin_user_ids:
            return True
        try:
            found = await client.users_info(user=user_id)
        except SlackApiError:
            return False  # when unsure, refuse: admin commands change what is posted
        user = found.get("user") or {}
        return bool(user.get("is_admin") or user.get("is_owner"))

    @app.command("/digest-admin")
    async def digest_admin(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        channel = str(command.get("channel_id") or "")
        user = str(command.get("user_id") or "")
        admin = await is_admin(client, user)
        context = AdminContext("slack", str(command.get("team_id") or ""), channel, user, admin)

        async def publish_here() -> Reply:
            assert publish_to is not None
            return await publish_to(channel)

        async def check_channel() -> str | None:
            return await channel_problem(client, channel)

        reply = await answer_admin(
            str(command.get("text") or ""),
            context,
            store,
            clock,
            default_tz=default_tz,
            publish_here=publish_here if publish_to is not None else None,
            rewrite=rewrite,
            check_channel=check_channel,
        )
        await ack(**reply_message(reply))
        if reply.deferred is not None:
            await respond(**reply_message(await reply.deferred()), replace_original=False)

    add_reaction_listeners(app, store, clock)
    add_home_listener(app, store)
    return app


async def check_token(call: Callable[[], Awaitable[object]], variable: str) -> None:
    """Run a Web API ``call``; raise `CredentialRefusedError` naming ``variable`` if refused.

    Any other failure (unreachable, rate limited, Slack's own error) propagates as is: the
    caller retries those.
    """
    try:
        await call()
    except SlackApiError as exc:
        code = str(exc.response.get("error") or "")
        if code in REFUSED_TOKEN_ERRORS:
            raise CredentialRefusedError(
                f"Slack refused {variable} ({code}); check the token"
            ) from None
        raise


class SlackSocketBot:
    """The Bolt app on Socket Mode: ``await start()`` returns once connected; ``aclose()``."""

    def __init__(self, app: AsyncApp, app_token: str) -> None:
        self._app = app
        self._app_token = app_token
        self._handler = AsyncSocketModeHandler(app, app_token)
        self._started = False

    def connected(self) -> bool:
        """Tell whether the Socket Mode websocket is open now.

        slack_sdk reconnects by itself (Slack asks apps to, every few hours); between a drop
        and the new connection this says False, and /healthz with it.
        """
        client = self._handler.client
        session = getattr(client, "current_session", None)
        return (
            self._started
            and not getattr(client, "closed", True)
            and session is not None
            and not session.closed
        )

    async def start(self) -> None:
        """Check both tokens, then connect without blocking the event loop.

        Both tokens are checked first because slack_sdk's own connect loop retries a refused
        token forever, a traceback each time. Raises `CredentialRefusedError` for a refused
        token; anything else (Slack unreachable) leaves the bot ready to ``start`` again.
        """
        await check_token(self._app.client.auth_test, "SLACK_BOT_TOKEN")
        socket = self._handler.client

        async def open_connection() -> None:
            answer = await socket.web_client.apps_connections_open(app_token=self._app_token)
            socket.wss_uri = str(answer["url"])

        await check_token(open_connection, "SLACK_APP_TOKEN")
        self._started = True
        try:
            # slack_sdk retries a failed websocket forever: bound it so that we retry instead.
            await asyncio.wait_for(
                self._handler.connect_async(),  # type: ignore[no-untyped-call]
                timeout=CONNECT_TIMEOUT_S,
            )
        except BaseException:
            self._started = False
            raise

    async def aclose(self) -> None:
        """Disconnect and close the socket."""
        await self._handler.close_async()  # type: ignore[no-untyped-call]


@web.middleware
async def _timestamp_is_a_number(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Refuse a Slack request whose timestamp is not a number, as unsigned (401).

    slack_sdk's signature check calls ``int()`` on the header: anything else raised, and
    answered 500 with a traceback in the log, to anyone able to reach the port.
    """
    if request.path == SlackHttpBot.PATH:
        stamp = request.headers.get("X-Slack-Request-Timestamp", "")
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
            return web.Response(status=401, text="invalid request")
    return await handler(request)


class SlackHttpBot:
    """The Bolt app in HTTP mode: signed requests to ``POST /slack/events`` on host:port.

    Port 0 takes any free port; `port` tells which one after `start`.
    """

    PATH = "/slack/events"

    def __init__(
        self,
        app: AsyncApp,
        host: str,
        port: int,
        *,
        extra_routes: Callable[[web.Application], None] | None = None,
    ) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._extra_routes = extra_routes
        self._verified = False
        self.port = port

    def connected(self) -> bool:
        """Tell whether listening with a bot token Slack accepted."""
        return self._runner is not None and self._verified

    async def start(self) -> None:
        """Listen without blocking the event loop (with ``extra_routes`` on the same port).

        Then checks SLACK_BOT_TOKEN with ``auth.test`` (not with Add to Slack, where each
        workspace brings its own token): `CredentialRefusedError` if refused;
        if Slack is unreachable the error propagates and the server keeps listening (health
        is served on it), ready for ``start`` again.
        """
        if self._runner is None:
            await self._listen()
        if self._app.oauth_flow is None:  # with Add to Slack, each workspace brings its token
            await check_token(self._app.client.auth_test, "SLACK_BOT_TOKEN")
        self._verified = True

    async def _listen(self) -> None:
        web_app = self._app.web_app(path=self.PATH)
        web_app.middlewares.append(_timestamp_is_a_number)
        if self._extra_routes is not None:
            self._extra_routes(web_app)
        self._runner = web.AppRunner(web_app, access_log=None, logger=RequestErrorLog())
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        logger.info("Slack HTTP mode listening on http://%s:%d%s", self._host, self.port, self.PATH)
        if self._app.oauth_flow is not None:
            install = self._app.oauth_flow.install_path
            logger.info("Add to Slack at http://%s:%d%s", self._host, self.port, install)

    async def aclose(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
