"""The store's feedback: one vote per item, destination and user; reacted messages found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import Edition, ReactedPart, Vote
from storage.store import Store
from tests.builders import an_edition
from tests.storage.conftest import DATABASES

pytestmark = pytest.mark.parametrize("database_url", DATABASES, indirect=True)
T0 = datetime(2026, 4, 13, 15, 0, tzinfo=UTC)
SLACK = "slack:C0DIGEST"
DISCORD = "discord:1400"


async def delivered(store: Store) -> tuple[Edition, str, str]:
    """An edition sent to one Slack and one Discord channel; the first item's canonical id."""
    edition = await an_edition(store)
    for part in range(len(edition.entries) + 1):
        await store.record_sent(SLACK, edition.id, part, f"1776.00000{part}", "1776.000000", T0)
        # Discord: the parent starts the thread (same id); replies live in that thread.
        await store.record_sent(DISCORD, edition.id, part, f"90{part}", "900", T0)
    first = edition.entries[0].item.content.canonical_id
    second = edition.entries[1].item.content.canonical_id
    return edition, first, second


async def test_a_reacted_message_is_mapped_to_its_part_and_item(store: Store) -> None:
    edition, first, _ = await delivered(store)
    assert await store.reacted_part("slack", "C0DIGEST", "1776.000001") == ReactedPart(
        SLACK, edition.id, 1, first
    )
    assert await store.reacted_part("discord", "900", "901") == ReactedPart(
        DISCORD, edition.id, 1, first
    )
    parent = await store.reacted_part("slack", "C0DIGEST", "1776.000000")
    assert parent == ReactedPart(SLACK, edition.id, 0, None)
    # The Discord parent lives in the channel itself (its id is also the thread's).
    assert await store.reacted_part("discord", "1400", "900") == ReactedPart(
        DISCORD, edition.id, 0, None
    )


async def test_a_foreign_message_or_another_channel_is_not_ours(store: Store) -> None:
    await delivered(store)
    assert await store.reacted_part("slack", "C0DIGEST", "1776.999999") is None
    # Slack ts values are unique per channel only: the same ts elsewhere is someone else's.
    assert await store.reacted_part("slack", "C0OTHER", "1776.000001") is None
    assert await store.reacted_part("discord", "C0DIGEST", "1776.000001") is None
    assert await store.reacted_part("slack", "900", "901") is None


async def test_one_vote_per_user_the_latest_wins_and_removal_needs_the_same_vote(
    store: Store,
) -> None:
    _, first, second = await delivered(store)
    assert await store.set_vote(SLACK, first, "U1", Vote.UP, T0)
    assert not await store.set_vote(SLACK, first, "U1", Vote.UP, T0)  # once per user
    assert await store.set_vote(SLACK, first, "U2", Vote.UP, T0)
    assert await store.set_vote(DISCORD, first, "U1", Vote.DOWN, T0)  # another channel
    assert await store.item_votes(T0) == {first: (2, 1)}

    assert await store.set_vote(SLACK, first, "U2", Vote.DOWN, T0)  # replaces the 👍
    assert await store.item_votes(T0) == {first: (1, 2)}
    assert not await store.remove_vote(SLACK, first, "U2", Vote.UP)  # no longer the vote
    assert await store.item_votes(T0) == {first: (1, 2)}
    assert await store.remove_vote(SLACK, first, "U2", Vote.DOWN)
    assert await store.item_votes(T0) == {first: (1, 1)}

    await store.set_vote(SLACK, second, "U3", Vote.UP, T0)
    assert await store.item_votes(T0) == {first: (1, 1), second: (1, 0)}


async def test_totals_count_the_votes_cast_since_a_moment(store: Store) -> None:
    _, first, second = await delivered(store)
    await store.set_vote(SLACK, first, "U1", Vote.UP, T0 - timedelta(days=8))
    await store.set_vote(SLACK, second, "U1", Vote.UP, T0)
    assert await store.item_votes(T0 - timedelta(days=7)) == {second: (1, 0)}
    # Changing an old vote makes it recent.
    await store.set_vote(SLACK, first, "U1", Vote.DOWN, T0)
    assert await store.item_votes(T0 - timedelta(days=7)) == {first: (0, 1), second: (1, 0)}


async def test_a_vote_on_an_unknown_item_is_not_kept(store: Store) -> None:
    await delivered(store)
    assert not await store.set_vote(SLACK, "arxiv:0000.00000", "U1", Vote.UP, T0)
    assert await store.item_votes(T0) == {}
