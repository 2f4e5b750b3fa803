"""Slack's App Home tab: the latest edition, this workspace's subscriptions, how to use it.

Slack sends ``app_home_opened`` when someone opens the app's Home tab (the manifest enables
the tab and subscribes the event); the answer is ``views.publish`` of a ``home`` view for that
user. Every text from the edition is escaped (``& < >``) and verbatim, so no title can ping
anyone, and the view stays within Slack's limits (100 blocks, 3,000 characters a section,
150 a header) whatever the edition holds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.chat.slack_chat import HEADER_LIMIT, SECTION_LIMIT, escape, safe_url
from bot.commands.admin import ADMIN_USAGE
from bot.commands.digest import DIGEST_USAGE
from bot.delivery.subscriptions import describe
from bot.domain import Edition, Subscription
from bot.edition.render import DIGEST_NAME, long_date

logger = logging.getLogger(__name__)
MAX_BLOCKS = 100
MAX_ITEMS = 30
MAX_SUBSCRIPTIONS = 20
MAX_TITLE = 200


class HomeStore(Protocol):
    """What the Home tab reads."""

    async def edition(self) -> Edition | None:
        """Return the latest edition."""
        ...

    async def subscriptions(self, platform: str | None = None) -> list[Subscription]:
        """List subscriptions (of one platform)."""
        ...


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str) -> dict[str, Any]:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": _clip(text, SECTION_LIMIT), "verbatim": True},
    }


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": _clip(text, HEADER_LIMIT)}}


def _edition_blocks(edition: Edition | None) -> list[dict[str, Any]]:
    if edition is None:
        return [_section("No edition yet: the first one is composed on Monday.")]
    count = len(edition.entries)
    blocks = [
        _section(
            f"*{escape(edition.title)}*\n{long_date(edition.date)} · "
            f"{count} item{'s' if count != 1 else ''}"
        )
    ]
    lines = []
    for entry in edition.entries[:MAX_ITEMS]:
        content = entry.item.content
        url = safe_url(content.url)
        # Clipped before escaping: a section cut mid-link would show the link's markup.
        title = escape(_clip(" ".join(content.title.split()), MAX_TITLE))
        linked = f"<{url}|{title}>" if url else title
        lines.append(f"{entry.position}. {linked} · {entry.summary.difficulty.label}")
    # One section per few items: each stays far below 3,000 characters whatever the titles.
    for start in range(0, len(lines), 5):
        blocks.append(_section("\n".join(lines[start : start + 5])))
    return blocks


def _subscription_blocks(subscriptions: Sequence[Subscription]) -> list[dict[str, Any]]:
    if not subscriptions:
        return [_section("No channel here gets the digest yet: `/digest-admin subscribe`.")]
    lines = []
    for s in subscriptions[:MAX_SUBSCRIPTIONS]:
        state = "" if s.active else f" (paused: {escape(s.paused_reason[:100])})"
        # <#C…> names a channel; it notifies no one.
        lines.append(f"• <#{s.channel}>: {escape(describe(s))}{state}")
    if len(subscriptions) > MAX_SUBSCRIPTIONS:
        lines.append(f"… and {len(subscriptions) - MAX_SUBSCRIPTIONS} more")
    return [_section("\n".join(lines))]


def home_view(edition: Edition | None, subscriptions: Sequence[Subscription]) -> dict[str, Any]:
    """Return the Home tab: latest edition, the workspace's subscriptions, the commands."""
    blocks: list[dict[str, Any]] = [_header(f"{DIGEST_NAME}: the latest edition")]
    blocks += _edition_blocks(edition)
    blocks += [{"type": "divider"}, _header("Subscriptions in this workspace")]
    blocks += _subscription_blocks(subscriptions)
    blocks += [{"type": "divider"}, _header("How to use it")]
    blocks += [_section(escape(DIGEST_USAGE)), _section(escape(ADMIN_USAGE))]
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS]}


async def publish_home(client: AsyncWebClient, store: HomeStore, user: str, workspace: str) -> None:
    """Publish ``user``'s Home tab; a refusal is logged (the tab keeps its last view)."""
    edition = await store.edition()
    subscriptions = [s for s in await store.subscriptions("slack") if s.workspace == workspace]
    try:
        await client.views_publish(user_id=user, view=home_view(edition, subscriptions))
    except SlackApiError as exc:
        logger.warning("views.publish for %s failed: %s", user, exc.response.get("error"))


def add_home_listener(app: AsyncApp, store: HomeStore) -> None:
    """Answer ``app_home_opened`` on the Home tab with `home_view`."""

    @app.event("app_home_opened")
    async def home_opened(
        event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        if event.get("tab") != "home":
            return  # the Messages tab opened: nothing to draw
        user = str(event.get("user") or "")
        await publish_home(client, store, user, str(context.team_id or ""))
