"""Slack: editions posted as a parent message and a threaded reply per item (Block Kit).

All text from feeds, papers and the LLM is escaped (``&``, ``<``, ``>``), ``link_names`` is
never set and text objects are ``verbatim``, so nothing we post can ping anyone. Sends are
paced to about one per second per channel; a 429 is waited out by slack_sdk's retry handler
(the message was not posted, so the retry cannot duplicate it). Every part carries its key in
message metadata, which `find_sent` reads back after a crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.deliver import DeliveryError
from bot.edition.render import DIGEST_NAME, Digest, DigestItem, split_text
from bot.ports import Clock

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
METADATA_EVENT = "llm_news_digest_part"
PERMANENT_ERRORS = frozenset(
    {"channel_not_found", "is_archived", "not_in_channel", "account_inactive", "invalid_auth",
     "not_authed", "missing_scope", "restricted_action", "token_revoked", "team_access_not_granted"}
)  # fmt: skip
EDIT_ERRORS = frozenset({"cant_update_message", "message_not_found", "edit_window_closed"})
"""chat.update's refusals that no retry can change (not the bot's message, gone, too old)."""
_BADGES = {"accessible": "🟢", "intermediate": "🟡", "advanced": "🔴"}


def escape(text: str) -> str:
    """Escape Slack's three control characters; ``<!channel>`` becomes harmless text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe_url(url: str) -> str | None:
    """Return an http(s) link usable inside ``<url|text>``, or ``None``."""
    try:
        scheme = urlsplit(url).scheme
    except ValueError:
        return None
    if scheme not in ("http", "https"):
        return None
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")


def _text(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _sections(text: str) -> list[dict[str, Any]]:
    return [{"type": "section", "text": _text(piece)} for piece in split_text(text, SECTION_LIMIT)]


def parent_blocks(digest: Digest) -> list[dict[str, Any]]:
    """Return the parent message: header, date and count, intro."""
    title = f"{DIGEST_NAME}: {digest.title}"
    header = title if len(title) <= HEADER_LIMIT else title[: HEADER_LIMIT - 1] + "…"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header}},
        {"type": "context", "elements": [_text(f"{digest.date_label} · {digest.count_label}")]},
    ]
    blocks += _sections(escape(digest.intro))
    web = safe_url(digest.web_url or "")
    if web:  # our own archive's page (DIGEST_PUBLIC_URL): base URL + escaped path
        blocks.append({"type": "context", "elements": [_text(f"<{web}|Read on the web>")]})
    return blocks


def item_blocks(item: DigestItem) -> list[dict[str, Any]]:
    """Return one item: linked title and level, authors, summary, takeaways, source line."""
    url = safe_url(item.url)
    title = escape(item.title)
    linked = f"*<{url}|{title}>*" if url else f"*{title}*"
    badge = _BADGES[item.difficulty.value]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": _text(f"{linked}\n{badge} {item.difficulty.label}")}
    ]
    if item.authors:
        blocks.append({"type": "context", "elements": [_text(escape(", ".join(item.authors)))]})
    blocks += _sections(escape(item.summary))
    if item.note:
        blocks += _sections(f"_{escape(item.note)}_")
    takeaways = "\n".join(f"• {escape(t)}" for t in item.takeaways)
    blocks += _sections(f"*Takeaways*\n{takeaways}")
    source = escape(item.source_line)
    web = safe_url(item.web_url or "")
    if web:
        source += f" · <{web}|On the web>"
    blocks.append({"type": "context", "elements": [_text(source)]})
    if item.updated_line:
        # Readers who saw the first version can tell that it changed, and when.
        return [*blocks[:49], {"type": "context", "elements": [_text(item.updated_line)]}]
    return blocks[:50]


def fallback_text(blocks: Sequence[dict[str, Any]]) -> str:
    """Return the notification text of a message: its blocks' text, joined."""
    parts = []
    for block in blocks:
        if "text" in block:
            parts.append(str(block["text"]["text"]))
        for element in block.get("elements", ()):
            parts.append(str(element.get("text", "")))
    return "\n".join(parts)[:3000]


RECENT_MESSAGES = 100
"""How far back in a channel a parent whose record was lost is looked for."""


def _failure(exc: SlackApiError) -> DeliveryError:
    """Map a Web API error to a delivery error, permanent for the errors retrying cannot fix."""
    error = str(exc.response.get("error", "unknown_error"))
    return DeliveryError(f"Slack: {error}", permanent=error in PERMANENT_ERRORS | EDIT_ERRORS)


def _metadata(key: str) -> dict[str, Any]:
    """Return the message metadata that carries a part's key (read back by `find_sent`)."""
    return {"event_type": METADATA_EVENT, "event_payload": {"key": key}}


TRANSPORT_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)
"""How an unreachable Slack fails in slack_sdk's aiohttp client: passing, so retried."""


def _unreachable(exc: BaseException) -> DeliveryError:
    text = " ".join(str(exc).split())[:200]
    return DeliveryError(f"Slack unreachable: {exc.__class__.__name__}: {text}", permanent=False)


RATE_LIMIT_RETRIES = 10
"""429s waited out per call (each Retry-After plus up to 1 s): a post answered 429 at random
30% of the time met 6 in a row once in about 1,400 posts, and 5 retries failed the channel's
delivery there (``bench/fanout_cli.py``)."""


def web_client(token: str | None, api_url: str) -> AsyncWebClient:
    """Return a Web API client on ``api_url`` (SLACK_API_URL) that waits out 429s.

    Without a token (many workspaces), each call names the token of its workspace.
    """
    client = AsyncWebClient(token=token, base_url=api_url)
    client.retry_handlers.append(
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)
    )
    return client


class TokenSource(Protocol):
    """Which token posts in a channel or to a person, when workspaces have their own."""

    async def for_channel(self, channel: str) -> str | None:
        """Return the token for ``channel``'s workspace, or None when there is none."""
        ...

    async def for_user(self, user: str) -> str | None:
        """Return the token for ``user``'s workspace, or None when there is none."""
        ...


NOT_INSTALLED = "Slack: the app is not installed in this channel's workspace (Add to Slack)"


class SlackChat:
    """Posts editions to Slack channels (implements `ChatAdapter`).

    With ``tokens`` ("Add to Slack" in many workspaces) every call carries the token of the
    channel's (or person's) workspace; without, the client's one token.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        clock: Clock,
        *,
        min_interval_s: float = 1.0,
        tokens: TokenSource | None = None,
    ) -> None:
        self._client = client
        self._clock = clock
        self._min_interval_s = min_interval_s
        self._last_send: dict[str, datetime] = {}
        self._tokens = tokens

    async def _auth(self, channel: str = "", user: str = "") -> dict[str, Any]:
        """Return the token argument of a call in ``channel`` (or to ``user``), if any."""
        if self._tokens is None:
            return {}
        token = await (self._tokens.for_user(user) if user else self._tokens.for_channel(channel))
        if token is None:
            raise DeliveryError(NOT_INSTALLED, permanent=True)
        return {"token": token}

    async def _pace(self, channel: str) -> None:
        last = self._last_send.get(channel)
        if last is not None:
            wait = self._min_interval_s - (self._clock.now() - last).total_seconds()
            if wait > 0:
                await self._clock.sleep(wait)
        self._last_send[channel] = self._clock.now()

    async def _post(
        self,
        channel: str,
        blocks: list[dict[str, Any]],
        key: str | None,
        thread: str | None,
        auth: dict[str, Any] | None = None,
    ) -> str:
        """Post ``blocks``, with ``key`` in the message metadata when given; return the ts.

        ``auth``: the token argument when already known (a DM is no subscribed channel).
        """
        metadata = _metadata(key) if key else None
        auth = auth if auth is not None else await self._auth(channel)
        await self._pace(channel)
        try:
            response = await self._client.chat_postMessage(
                **auth,
                channel=channel,
                text=fallback_text(blocks),
                blocks=blocks,
                thread_ts=thread,
                unfurl_links=False,
                unfurl_media=False,
                metadata=metadata,
            )
        except SlackApiError as exc:
            raise _failure(exc) from None
        except TRANSPORT_ERRORS as exc:
            raise _unreachable(exc) from None
        finally:
            # Pace from the answer, not the request: two posts then reach Slack at least the
            # interval apart, however long the first one queued on its way.
            self._last_send[channel] = self._clock.now()
        return str(response["ts"])

    async def send_parent(self, channel: str, digest: Digest, key: str) -> str:
        """Post the edition's parent message; return its ts."""
        return await self._post(channel, parent_blocks(digest), key, None)

    async def send_item(self, channel: str, thread: str, item: DigestItem, key: str) -> str:
        """Post one item in the edition's thread; return its ts."""
        return await self._post(channel, item_blocks(item), key, thread)

    async def edit_item(
        self, channel: str, thread: str, message_id: str, item: DigestItem, key: str
    ) -> None:
        """Replace the item reply ``message_id`` by ``item`` in place (``chat.update``).

        The key stays in the metadata, so the reply is still found by it. Slack refuses a
        message the bot did not post (``cant_update_message``) or one that is gone
        (``message_not_found``): both are permanent.
        """
        blocks = item_blocks(item)
        auth = await self._auth(channel)
        await self._pace(channel)
        try:
            await self._client.chat_update(
                **auth,
                channel=channel,
                ts=message_id,
                text=fallback_text(blocks),
                blocks=blocks,
                metadata=_metadata(key),
            )
        except SlackApiError as exc:
            raise _failure(exc) from None
        finally:
            self._last_send[channel] = self._clock.now()

    async def find_sent(self, channel: str, thread: str | None, key: str) -> str | None:
        """Look for a message carrying ``key``: in the thread, or for a parent in the channel.

        A parent is looked for among the channel's latest messages: delivery asks right after
        the send it may have lost, so the parent is recent.
        """
        auth = await self._auth(channel)
        try:
            if thread is None:
                response = await self._client.conversations_history(
                    **auth, channel=channel, include_all_metadata=True, limit=RECENT_MESSAGES
                )
            else:
                response = await self._client.conversations_replies(
                    **auth, channel=channel, ts=thread, include_all_metadata=True, limit=200
                )
        except SlackApiError as exc:
            raise _failure(exc) from None
        except TRANSPORT_ERRORS as exc:
            raise _unreachable(exc) from None
        messages: list[dict[str, Any]] = response.get("messages") or []
        for message in messages:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("key") == key:
                return str(message["ts"])
        return None

    async def send_direct(self, user: str, text: str) -> None:
        """Send ``text`` to ``user`` in the app's direct message (implements `NoticeSender`).

        ``conversations.open`` (scope ``im:write``) returns the DM channel; then it is a post.
        """
        auth = await self._auth(user=user)
        try:
            opened = await self._client.conversations_open(**auth, users=user)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown_error"))
            raise DeliveryError(f"Slack: {error}", permanent=True) from None
        except TRANSPORT_ERRORS as exc:
            raise _unreachable(exc) from None
        channel = str(opened["channel"]["id"])
        await self._post(channel, _sections(escape(text)), None, None, auth)

    async def send_notice(self, channel: str, text: str) -> None:
        """Post ``text``, escaped (it may quote a platform's error), in ``channel``."""
        await self._post(channel, _sections(escape(text)), None, None)
