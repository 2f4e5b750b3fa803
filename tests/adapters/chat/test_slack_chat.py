"""Slack editions through the real slack_sdk client against a fake Slack Web API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.chat.slack_chat import SlackChat, item_blocks, web_client
from bot.delivery.deliver import DeliveryError, Destination, deliver, part_key
from bot.delivery.notices import Noticeboard
from bot.domain import Difficulty, Edition
from bot.edition.render import DigestItem, split_text
from storage.store import Store
from tests.builders import an_edition, paused
from tests.fakes.chat import CrashBeforeRecording
from tests.fakes.clock import FakeClock
from tests.fakes.slack_server import BOT_TOKEN, FakeSlack

TO = Destination.parse("slack:C0DIGEST")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'slack.db'}")
    try:
        yield opened
    finally:
        await opened.aclose()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


def chat_for(slack: FakeSlack, clock: FakeClock) -> SlackChat:
    return SlackChat(web_client(BOT_TOKEN, slack.api_url), clock)


def every_text(slack: FakeSlack) -> str:
    return json.dumps(slack.messages, ensure_ascii=False)


async def test_an_edition_is_one_parent_and_a_threaded_reply_per_item(
    store: Store, slack: FakeSlack
) -> None:
    edition = await an_edition(store)
    clock = FakeClock(datetime(2026, 4, 13, 7, tzinfo=UTC))
    report = await deliver(edition, TO, chat_for(slack, clock), store, clock)

    assert report.complete
    messages = slack.messages["C0DIGEST"]
    parent, replies = messages[0], messages[1:]
    assert "thread_ts" not in parent
    assert parent["blocks"][0]["text"]["text"] == f"LLM News Digest: {edition.title}"
    assert parent["blocks"][1]["elements"][0]["text"] == "April 13, 2026 · 4 papers"
    assert [r["thread_ts"] for r in replies] == [parent["ts"]] * 4
    assert [r["metadata"]["event_payload"]["key"] for r in messages] == [
        part_key(edition.id, n) for n in range(5)
    ]
    assert all(m["unfurl_links"] is False and m["link_names"] is None for m in messages)
    first = replies[0]["blocks"][0]["text"]["text"]
    assert first.startswith(f"*<{edition.entries[0].item.content.url}|")
    assert clock.sleeps == [1.0] * 4  # one message per second in the channel


async def test_nothing_we_post_can_ping_anyone(store: Store, slack: FakeSlack) -> None:
    edition = await an_edition(store)
    entry = edition.entries[0]
    hostile = replace(
        entry.item,
        content=replace(
            entry.item.content, title="<!channel> Urgent <@U0BOSS> & <https://evil.example|click>"
        ),
    )
    summary = replace(entry.summary, why="Ping <!here> and <!everyone> now. Also <@U123|boss>.")
    edition = replace(edition, entries=(replace(entry, item=hostile, summary=summary),))
    clock = FakeClock()
    await deliver(edition, TO, chat_for(slack, clock), store, clock)

    text = every_text(slack)
    for trigger in ("<!channel>", "<!here>", "<!everyone>", "<@U0BOSS>", "<@U123", "<https://evil"):
        assert trigger not in text
    assert "&lt;!channel&gt; Urgent &lt;@U0BOSS&gt; &amp;" in text


async def test_rate_limits_are_waited_out_without_duplicates(
    store: Store, slack: FakeSlack
) -> None:
    edition = await an_edition(store)
    slack.rate_limit_next = 3
    clock = FakeClock()
    report = await deliver(edition, TO, chat_for(slack, clock), store, clock)
    assert report.complete
    keys = [m["metadata"]["event_payload"]["key"] for m in slack.messages["C0DIGEST"]]
    assert len(keys) == len(set(keys)) == 5


async def test_a_long_run_of_rate_limits_is_waited_out(store: Store, slack: FakeSlack) -> None:
    # With 30% of posts answered 429 at random, one post in about 1,400 meets 6 in a row.
    edition = await an_edition(store)
    slack.rate_limit_next = 7
    clock = FakeClock()
    report = await deliver(edition, TO, chat_for(slack, clock), store, clock)
    assert report.complete
    assert len(slack.messages["C0DIGEST"]) == 5


async def test_a_missing_channel_is_a_permanent_failure(store: Store, slack: FakeSlack) -> None:
    edition = await an_edition(store)
    clock = FakeClock()
    report = await deliver(
        edition, Destination.parse("slack:C0GONE"), chat_for(slack, clock), store, clock
    )
    assert report.error is not None
    assert (report.error.reason, report.error.permanent) == ("Slack: channel_not_found", True)
    assert await store.sent_parts("slack:C0GONE", edition.id) == {}


async def test_a_lost_record_is_recovered_from_the_thread_metadata(
    store: Store, slack: FakeSlack
) -> None:
    edition: Edition = await an_edition(store)
    clock = FakeClock()
    chat = chat_for(slack, clock)
    crashed = await deliver(edition, TO, chat, CrashBeforeRecording(store, part=3), clock)
    assert not crashed.complete
    resumed = await deliver(edition, TO, chat_for(slack, clock), store, clock)
    assert resumed.complete
    assert resumed.recovered == 1
    assert len(slack.messages["C0DIGEST"]) == 5


async def test_a_lost_parent_is_found_in_the_channel_and_its_thread_reused(
    store: Store, slack: FakeSlack
) -> None:
    edition: Edition = await an_edition(store)
    clock = FakeClock()
    crashed = await deliver(
        edition, TO, chat_for(slack, clock), CrashBeforeRecording(store, part=0), clock
    )
    assert not crashed.complete
    slack.messages["C0DIGEST"].insert(0, {"type": "message", "ts": "1.000001", "text": "hi"})
    resumed = await deliver(edition, TO, chat_for(slack, clock), store, clock)
    assert (resumed.recovered, resumed.sent, resumed.complete) == (1, 4, True)
    parents = [m for m in slack.messages["C0DIGEST"] if "thread_ts" not in m]
    assert len(parents) == 2  # someone's earlier message and our one parent
    assert ("conversations.history", "C0DIGEST") in [
        (method, args.get("channel")) for method, args in slack.calls
    ]


async def test_a_fake_that_enforces_one_message_per_second_is_kept_to(
    store: Store, slack: FakeSlack
) -> None:
    edition = await an_edition(store)
    slack.per_channel_interval_s = 1.0
    clock = FakeClock()  # advances on sleep: posts arrive at once, so the fake answers 429
    report = await deliver(edition, TO, chat_for(slack, clock), store, clock)
    assert report.complete
    assert slack.rate_limited >= 1  # Retry-After was waited out, nothing was lost
    assert len(slack.messages["C0DIGEST"]) == 5


def test_long_text_is_split_at_sentences_within_slack_limits() -> None:
    sentence = "Agents need evaluation that looks at every step they take in production. "
    item = DigestItem(
        position=1,
        title="T",
        url="https://example.org/a",
        difficulty=Difficulty.ADVANCED,
        authors=(),
        summary=sentence * 120,
        takeaways=("a.", "b.", "c."),
        source="manual",
        arxiv_id=None,
        citations=None,
    )
    blocks = item_blocks(item)
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert len(blocks) <= 50
    assert all(len(text) <= 3000 for text in sections)
    summary_parts = [t for t in sections if t.startswith("Agents")]
    assert len(summary_parts) >= 3
    assert all(part.endswith("production.") for part in summary_parts)
    assert split_text("word " * 10, 12) == [
        "word word",
        "word word",
        "word word",
        "word word",
        "word word",
    ]


async def test_a_pause_is_told_by_dm_to_its_subscriber_and_in_the_admin_channel(
    slack: FakeSlack,
) -> None:
    slack.channels.add("C0OPS")
    board = Noticeboard({"slack": chat_for(slack, FakeClock())}, {"slack": "C0OPS"})
    hostile = "Slack: channel_not_found <!channel> <@U0BOSS>"
    told = await board.subscription_paused(paused("slack", "C0GONE", "U0ADMIN", hostile))

    assert told == ["user:U0ADMIN", "channel:C0OPS"]
    (dm,) = slack.messages[FakeSlack.dm_channel("U0ADMIN")]
    (notice,) = slack.messages["C0OPS"]
    for message in (dm, notice):
        assert "slack:C0GONE" in message["text"]
        assert "channel_not_found &lt;!channel&gt; &lt;@U0BOSS&gt;" in message["text"]
        assert "/digest-admin resume" in message["text"]
    assert "<!channel>" not in every_text(slack)
    assert "<@U0BOSS>" not in every_text(slack)


async def test_without_the_im_write_scope_only_the_admin_channel_is_told(
    slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    slack.missing_scopes.add("im:write")  # installed from an older manifest
    chat = chat_for(slack, FakeClock())
    with pytest.raises(DeliveryError, match="Slack: missing_scope"):
        await chat.send_direct("U0ADMIN", "hello")
    with pytest.raises(DeliveryError, match="Slack: channel_not_found"):
        await chat.send_notice("C0NOWHERE", "hello")

    board = Noticeboard({"slack": chat}, {"slack": "C0DIGEST"})
    told = await board.subscription_paused(paused("slack", "C0GONE", "U0ADMIN"))
    assert told == ["channel:C0DIGEST"]
    assert "missing_scope" in caplog.text
