"""Delivery: a parent and a reply per item, every send recorded, resumed without duplicates.

The adapter is the console one writing to memory; failures are injected by wrapping our own
ports (a send that fails, a crash between a send and its record).
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.chat.console_chat import ConsoleChat
from bot.delivery.deliver import Destination, deliver, part_key
from storage.store import Store
from tests.builders import an_edition
from tests.fakes.chat import CrashBeforeRecording, FailingAfter
from tests.fakes.clock import FakeClock

CLOCK = FakeClock(datetime(2026, 4, 13, 6, tzinfo=UTC))
TO = Destination.parse("slack:C0DIGEST")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'deliver.db'}")
    try:
        yield opened
    finally:
        await opened.aclose()


class CountingLookups(ConsoleChat):
    """Counts how often delivery asks the platform for a message it may have sent."""

    def __init__(self, stream: io.StringIO) -> None:
        super().__init__(stream)
        self.lookups = 0

    async def find_sent(self, channel: str, thread: str | None, key: str) -> str | None:
        self.lookups += 1
        return await super().find_sent(channel, thread, key)


def test_destinations_are_parsed_with_a_clear_error() -> None:
    assert str(Destination.parse("SLACK:C0123")) == "slack:C0123"
    assert Destination.parse("discord:123456789012345678").platform == "discord"
    for bad in ("teams:C1", "slack:", "slack:C1 <!channel>", "C0123"):
        with pytest.raises(ValueError, match="use slack:CHANNEL_ID or discord:CHANNEL_ID"):
            Destination.parse(bad)


async def test_an_edition_is_a_parent_and_one_reply_per_item_in_order(store: Store) -> None:
    edition = await an_edition(store)
    out = io.StringIO()
    report = await deliver(edition, TO, ConsoleChat(out), store, CLOCK)
    assert (report.sent, report.already, report.complete) == (5, 0, True)
    text = out.getvalue()
    assert text.startswith("LLM News Digest\n\n")
    positions = [text.index(entry.item.content.title + "\n") for entry in edition.entries]
    assert positions == sorted(positions)
    parts = await store.sent_parts(str(TO), edition.id)
    assert sorted(parts) == [0, 1, 2, 3, 4]
    assert {thread for _, thread in parts.values()} == {parts[0][0]}


async def test_a_rerun_sends_nothing_twice(store: Store) -> None:
    edition = await an_edition(store)
    out = io.StringIO()
    chat = ConsoleChat(out)
    await deliver(edition, TO, chat, store, CLOCK)
    before = out.getvalue()
    again = await deliver(edition, TO, chat, store, CLOCK)
    assert (again.sent, again.already) == (0, 5)
    assert out.getvalue() == before


async def test_a_failed_send_stops_and_the_next_run_resumes_the_same_thread(store: Store) -> None:
    edition = await an_edition(store)
    out = io.StringIO()
    first = await deliver(edition, TO, FailingAfter(out, limit=2), store, CLOCK)
    assert not first.complete
    assert first.error is not None
    assert first.error.reason == "channel_not_found"
    assert first.sent == 2
    thread = (await store.sent_parts(str(TO), edition.id))[0][0]

    second = await deliver(edition, TO, ConsoleChat(out), store, CLOCK)
    assert (second.sent, second.already, second.complete) == (3, 2, True)
    parts = await store.sent_parts(str(TO), edition.id)
    assert {t for _, t in parts.values()} == {thread}
    assert out.getvalue().count("\nTakeaways\n") == 4


async def test_a_send_whose_record_was_lost_is_found_not_repeated(store: Store) -> None:
    edition = await an_edition(store)
    out = io.StringIO()
    chat = ConsoleChat(out)
    crashed = await deliver(edition, TO, chat, CrashBeforeRecording(store, part=2), CLOCK)
    assert not crashed.complete
    assert await chat.find_sent(TO.channel, None, part_key(edition.id, 2)) is not None

    resumed = await deliver(edition, TO, chat, store, CLOCK)
    assert resumed.complete
    assert (resumed.recovered, resumed.sent) == (1, 2)
    assert out.getvalue().count("\nTakeaways\n") == 4  # part 2 appears once


async def test_a_lost_parent_record_is_found_and_the_thread_reused(store: Store) -> None:
    edition = await an_edition(store)
    out = io.StringIO()
    chat = ConsoleChat(out)
    crashed = await deliver(edition, TO, chat, CrashBeforeRecording(store, part=0), CLOCK)
    assert not crashed.complete
    assert await store.sent_parts(str(TO), edition.id) == {}

    resumed = await deliver(edition, TO, chat, store, CLOCK)
    assert (resumed.recovered, resumed.sent, resumed.complete) == (1, 4, True)
    assert out.getvalue().count("LLM News Digest\n") == 1  # one parent, not two


async def test_only_a_resumed_delivery_asks_the_platform_and_only_once(store: Store) -> None:
    edition = await an_edition(store)
    out = io.StringIO()
    first = CountingLookups(out)
    await deliver(edition, TO, first, store, CLOCK)
    assert first.lookups == 0  # a delivery that never began cannot have left anything

    other = Destination.parse("slack:C0OTHER")
    await deliver(edition, other, FailingAfter(out, limit=2), store, CLOCK)
    resumed = CountingLookups(out)
    report = await deliver(edition, other, resumed, store, CLOCK)
    assert report.complete
    assert resumed.lookups == 1  # only the first part this run sends can be there already
