"""Reactions become votes: on item replies only, one per reader, the latest one kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain import Platform, Reaction, Vote
from bot.feedback.reactions import ReactionOutcome, record_reaction
from storage.store import Store
from tests.builders import an_edition
from tests.fakes.clock import FakeClock

NOW = datetime(2026, 4, 14, 9, 0, tzinfo=UTC)
WHERE = "slack:C0DIGEST"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'feedback.db'}")
    try:
        edition = await an_edition(opened)
        for part in range(len(edition.entries) + 1):
            await opened.record_sent(WHERE, edition.id, part, f"ts{part}", "ts0", NOW)
        yield opened
    finally:
        await opened.aclose()


def reaction(
    message: str,
    user: str = "U1",
    vote: Vote = Vote.UP,
    *,
    added: bool = True,
    channel: str = "C0DIGEST",
    by_bot: bool = False,
) -> Reaction:
    return Reaction(Platform.SLACK, channel, message, user, vote, added, by_bot)


async def votes(store: Store) -> list[tuple[int, int]]:
    return sorted((await store.item_votes(NOW)).values())


async def test_a_thumbs_up_on_an_item_reply_is_one_vote_per_user(store: Store) -> None:
    clock = FakeClock(NOW)
    assert await record_reaction(reaction("ts1"), store, clock) is ReactionOutcome.VOTED
    assert await record_reaction(reaction("ts1"), store, clock) is ReactionOutcome.UNCHANGED
    assert await votes(store) == [(1, 0)]
    await record_reaction(reaction("ts1", "U2"), store, clock)
    assert await votes(store) == [(2, 0)]


async def test_a_later_reaction_replaces_and_removing_it_removes_the_vote(store: Store) -> None:
    clock = FakeClock(NOW)
    await record_reaction(reaction("ts2"), store, clock)
    await record_reaction(reaction("ts2", vote=Vote.DOWN), store, clock)
    assert await votes(store) == [(0, 1)]
    # Taking the 👍 away afterwards leaves the 👎 that replaced it.
    removed_up = reaction("ts2", added=False)
    assert await record_reaction(removed_up, store, clock) is ReactionOutcome.UNCHANGED
    assert await votes(store) == [(0, 1)]
    removed_down = reaction("ts2", vote=Vote.DOWN, added=False)
    assert await record_reaction(removed_down, store, clock) is ReactionOutcome.REMOVED
    assert await votes(store) == []


@pytest.mark.parametrize(
    "ignored",
    [
        reaction("ts0"),  # the parent
        reaction("ts99"),  # a message the bot never sent
        reaction("ts1", channel="C0ELSEWHERE"),  # the same ts in another channel
        reaction("ts1", by_bot=True),  # the bot itself
    ],
    ids=["parent", "foreign", "other-channel", "bot"],
)
async def test_reactions_off_our_item_replies_change_nothing(
    store: Store, ignored: Reaction
) -> None:
    assert await record_reaction(ignored, store, FakeClock(NOW)) is ReactionOutcome.IGNORED
    assert await votes(store) == []


async def test_an_earlier_message_of_a_split_reply_counts_only_when_it_may_be_ours(
    tmp_path: Path,
) -> None:
    # Discord: replies in thread 500, ids growing with time; the first item took messages
    # 510 and 511 (511 recorded), the second 520.
    opened = await Store.open(f"sqlite:///{tmp_path / 'split.db'}")
    clock = FakeClock(NOW)
    try:
        edition = await an_edition(opened)
        where = "discord:400"
        await opened.record_sent(where, edition.id, 0, "500", "500", NOW)
        await opened.record_sent(where, edition.id, 1, "511", "500", NOW)
        await opened.record_sent(where, edition.id, 2, "520", "500", NOW)

        def on(message: str, own: bool | None, channel: str = "500") -> Reaction:
            return Reaction(
                Platform.DISCORD, channel, message, "M1", Vote.UP, True,
                on_own_message=own, ordered_ids=True,
            )  # fmt: skip

        assert await record_reaction(on("510", own=True), opened, clock) is ReactionOutcome.VOTED
        first = edition.entries[0].item.content.canonical_id
        assert await opened.item_votes(NOW) == {first: (1, 0)}
        # A member's message between replies, a message after them, one in the channel.
        for message, own, channel in (("515", False, "500"), ("530", None, "500"),
                                      ("450", None, "400")):  # fmt: skip
            outcome = await record_reaction(on(message, own, channel), opened, clock)
            assert outcome is ReactionOutcome.IGNORED
        assert await opened.item_votes(NOW) == {first: (1, 0)}
    finally:
        await opened.aclose()
