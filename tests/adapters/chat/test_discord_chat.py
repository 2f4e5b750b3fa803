"""Discord editions through the real discord.py client against a fake Discord on 127.0.0.1."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import aiohttp
import discord
import pytest

from adapters.chat.discord_chat import (
    DiscordChat,
    authors_line,
    item_embeds,
    nonce_for,
    pack,
    rest_client,
)
from adapters.chat.discord_pace import RequestPacer, paced_trace
from bot.clock import SystemClock
from bot.delivery.deliver import DeliveryError, Destination, deliver, part_key
from bot.delivery.notices import Noticeboard
from bot.domain import Difficulty, Platform
from bot.edition.render import DigestItem, to_digest
from storage.store import Store
from tests.builders import an_edition, paused
from tests.fakes.chat import CrashBeforeRecording
from tests.fakes.clock import FakeClock
from tests.fakes.discord_server import (
    ADMIN_ID,
    BOT_ID,
    BOT_TOKEN,
    CREATE_PUBLIC_THREADS,
    FORUM_CHANNEL,
    GUILD_ID,
    TEXT_CHANNEL,
    FakeDiscord,
)

CLOCK = FakeClock(datetime(2026, 4, 13, 7, tzinfo=UTC))
TO = Destination(Platform.DISCORD, TEXT_CHANNEL)
GONE = "1400000000000000099"  # a deleted channel whose subscription was paused


@pytest.fixture
async def chat(fake: FakeDiscord) -> AsyncIterator[DiscordChat]:
    async with rest_client(BOT_TOKEN) as client:
        yield DiscordChat(client, CLOCK)


async def test_an_edition_is_a_parent_and_a_thread_with_one_embed_per_item(
    store: Store, fake: FakeDiscord, chat: DiscordChat
) -> None:
    edition = await an_edition(store)
    report = await deliver(edition, TO, chat, store, CLOCK)

    assert report.complete
    assert report.sent == len(edition.entries) + 1
    (parent,) = fake.posts(TEXT_CHANNEL)
    assert parent["content"] == f"**LLM News Digest: {edition.title}**"
    assert parent["embeds"][0]["description"].startswith("*April 13, 2026 · 4 papers*")
    (thread,) = fake.threads_of(TEXT_CHANNEL)
    assert thread["id"] == parent["id"]
    assert thread["name"].startswith("LLM News Digest · April 13, 2026")
    replies = fake.posts(thread["id"])
    assert len(replies) == len(edition.entries)
    for reply, entry in zip(replies, edition.entries, strict=True):
        (embed,) = reply["embeds"]
        assert embed["title"] == discord.utils.escape_markdown(entry.item.content.title)
        assert embed["url"] == entry.item.content.url
        assert embed["description"].startswith(f"**{entry.summary.difficulty.label}**")
        takeaways = embed["fields"][0]
        assert takeaways["name"] == "Takeaways"
        assert takeaways["value"].count("• ") == 3
        assert (
            embed["footer"]["text"]
            == f"LLM News Digest · edition {edition.id} · item {entry.position}"
        )
        assert reply["allowed_mentions"] == {"parse": []}
        assert len(reply["nonce"]) <= 25
    nonces = [r["nonce"] for r in replies]
    assert len(set(nonces)) == len(nonces)


async def test_a_forum_gets_one_post_per_edition(
    store: Store, fake: FakeDiscord, chat: DiscordChat
) -> None:
    edition = await an_edition(store)
    report = await deliver(
        edition, Destination(Platform.DISCORD, FORUM_CHANNEL), chat, store, CLOCK
    )

    assert report.complete
    (post,) = fake.threads_of(FORUM_CHANNEL)
    messages = fake.posts(post["id"])
    assert messages[0]["content"] == f"**LLM News Digest: {edition.title}**"
    assert len(messages) == 1 + len(edition.entries)
    again = await deliver(edition, Destination(Platform.DISCORD, FORUM_CHANNEL), chat, store, CLOCK)
    assert again.sent == 0
    assert len(fake.threads_of(FORUM_CHANNEL)) == 1


async def test_nothing_we_post_can_ping_anyone(
    store: Store, fake: FakeDiscord, chat: DiscordChat
) -> None:
    edition = await an_edition(store)
    entry = edition.entries[0]
    hostile = replace(
        entry.summary,
        why="@everyone look! <@123456789012345678> and <@&987654321098765432> **bold** [x](y) .",
    )
    content = replace(entry.item.content, title="@here **Attention** ||spoiler||")
    edition = replace(
        edition,
        title="@everyone wins",
        entries=(replace(entry, summary=hostile, item=replace(entry.item, content=content)),),
    )
    await deliver(edition, TO, chat, store, CLOCK)

    every_body = [body for method, _, body in fake.sends() if method == "POST"]
    text = json.dumps(every_body, ensure_ascii=False)
    assert not re.search(r"@(everyone|here)|<@[!&]?[0-9]", text)
    assert all(body["allowed_mentions"] == {"parse": []} for body in every_body)
    (thread,) = fake.threads_of(TEXT_CHANNEL)
    (embed,) = fake.posts(thread["id"])[0]["embeds"]
    assert "\\*\\*bold\\*\\*" in embed["description"]


async def test_rate_limits_are_waited_out_without_duplicates(
    store: Store, fake: FakeDiscord, chat: DiscordChat
) -> None:
    edition = await an_edition(store)
    fake.rate_limit_share = 0.3
    report = await deliver(edition, TO, chat, store, CLOCK)

    assert report.complete
    (thread,) = fake.threads_of(TEXT_CHANNEL)
    assert len(fake.posts(thread["id"])) == len(edition.entries)
    assert len(fake.posts(TEXT_CHANNEL)) == 1


async def test_a_missing_permission_is_named_and_nothing_is_sent(
    store: Store, fake: FakeDiscord, chat: DiscordChat
) -> None:
    fake.add_channel("1400000000000000077", "locked", deny_bot=CREATE_PUBLIC_THREADS)
    edition = await an_edition(store)
    report = await deliver(
        edition, Destination(Platform.DISCORD, "1400000000000000077"), chat, store, CLOCK
    )

    assert report.error is not None
    assert report.error.permanent
    assert "lacks the Create Public Threads permission in #locked" in report.error.reason
    assert fake.sends() == []


async def test_a_deleted_channel_fails_once_and_is_not_asked_again(
    store: Store, fake: FakeDiscord, chat: DiscordChat
) -> None:
    edition = await an_edition(store)
    first = await deliver(edition, TO, chat, store, CLOCK)
    assert first.complete
    fake.delete_channel(TEXT_CHANNEL)
    calls = len(fake.calls)
    later = replace(edition, id=edition.id)  # the same edition, resumed: nothing left to send
    assert (await deliver(later, TO, chat, store, CLOCK)).complete

    gone = Destination(Platform.DISCORD, "1400000000000000099")
    report = await deliver(edition, gone, chat, store, CLOCK)
    assert report.error is not None
    assert report.error.permanent
    assert "was not found" in report.error.reason
    invalid = fake.invalid_requests
    again = await deliver(edition, gone, chat, store, CLOCK)
    assert again.error is not None
    assert fake.invalid_requests == invalid
    assert len(fake.calls) == calls + 1


async def test_a_lost_record_is_recovered_from_the_thread(
    store: Store, fake: FakeDiscord, chat: DiscordChat
) -> None:
    edition = await an_edition(store)
    crashed = await deliver(edition, TO, chat, CrashBeforeRecording(store, part=3), CLOCK)
    assert crashed.error is not None

    resumed = await deliver(edition, TO, chat, store, CLOCK)
    assert resumed.complete
    assert resumed.recovered == 1
    (thread,) = fake.threads_of(TEXT_CHANNEL)
    footers = [m["embeds"][-1]["footer"]["text"] for m in fake.posts(thread["id"])]
    assert len(footers) == len(set(footers)) == len(edition.entries)


async def test_a_lost_parent_record_reuses_the_parent_and_its_thread(
    store: Store, fake: FakeDiscord, chat: DiscordChat
) -> None:
    edition = await an_edition(store)
    crashed = await deliver(edition, TO, chat, CrashBeforeRecording(store, part=0), CLOCK)
    assert crashed.error is not None

    resumed = await deliver(edition, TO, chat, store, CLOCK)
    assert resumed.complete
    assert resumed.recovered == 1
    assert len(fake.posts(TEXT_CHANNEL)) == 1
    (thread,) = fake.threads_of(TEXT_CHANNEL)
    assert len(fake.posts(thread["id"])) == len(edition.entries)


async def test_a_retried_send_lands_once_thanks_to_its_nonce(
    fake: FakeDiscord, chat: DiscordChat, store: Store
) -> None:
    edition = await an_edition(store)
    item = DigestItem(
        1,
        "T",
        "https://example.org/",
        Difficulty.ACCESSIBLE,
        (),
        "S.",
        ("a", "b", "c"),
        "x",
        None,
        None,
    )
    parent = await chat.send_parent(TEXT_CHANNEL, to_digest(edition), part_key(edition.id, 0))
    key = part_key(edition.id, 1)
    first = await chat.send_item(TEXT_CHANNEL, parent, item, key)
    second = await chat.send_item(TEXT_CHANNEL, parent, item, key)  # as after a lost response
    assert first == second
    assert len(fake.posts(parent)) == 1
    assert fake.posts(parent)[0]["nonce"] == nonce_for(TEXT_CHANNEL, key)


def a_long_item(**changes: object) -> DigestItem:
    item = DigestItem(
        position=2,
        title="A " * 200 + "very long title",
        url="https://example.org/" + "p" * 100,
        difficulty=Difficulty.ADVANCED,
        authors=tuple(f"Author Number{n}" for n in range(400)),
        summary=" ".join(f"Sentence number {n} says something long enough." for n in range(300)),
        takeaways=("First " * 100, "Second " * 100, "Third " * 100),
        source="arXiv",
        arxiv_id="2604.31415",
        citations=3,
    )
    return replace(item, **changes)  # type: ignore[arg-type]


def test_long_items_are_split_within_discord_limits_never_mid_word() -> None:
    item = a_long_item()
    embeds = item_embeds(item, "LLM News Digest · edition 1 · item 2")
    messages = pack(embeds)
    assert len(messages) >= 2
    for message in messages:
        assert len(message) <= 10
        assert sum(len(e) for e in message) <= 6000
    for embed in embeds:
        assert len(embed.title or "") <= 256
        assert len(embed.description or "") <= 4096
        for field in embed.fields:
            assert len(field.value or "") <= 1024
    text = " ".join(e.description or "" for e in embeds)
    assert "Sentence number 299 says something long enough." in text
    assert all(
        piece.endswith(".") or piece.endswith("*")
        for piece in (e.description or "." for e in embeds)
    )
    assert embeds[0].title is not None
    assert embeds[0].title.endswith("A…")
    assert embeds[-1].footer.text == "LLM News Digest · edition 1 · item 2"


def test_many_authors_are_shortened() -> None:
    line = authors_line([f"Author {n}" for n in range(500)])
    assert len(line) <= 300
    assert line.endswith("others")
    assert authors_line(["A", "B"]) == "A, B"


async def test_a_wrong_token_is_refused_at_login(fake: FakeDiscord) -> None:
    with pytest.raises(DeliveryError, match="Discord refused DISCORD_BOT_TOKEN"):
        async with rest_client("wrong"):
            pass
    assert BOT_ID  # the fake's bot exists; only the token was wrong


async def test_deliveries_share_a_pace_that_keeps_under_the_global_limit(
    store: Store, fake: FakeDiscord
) -> None:
    edition = await an_edition(store)
    channels = [f"14000000000000003{n:02d}" for n in range(4)]
    for channel in channels:
        fake.add_channel(channel, f"c{channel[-2:]}")
    fake.global_limit_per_s = 8
    clock = SystemClock()

    async def two_at_once(chat: DiscordChat, pair: list[str]) -> None:
        reports = await asyncio.gather(
            *(deliver(edition, Destination(Platform.DISCORD, c), chat, store, clock) for c in pair)
        )
        assert all(report.complete for report in reports)

    async with rest_client(BOT_TOKEN) as client:
        # Unpaced, two deliveries (12 requests) burst past 8 per second: Discord says 429.
        await two_at_once(DiscordChat(client, clock), channels[:2])
        assert fake.invalid_requests > 0
    await asyncio.sleep(1.0)
    fake.invalid_requests = 0
    async with rest_client(BOT_TOKEN, RequestPacer(clock, 7)) as client:
        # Paced together at 7 per second, the same work (and the login) draws not one 429.
        await two_at_once(DiscordChat(client, clock), channels[2:])
    assert fake.invalid_requests == 0


async def test_deliveries_starting_together_read_the_server_once(
    store: Store, fake: FakeDiscord
) -> None:
    edition = await an_edition(store)
    channels = [f"14000000000000004{n:02d}" for n in range(3)]
    for channel in channels:
        fake.add_channel(channel, f"c{channel[-2:]}")
    clock = SystemClock()
    async with rest_client(BOT_TOKEN) as client:
        chat = DiscordChat(client, clock)
        reports = await asyncio.gather(
            *(deliver(edition, Destination(Platform.DISCORD, c), chat, store, clock)
              for c in channels)
        )  # fmt: skip
    assert all(report.complete for report in reports)
    reads = [path for method, path, _ in fake.calls if method == "GET"]
    assert reads.count(f"/guilds/{GUILD_ID}") == 1  # not once per delivery
    assert reads.count(f"/guilds/{GUILD_ID}/members/{BOT_ID}") == 1


async def test_requests_discord_py_makes_on_its_own_are_paced_too(fake: FakeDiscord) -> None:
    # The pace is the client's, not the adapter's: discord.py's own requests (its reads, its
    # retries after a 429) wait for their turn as well.
    fake.global_limit_per_s = 8
    async with rest_client(BOT_TOKEN, RequestPacer(SystemClock(), 7)) as client:
        await asyncio.sleep(1.0)  # the login's requests leave the window
        reads = [client.fetch_channel(int(TEXT_CHANNEL)) for _ in range(12)]
        found = await asyncio.gather(*reads)
    assert {channel.id for channel in found} == {int(TEXT_CHANNEL)}
    assert fake.invalid_requests == 0


async def test_interaction_answers_and_the_gateway_do_not_wait_for_the_pace(
    fake: FakeDiscord,
) -> None:
    clock = FakeClock(datetime(2026, 4, 13, 7, tzinfo=UTC))
    trace = paced_trace(RequestPacer(clock, 1))  # one request a second, on a fake clock
    base = fake.api_url
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        start = clock.now()
        for path in ("/interactions/1/tok/callback", "/webhooks/1/tok/messages/@original"):
            for _ in range(3):
                async with session.post(base + path, json={"type": 1}):
                    pass
        assert clock.now() == start  # due within 3 s: never queued behind deliveries
        for _ in range(3):
            async with session.get(base + "/users/@me"):
                pass
        assert (clock.now() - start).total_seconds() == pytest.approx(2.0)  # 1 s apart


class LateClock(FakeClock):
    """A fake clock whose sleeps end late, as on a busy event loop."""

    def __init__(self, lateness_s: float) -> None:
        super().__init__()
        self.lateness_s = lateness_s

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` and then the lateness on top."""
        await super().sleep(seconds + self.lateness_s)


async def send_times(pacer: RequestPacer, clock: FakeClock, count: int) -> list[float]:
    """Pass ``count`` requests through the pacer; return when each went, in seconds."""
    start = clock.now()
    times = []
    for _ in range(count):
        await pacer.wait()
        times.append((clock.now() - start).total_seconds())
    return times


def most_in_one_second(times: list[float]) -> int:
    """Return the largest number of requests within any one second."""
    return max(sum(1 for t in times if first <= t < first + 1.0) for first in times)


async def test_the_pace_holds_when_every_wake_up_is_late() -> None:
    # A loop that wakes every sleeper 2 ms late would turn 48 per second into 44 if each
    # gap were measured from the late send; the schedule absorbs it.
    clock = LateClock(lateness_s=0.002)
    times = await send_times(RequestPacer(clock, 48), clock, 481)
    # 480 gaps of 1/48 s, and at most a wake-up's lateness a second on top.
    assert times[-1] == pytest.approx(10.0, abs=0.03)
    assert most_in_one_second(times) <= 48


class JitteryClock(FakeClock):
    """A fake clock whose sleeps end up to ``most_s`` late, at random (seeded)."""

    def __init__(self, most_s: float) -> None:
        super().__init__()
        self.most_s = most_s
        self.rng = random.Random(3)

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` and a random lateness on top."""
        await super().sleep(seconds + self.rng.uniform(0, self.most_s))


async def test_catching_up_never_puts_more_than_the_rate_into_one_second() -> None:
    # Wake-ups late by up to 15 ms at random: slots alone let 49 requests into a second
    # when one caught up; Discord counts 50, and a request that arrives late by a little
    # then lands in a full second.
    clock = JitteryClock(most_s=0.015)
    times = await send_times(RequestPacer(clock, 48), clock, 3000)
    assert most_in_one_second(times) <= 48
    assert len(times) / times[-1] > 47  # the pace barely slows


async def test_requests_held_up_by_a_stall_do_not_leave_in_a_burst() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock, 48)
    before = await send_times(pacer, clock, 24)
    clock.advance(seconds=0.4)  # the loop stalled for 0.4 s
    after = await send_times(pacer, clock, 48)
    gaps = [b - a for a, b in itertools.pairwise(after)]
    assert min(gaps) == pytest.approx(1 / 48, abs=1e-5)  # no catching up on the 19 slots missed
    offset = before[-1] + 0.4
    assert most_in_one_second(before + [offset + t for t in after]) <= 48


async def test_requests_waiting_together_take_one_slot_each() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock, 10)
    start = clock.now()
    went: list[float] = []

    async def one() -> None:
        await pacer.wait()
        went.append((clock.now() - start).total_seconds())

    await asyncio.gather(*(one() for _ in range(5)))
    assert went == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])


async def test_a_pause_is_told_by_dm_to_its_subscriber_and_in_the_admin_channel(
    fake: FakeDiscord, chat: DiscordChat
) -> None:
    board = Noticeboard({"discord": chat}, {"discord": TEXT_CHANNEL})
    reason = "Discord: channel 1400000000000000099 was not found: Unknown Channel @everyone"
    told = await board.subscription_paused(paused("discord", GONE, ADMIN_ID, reason))

    assert told == [f"user:{ADMIN_ID}", f"channel:{TEXT_CHANNEL}"]
    (dm,) = fake.direct_messages(ADMIN_ID)
    (notice,) = fake.posts(TEXT_CHANNEL)
    for message in (dm, notice):
        assert "discord:1400000000000000099" in message["content"]
        assert "Unknown Channel @\u200beveryone" in message["content"]  # no ping
        assert message["allowed_mentions"] == {"parse": []}
        assert "\\`/digest-admin resume\\`" in message["content"]  # Markdown escaped


async def test_a_member_who_closed_dms_is_reported_and_the_channel_still_told(
    fake: FakeDiscord, chat: DiscordChat, caplog: pytest.LogCaptureFixture
) -> None:
    fake.dms_closed.add(ADMIN_ID)
    with pytest.raises(DeliveryError, match="Cannot send messages to this user"):
        await chat.send_direct(ADMIN_ID, "hello")
    with pytest.raises(DeliveryError, match="was not found"):
        await chat.send_notice("1400000000000000077", "hello")

    board = Noticeboard({"discord": chat}, {"discord": TEXT_CHANNEL})
    reason = "Discord: HTTP 403: Missing Access"
    told = await board.subscription_paused(paused("discord", GONE, ADMIN_ID, reason))
    assert told == [f"channel:{TEXT_CHANNEL}"]
    assert fake.direct_messages(ADMIN_ID) == []
    assert "Cannot send messages to this user" in caplog.text
