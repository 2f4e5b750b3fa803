"""Slack reactions as feedback: the real Bolt app, events from the fake Slack, the real store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.chat.slack_bot import SlackHttpBot, SlackSocketBot, build_slack_app
from adapters.chat.slack_chat import SlackChat, web_client
from adapters.chat.slack_reactions import reaction_of, vote_of
from bot.delivery.deliver import Destination, deliver
from bot.domain import Edition, Platform, Reaction, Vote
from tests.adapters.chat.reacting import EPOCH, WatchedStore, until, votes_become
from tests.builders import an_edition
from tests.fakes.clock import FakeClock
from tests.fakes.slack_server import APP_TOKEN, BOT_TOKEN, FakeSlack


@dataclass
class Posted:
    slack: FakeSlack
    store: WatchedStore
    edition: Edition
    parent: str
    replies: list[str]

    @property
    def first(self) -> str:
        """The canonical id of the edition's first item."""
        return self.edition.entries[0].item.content.canonical_id


async def post_edition(slack: FakeSlack, store: WatchedStore) -> Posted:
    edition = await an_edition(store)
    client = web_client(BOT_TOKEN, slack.api_url)
    report = await deliver(
        edition, Destination(Platform.SLACK, "C0DIGEST"), SlackChat(client, FakeClock()), store,
        FakeClock(),
    )  # fmt: skip
    assert report.complete
    parent, *replies = (m["ts"] for m in slack.messages["C0DIGEST"])
    return Posted(slack, store, edition, parent, replies)


@pytest.fixture
async def posted(tmp_path: Path) -> AsyncIterator[Posted]:
    store = await WatchedStore.open(f"sqlite:///{tmp_path / 'votes.db'}")
    async with FakeSlack() as slack:
        app = build_slack_app(web_client(BOT_TOKEN, slack.api_url), store, FakeClock())
        bot = SlackSocketBot(app, APP_TOKEN)
        await bot.start()
        try:
            yield await post_edition(slack, store)
        finally:
            await bot.aclose()
            await store.aclose()


async def test_a_thumbs_up_on_an_item_reply_is_stored_once_per_user(posted: Posted) -> None:
    slack, reply = posted.slack, posted.replies[0]
    assert await slack.react("+1", ts=reply, user="U0ALICE")
    await votes_become(posted.store, {posted.first: (1, 0)})
    # The same reader's second 👍 (an alias, as Slack lets one add both) is still one vote.
    assert await slack.react("thumbsup", ts=reply, user="U0ALICE")
    await until(lambda: posted.store.looked_up == 2)
    await votes_become(posted.store, {posted.first: (1, 0)})
    assert await slack.react("+1::skin-tone-3", ts=reply, user="U0MEMBER")
    await votes_become(posted.store, {posted.first: (2, 0)})


async def test_removing_removes_and_a_thumbs_down_replaces_a_thumbs_up(posted: Posted) -> None:
    slack, reply = posted.slack, posted.replies[0]
    await slack.react("+1", ts=reply, user="U0ALICE")
    await votes_become(posted.store, {posted.first: (1, 0)})
    await slack.react("-1", ts=reply, user="U0ALICE")
    await votes_become(posted.store, {posted.first: (0, 1)})
    await slack.react("-1", ts=reply, user="U0ALICE", added=False)
    await votes_become(posted.store, {})
    await slack.react("thumbsdown", ts=posted.replies[1], user="U0MEMBER")
    second = posted.edition.entries[1].item.content.canonical_id
    await votes_become(posted.store, {second: (0, 1)})


async def test_reactions_off_our_item_replies_change_nothing(posted: Posted) -> None:
    slack, store = posted.slack, posted.store
    foreign = slack.add_message("C0DIGEST", "great list", thread_ts=posted.parent)
    assert await slack.react("+1", ts=posted.parent)  # the parent
    assert await slack.react("+1", ts=foreign)  # a reader's own message in the thread
    assert await slack.react("tada", ts=posted.replies[0])  # not a vote: dropped by the adapter
    assert await slack.react("+1", ts=posted.replies[0], user="U0BOT")  # the bot itself
    await until(lambda: store.looked_up >= 2)
    await asyncio.sleep(0.2)  # time for a wrongly accepted reaction to arrive too
    assert store.looked_up == 2
    assert await store.item_votes(EPOCH) == {}


async def test_http_mode_takes_signed_reaction_events_and_refuses_forged_ones(
    tmp_path: Path,
) -> None:
    store = await WatchedStore.open(f"sqlite:///{tmp_path / 'http.db'}")
    async with FakeSlack(signing_secret="s3cret") as slack:
        app = build_slack_app(
            web_client(BOT_TOKEN, slack.api_url), store, FakeClock(), signing_secret="s3cret"
        )
        bot = SlackHttpBot(app, "127.0.0.1", 0)
        await bot.start()
        try:
            posted = await post_edition(slack, store)
            slack.events_url = f"http://127.0.0.1:{bot.port}/slack/events"
            assert await slack.react("+1", ts=posted.replies[0])
            await votes_become(store, {posted.first: (1, 0)})
            slack.signing_secret = "not-the-secret"
            await slack.react("-1", ts=posted.replies[0])
            await asyncio.sleep(0.2)
            assert await store.item_votes(EPOCH) == {posted.first: (1, 0)}
        finally:
            await bot.aclose()
            await store.aclose()
    assert slack.event_statuses == [200, 401]


@pytest.mark.parametrize(
    ("name", "vote"),
    [("+1", Vote.UP), ("thumbsup", Vote.UP), ("+1::skin-tone-6", Vote.UP),
     ("-1", Vote.DOWN), ("thumbsdown::skin-tone-2", Vote.DOWN), ("heart", None),
     ("+1_tone", None), ("", None)],
)  # fmt: skip
def test_only_thumbs_up_and_down_are_votes(name: str, vote: Vote | None) -> None:
    assert vote_of(name) == vote


def test_a_reaction_event_is_translated_to_a_neutral_reaction() -> None:
    event = {
        "type": "reaction_removed",
        "user": "U0BOT",
        "reaction": "-1",
        "item": {"type": "message", "channel": "C1", "ts": "1.000002"},
    }
    assert reaction_of(event, "U0BOT") == Reaction(
        Platform.SLACK, "C1", "1.000002", "U0BOT", Vote.DOWN, added=False, by_bot=True
    )
    file_reaction = dict(event, item={"type": "file", "file": "F1"})
    assert reaction_of(file_reaction, "U0BOT") is None
