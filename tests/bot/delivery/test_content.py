"""Per-channel content: which of an edition's items a subscription with topics gets.

The filter itself (`select_items`) on a real composed edition, then whole deliveries through
the outbox worker to the fake Slack and the fake Discord: only the matching items are posted,
the parent says how many of the edition's items the channel gets, a channel nothing matches
still gets a parent saying so, and a resumed delivery keeps the filter its job was planned
with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.chat.discord_chat import DiscordChat, rest_client
from adapters.chat.slack_chat import SlackChat, web_client
from bot.config import ScheduleSettings
from bot.delivery.content import ContentFilter, parse_keywords, select_items
from bot.delivery.deliver import part_key
from bot.delivery.ports import ChatAdapter
from bot.delivery.worker import DeliveryWorker
from bot.domain import Edition, EditionEntry, JobState
from bot.edition.profile import load_profile
from bot.edition.render import to_digest
from storage.store import Store
from tests.builders import an_edition, discord_at_fake
from tests.fakes.clock import FakeClock
from tests.fakes.discord_server import BOT_TOKEN as DISCORD_TOKEN
from tests.fakes.discord_server import TEXT_CHANNEL, FakeDiscord
from tests.fakes.slack_server import BOT_TOKEN, FakeSlack

PROFILE = load_profile()
NOW = datetime(2026, 4, 13, 9, 5, tzinfo=UTC)


def about(entry: EditionEntry, title: str, text: str) -> EditionEntry:
    """Return ``entry`` rewritten to be about something else (title, source text, summary)."""
    item = entry.item
    content = replace(item.content, title=title, summary=text)
    summary = replace(entry.summary, why=text, takeaways=(text, text, text))
    return replace(entry, item=replace(item, content=content), summary=summary)


async def varied_edition(store: Store) -> Edition:
    """The builders' edition, its last two items made about serving and about charts."""
    edition = await an_edition(store)
    first, second, third, fourth = edition.entries
    return replace(
        edition,
        entries=(
            first,  # Ledgerline: agents and evaluation
            second,  # prompt injection in coding agents: security
            about(third, "Cheaper serving", "Quantization halves latency on one GPU."),
            about(fourth, "Reading charts", "A vision-language model reads bar charts."),
        ),
    )


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """A fake Discord that discord.py is pointed at (restored after the test)."""
    async with discord_at_fake(monkeypatch) as server:
        yield server


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'content.db'}")
    try:
        yield opened
    finally:
        await opened.aclose()


async def test_topics_choose_items_exclude_wins_and_the_count_is_said(store: Store) -> None:
    edition = await varied_edition(store)
    wanted = ContentFilter(topics=("security", "inference"))
    chosen = select_items(edition, wanted, PROFILE)
    assert [e.position for e in chosen.edition.entries] == [1, 2, 3]
    assert chosen.label == "3 of 4 items, topics: security, inference"

    no_agents = replace(wanted, exclude=("agents",))
    chosen = select_items(edition, no_agents, PROFILE)
    assert [e.position for e in chosen.edition.entries] == [3]  # exclude wins over topics
    assert chosen.label == "1 of 4 items, topics: security, inference, not: agents"
    # Plain keywords match whole words (a plural too); profile topics match their terms.
    assert [e.position for e in select_items(edition, ContentFilter(topics=("chart",)), PROFILE)
            .edition.entries] == [4]  # fmt: skip
    only_vision_out = select_items(edition, ContentFilter(exclude=("multimodal",)), PROFILE)
    assert [e.position for e in only_vision_out.edition.entries] == [1, 2, 3]


async def test_nothing_matching_is_said_and_no_filter_changes_nothing(store: Store) -> None:
    edition = await varied_edition(store)
    none = select_items(edition, ContentFilter(topics=("robotics",)), PROFILE)
    assert none.edition.entries == ()
    assert none.label == "none of this edition's 4 items matches this channel's topics: robotics"
    everything = select_items(edition, ContentFilter(), PROFILE)
    assert everything.edition == edition
    assert everything.label == ""


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("Agents, security ,agents", ("agents", "security")),
        ("tool_use;c++", ("tool use", "c++")),
        ("", ()),
        ("<!channel>", "“<!channel>” is not a topic"),
        ("@everyone", "“@everyone” is not a topic"),
        (",".join(f"k{n}" for n in range(11)), "at most 10 topics, not 11"),
    ],
)
def test_keywords_are_checked(text: str, parsed: tuple[str, ...] | str) -> None:
    got = parse_keywords(text)
    if isinstance(parsed, str):
        assert isinstance(got, str)
        assert got.startswith(parsed)
    else:
        assert got == parsed


async def run_job(
    store: Store, chat: ChatAdapter, destination: str, edition: Edition, content: ContentFilter
) -> None:
    clock = FakeClock(NOW)
    await store.enqueue_delivery(
        destination,
        edition.id,
        content.difficulty,
        NOW - timedelta(minutes=5),
        NOW,
        topics=content.topics,
        exclude=content.exclude,
    )
    worker = DeliveryWorker(
        store, clock, ScheduleSettings(), {destination.split(":")[0]: chat}, profile=PROFILE
    )
    assert await worker.deliver_next()
    (job,) = [j for j in await store.delivery_jobs() if j.destination == destination]
    assert job.state is JobState.DONE


async def test_slack_gets_only_the_matching_items_and_says_how_many(store: Store) -> None:
    edition = await an_edition(store)
    clock = FakeClock(NOW)
    async with FakeSlack(channels={"C0SEC", "C0NONE"}) as slack:
        chat = SlackChat(web_client(BOT_TOKEN, slack.api_url), clock, min_interval_s=0)
        await run_job(store, chat, "slack:C0SEC", edition, ContentFilter(topics=("evaluation",)))
        await run_job(store, chat, "slack:C0NONE", edition, ContentFilter(topics=("robotics",)))
    parent, *replies = slack.messages["C0SEC"]
    assert "1 of 4 items, topics: evaluation" in str(parent["blocks"])
    assert [r["metadata"]["event_payload"]["key"] for r in replies] == [
        f"llm-news-digest:{edition.id}:1"
    ]
    assert set(await store.sent_parts("slack:C0SEC", edition.id)) == {0, 1}
    (alone,) = slack.messages["C0NONE"]  # a parent, saying so, and nothing else
    assert "none of this edition's 4 items matches this channel's topics: robotics" in str(
        alone["blocks"]
    )


async def test_discord_gets_only_the_matching_items_and_a_resume_keeps_the_filter(
    store: Store, fake: FakeDiscord
) -> None:
    edition = await an_edition(store)
    clock = FakeClock(NOW)
    async with rest_client(DISCORD_TOKEN) as client:
        chat = DiscordChat(client, clock)
        # The job was planned with exclude:evaluation; the parent and item 2 went out, then
        # the process died. The subscription changed since: the job's filter still decides.
        where = f"discord:{TEXT_CHANNEL}"
        content = ContentFilter(exclude=("evaluation",))
        await store.begin_delivery(where, edition.id, NOW)
        chosen = select_items(edition, content, PROFILE)
        assert chosen.label == "3 of 4 items, not: evaluation"
        digest = replace(to_digest(chosen.edition), scope=chosen.label)
        thread = await chat.send_parent(TEXT_CHANNEL, digest, part_key(edition.id, 0))
        await store.record_sent(where, edition.id, 0, thread, thread, NOW)
        first = digest.items[0]
        sent = await chat.send_item(TEXT_CHANNEL, thread, first, part_key(edition.id, 2))
        await store.record_sent(where, edition.id, 2, sent, thread, NOW)
        await run_job(store, chat, where, edition, content)
    (parent,) = fake.posts(TEXT_CHANNEL)
    assert "3 of 4 items, not: evaluation" in parent["embeds"][0]["description"]
    replies = fake.posts(thread)
    assert len(replies) == 3  # items 2, 3, 4 once each; Ledgerline (evaluation) never
    assert all("Ledgerline" not in str(r) for r in replies)
    assert set(await store.sent_parts(where, edition.id)) == {0, 2, 3, 4}
