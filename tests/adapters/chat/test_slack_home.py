"""The App Home tab through the fake Slack: app_home_opened in, views.publish validated out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.chat.slack_bot import SlackSocketBot, build_slack_app
from adapters.chat.slack_chat import web_client
from adapters.chat.slack_home import home_view
from bot.domain import Subscription
from storage.store import Store
from tests.builders import an_edition
from tests.fakes.clock import FakeClock
from tests.fakes.slack_manifest import SlackManifest
from tests.fakes.slack_server import APP_TOKEN, BOT_TOKEN, FakeSlack, view_problem

AT = datetime(2026, 4, 12, tzinfo=UTC)


async def opened_home(
    store: Store, manifest: SlackManifest | None = None
) -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(manifest=manifest) if manifest else FakeSlack()
    async with fake as slack:
        bot = SlackSocketBot(
            build_slack_app(web_client(BOT_TOKEN, slack.api_url), store, FakeClock()), APP_TOKEN
        )
        await bot.start()
        try:
            yield slack
        finally:
            await bot.aclose()


async def published(slack: FakeSlack, user: str) -> dict[str, Any]:
    """Wait for the view Bolt publishes after acknowledging the event."""
    for _ in range(200):
        if user in slack.home_views:
            return slack.home_views[user]
        await asyncio.sleep(0.01)
    raise AssertionError(f"no view published; calls: {[m for m, _ in slack.calls]}")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'home.db'}")
    try:
        yield opened
    finally:
        await opened.aclose()


async def test_the_home_tab_shows_the_edition_the_workspaces_subscriptions_and_usage(
    store: Store,
) -> None:
    edition = await an_edition(store)
    ours = Subscription("slack", "T0FAKE", "C0DIGEST", 4, "16:30", "UTC", None, topics=("agents",))
    theirs = Subscription("slack", "T0OTHER", "C0ELSEWHERE", 0, "09:00", "UTC", None)
    for subscription in (ours, theirs):
        await store.subscribe(subscription, "U0ADMIN", AT)
    async for slack in opened_home(store):
        assert await slack.open_home("U0ALICE")
        view = await published(slack, "U0ALICE")
    body = json.dumps(view, ensure_ascii=False)
    assert view["type"] == "home"
    for entry in edition.entries:
        assert f"|{entry.item.content.title}> · {entry.summary.difficulty.label}" in body
    assert "<#C0DIGEST>: every Friday 16:30 UTC, all levels, topics: agents" in body
    assert "C0ELSEWHERE" not in body  # another workspace's channel is not shown
    assert "/digest-admin subcommands" in body
    assert "/paper &lt;arXiv id" in body  # escaped, as every text


async def test_hostile_titles_cannot_ping_nor_break_the_view(store: Store) -> None:
    edition = await an_edition(store)
    first = edition.entries[0]
    title = "<!channel> & <@U0ALICE> " + "x" * 4000
    item = replace(first.item, content=replace(first.item.content, title=title))
    many = tuple(replace(first, item=item, position=n) for n in range(1, 200))
    view = home_view(replace(edition, entries=many, title="<!everyone> " * 40), [])
    body = json.dumps(view)
    assert "<!channel>" not in body
    assert "<!everyone>" not in body
    assert "<@U0ALICE>" not in body
    assert "&lt;!channel&gt; &amp; &lt;@U0ALICE&gt;" in body
    assert view_problem("U0ALICE", view) is None  # what Slack would accept
    links = [b["text"]["text"] for b in view["blocks"] if "|" in str(b.get("text"))]
    assert links
    assert all(text.count("<") == text.count(">") for text in links)  # no link cut in two


def test_the_fake_refuses_what_slack_refuses() -> None:
    hello = {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}
    ok: dict[str, Any] = {"type": "home", "blocks": [hello]}
    assert view_problem("U1", ok) is None
    assert view_problem("", ok) == "missing required field: user_id"
    assert view_problem("U1", {**ok, "type": "modal"}) == "view type must be home"
    assert "no more than 100" in str(view_problem("U1", {**ok, "blocks": [hello] * 101}))
    long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    assert "3000" in str(view_problem("U1", {**ok, "blocks": [long]}))
    header = {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}
    assert "150" in str(view_problem("U1", {**ok, "blocks": [header]}))


async def test_no_home_without_the_event_subscribed(store: Store) -> None:
    granted = SlackManifest.load()
    unsubscribed = replace(granted, bot_events=granted.bot_events - {"app_home_opened"})
    async for slack in opened_home(store, unsubscribed):
        assert not await slack.open_home("U0ALICE")
        await asyncio.sleep(0.2)
        assert slack.home_views == {}
        assert slack.undelivered == [
            ("app_home_opened", "app_home_opened is not in settings.event_subscriptions.bot_events")
        ]
