"""Editing a delivered item in place after a rewrite, on the fake Slack and fake Discord.

The real clients (slack_sdk, discord.py) talk to fakes that refuse what the platforms
refuse: Slack's ``cant_update_message`` / ``message_not_found``, Discord's 50005 / 10008.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from adapters.chat.discord_chat import DiscordChat, rest_client
from adapters.chat.slack_chat import SlackChat, web_client
from bot.config import ScheduleSettings
from bot.delivery.deliver import DeliveryError, Destination, deliver, part_key
from bot.delivery.edits import EditWorker
from bot.delivery.ports import ChatAdapter
from bot.domain import Difficulty, Edition, ItemSummary, JobState, Platform
from bot.edition.render import to_digest
from storage.store import Store
from tests.builders import an_edition
from tests.fakes.clock import FakeClock
from tests.fakes.discord_server import BOT_TOKEN as DISCORD_TOKEN
from tests.fakes.discord_server import TEXT_CHANNEL, FakeDiscord
from tests.fakes.slack_server import BOT_TOKEN as SLACK_TOKEN
from tests.fakes.slack_server import FakeSlack

CLOCK = FakeClock(datetime(2026, 4, 20, 9, tzinfo=UTC))
SETTINGS = ScheduleSettings(poll_s=0.01)
REWRITTEN = ItemSummary(
    "Rewritten for editors: <!channel> and @everyone stay plain text here. "
    "Ledgerline audits every agent action.",
    Difficulty.ADVANCED,
    ("First new takeaway here.", "Second new takeaway here.", "Third new takeaway here."),
    "small-model",
    "v9",
    False,
)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


async def delivered_then_rewritten(
    store: Store, chat: ChatAdapter, destination: Destination
) -> tuple[Edition, dict[int, tuple[str, str]]]:
    edition = await an_edition(store)
    assert (await deliver(edition, destination, chat, store, CLOCK)).complete
    sent = await store.sent_parts(str(destination), edition.id)
    await store.rewrite_entry(edition.id, 1, REWRITTEN, "U0ED", "more technical", CLOCK.now())
    return edition, sent


async def test_slack_edits_the_reply_in_place_once(store: Store, slack: FakeSlack) -> None:
    chat = SlackChat(web_client(SLACK_TOKEN, slack.api_url), CLOCK, min_interval_s=0)
    to = Destination(Platform.SLACK, "C0DIGEST")
    edition, sent = await delivered_then_rewritten(store, chat, to)
    before = len(slack.messages["C0DIGEST"])
    reply_ts = sent[1][0]

    counters = await EditWorker(store, CLOCK, SETTINGS, {"slack": chat}).run(until_idle=True)

    assert (counters.edited, counters.failed) == (1, 0)
    assert len(slack.messages["C0DIGEST"]) == before  # edited, nothing new posted
    (reply,) = [m for m in slack.messages["C0DIGEST"] if m["ts"] == reply_ts]
    shown = json.dumps(reply["blocks"], ensure_ascii=False)
    assert "Rewritten for editors" in shown
    assert "✎ Updated April 20, 2026" in shown
    assert "&lt;!channel&gt;" in shown
    assert "<!channel>" not in shown
    assert reply["metadata"]["event_payload"]["key"] == part_key(edition.id, 1)
    assert "edited" in reply
    updates = [c for c in slack.calls if c[0] == "chat.update"]
    assert len(updates) == 1
    assert "link_names" not in updates[0][1]

    # A second run (or a resumed one) finds the version shown: no second edit.
    await store.rewrite_entry(edition.id, 1, REWRITTEN, "U0ED", "", CLOCK.now())
    await store.record_edit(str(to), edition.id, 1, 2)  # as if the edit landed, then a crash
    again = await EditWorker(store, CLOCK, SETTINGS, {"slack": chat}).run(until_idle=True)
    assert (again.edited, again.already) == (0, 1)
    assert len([c for c in slack.calls if c[0] == "chat.update"]) == 1


async def test_slack_refuses_to_edit_a_person_s_message_or_a_missing_one(
    store: Store, slack: FakeSlack
) -> None:
    chat = SlackChat(web_client(SLACK_TOKEN, slack.api_url), CLOCK, min_interval_s=0)
    edition = await an_edition(store)
    item = to_digest(edition).items[0]
    theirs = slack.add_message("C0DIGEST", "my own words")
    with pytest.raises(DeliveryError) as refused:
        await chat.edit_item("C0DIGEST", theirs, theirs, item, part_key(edition.id, 1))
    assert (refused.value.reason, refused.value.permanent) == ("Slack: cant_update_message", True)
    with pytest.raises(DeliveryError) as missing:
        await chat.edit_item("C0DIGEST", "1.0", "1776999999.000001", item, part_key(edition.id, 1))
    assert (missing.value.reason, missing.value.permanent) == ("Slack: message_not_found", True)
    assert slack.messages["C0DIGEST"][0]["text"] == "my own words"


async def test_discord_edits_the_reply_in_place_once(store: Store, fake: FakeDiscord) -> None:
    async with rest_client(DISCORD_TOKEN) as client:
        chat = DiscordChat(client, CLOCK)
        to = Destination(Platform.DISCORD, TEXT_CHANNEL)
        edition, sent = await delivered_then_rewritten(store, chat, to)
        message_id, thread = sent[1]
        before = len(fake.posts(thread))

        worker = EditWorker(store, CLOCK, SETTINGS, {"discord": chat})
        counters = await worker.run(until_idle=True)
        again = await EditWorker(store, CLOCK, SETTINGS, {"discord": chat}).run(until_idle=True)

    assert (counters.edited, again.edited) == (1, 0)
    replies = fake.posts(thread)
    assert len(replies) == before
    (reply,) = [m for m in replies if m["id"] == message_id]
    (embed,) = reply["embeds"]
    assert "Rewritten for editors" in embed["description"]
    assert "✎ Updated April 20, 2026" in embed["description"]
    assert "@everyone" not in embed["description"].replace("@\u200beveryone", "")
    assert embed["footer"]["text"] == f"LLM News Digest · edition {edition.id} · item 1"
    assert reply["allowed_mentions"] == {"parse": []}
    assert reply["edited_timestamp"] is not None
    patches = [c for c in fake.calls if c[0] == "PATCH" and "/messages/" in c[1]]
    assert len(patches) == 1


async def test_discord_refuses_to_edit_another_author_s_message_and_the_job_fails(
    store: Store, fake: FakeDiscord
) -> None:
    async with rest_client(DISCORD_TOKEN) as client:
        chat = DiscordChat(client, CLOCK)
        to = Destination(Platform.DISCORD, TEXT_CHANNEL)
        edition = await an_edition(store)
        thread = await chat.send_parent(TEXT_CHANNEL, to_digest(edition), part_key(edition.id, 0))
        theirs = fake.add_user_message(thread, "a reader's reply")
        item = to_digest(edition).items[0]
        with pytest.raises(DeliveryError) as refused:
            await chat.edit_item(TEXT_CHANNEL, thread, theirs, item, part_key(edition.id, 1))
        assert refused.value.permanent
        assert "50005" in refused.value.reason or "another user" in refused.value.reason
        with pytest.raises(DeliveryError) as missing:
            await chat.edit_item(
                TEXT_CHANNEL, thread, "1499999999999999999", item, part_key(edition.id, 1)
            )
        assert missing.value.permanent
        assert "404" in missing.value.reason

        # The reply's record pointing at the wrong message: the job fails, once, for good;
        # the channel is still usable (an edit refusal is not a dead channel).
        await store.record_sent(str(to), edition.id, 1, theirs, thread, CLOCK.now())
        await store.rewrite_entry(edition.id, 1, REWRITTEN, "U0ED", "", CLOCK.now())
        counters = await EditWorker(store, CLOCK, SETTINGS, {"discord": chat}).run(until_idle=True)
        assert counters.failed == 1
        failed = await store.edit_jobs([JobState.FAILED])
        assert [j.destination for j in failed] == [str(to)]
        assert "Cannot edit a message authored by another user" in failed[0].reason
        await chat.send_notice(TEXT_CHANNEL, "still posting here")
