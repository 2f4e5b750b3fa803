"""Slack commands over Socket Mode: the real Bolt app against the fake Slack's websocket."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from adapters.chat.slack_bot import SlackHttpBot, SlackSocketBot, build_slack_app
from adapters.chat.slack_chat import SlackChat, web_client
from adapters.sources.arxiv import ArxivSource
from bot.commands.digest import fetch_paper
from bot.commands.reply import Reply as BotReply
from bot.delivery.deliver import Destination, deliver
from bot.domain import Platform
from bot.edition.profile import load_profile
from bot.edition.summarize import OfflineSummarizer
from storage.store import Store
from tests.builders import an_edition
from tests.conftest import data_file
from tests.fakes.clock import FakeClock
from tests.fakes.http_server import FakeHttpServer, Reply
from tests.fakes.slack_server import APP_TOKEN, BOT_TOKEN, FakeSlack


@pytest.fixture
async def connected(tmp_path: Path) -> AsyncIterator[FakeSlack]:
    store = await Store.open(f"sqlite:///{tmp_path / 'bot.db'}")
    await an_edition(store)
    async with FakeSlack() as slack:
        bot = SlackSocketBot(
            build_slack_app(web_client(BOT_TOKEN, slack.api_url), store, FakeClock()), APP_TOKEN
        )
        await bot.start()
        try:
            yield slack
        finally:
            await bot.aclose()
            await store.aclose()


def texts(ack: dict[str, object]) -> str:
    return json.dumps(ack.get("payload"), ensure_ascii=False)


async def test_digest_is_acknowledged_with_the_items_at_that_level(connected: FakeSlack) -> None:
    ack, seconds = await connected.slash_command("/digest", "difficulty:Accessible")
    payload = ack["payload"]
    assert isinstance(payload, dict)
    assert payload["response_type"] == "ephemeral"
    assert payload["text"].startswith("Accessible items in the edition of April 13, 2026")
    assert "Prompt injection in coding agents" in texts(ack)
    assert "Ledgerline" not in texts(ack)  # intermediate, filtered out
    assert seconds < 3.0


async def test_paper_by_id_answers_with_the_full_card(connected: FakeSlack) -> None:
    ack, _ = await connected.slash_command("/paper", "https://arxiv.org/abs/2604.31415v2")
    body = texts(ack)
    assert "From the edition of April 13, 2026" in body
    assert "Takeaways" in body
    assert "via api-hf · arXiv:2604.31415" in body


async def test_bad_input_gets_one_line_saying_what_would_be_right(connected: FakeSlack) -> None:
    ack, _ = await connected.slash_command("/digest", "difficulty:expert")
    payload = ack["payload"]
    assert isinstance(payload, dict)
    assert payload["text"] == (
        "unknown difficulty “expert”; use one of: accessible, intermediate, advanced"
    )


async def test_hostile_arguments_are_escaped_in_the_answer(connected: FakeSlack) -> None:
    ack, _ = await connected.slash_command("/paper", "<!channel> <@U0BOSS> hello")
    body = texts(ack)
    assert "<!channel>" not in body
    assert "<@U0BOSS>" not in body


async def test_an_unknown_paper_is_acknowledged_then_answered_through_the_response_url(
    tmp_path: Path, http_server: FakeHttpServer
) -> None:
    arxiv = http_server.route(
        "/api/query", Reply(body=data_file("arxiv_idlist_2104.12255v1.atom").read_bytes())
    )
    store = await Store.open(f"sqlite:///{tmp_path / 'fetch.db'}")
    clock = FakeClock()
    async with FakeSlack() as slack, httpx.AsyncClient() as http:
        papers = ArxivSource(http, clock, url=arxiv)
        summarizer = OfflineSummarizer(load_profile())

        async def fetch(arxiv_id: str) -> BotReply:
            return await fetch_paper(arxiv_id, papers, store, summarizer, clock)

        app = build_slack_app(web_client(BOT_TOKEN, slack.api_url), store, clock, fetch_paper=fetch)
        bot = SlackSocketBot(app, APP_TOKEN)
        await bot.start()
        try:
            ack, seconds = await slack.slash_command("/paper", "2104.12255")
            await asyncio.wait_for(slack.responded.wait(), timeout=10)
        finally:
            await bot.aclose()
            await store.aclose()
    payload = ack["payload"]
    assert isinstance(payload, dict)
    assert payload["text"] == "Fetching arXiv:2104.12255 and summarizing it…"
    assert seconds < 3.0
    answer = json.dumps(slack.responses[0], ensure_ascii=False)
    assert "arXiv:2104.12255, fetched just now" in answer
    assert "Quan Thoi Minh Nguyen" in answer
    assert slack.responses[0]["response_type"] == "ephemeral"


@pytest.fixture
async def admin_bot(tmp_path: Path) -> AsyncIterator[tuple[FakeSlack, Store]]:
    store = await Store.open(f"sqlite:///{tmp_path / 'admin.db'}")
    await an_edition(store)
    async with FakeSlack() as slack:
        client = web_client(BOT_TOKEN, slack.api_url)
        clock = FakeClock()

        async def publish_to(channel: str) -> BotReply:
            edition = await store.edition()
            assert edition is not None
            report = await deliver(
                edition,
                Destination(Platform.SLACK, channel),
                SlackChat(client, clock),
                store,
                clock,
            )
            return BotReply(text=f"Posted: {report.sent} messages sent.")

        app = build_slack_app(
            client,
            store,
            clock,
            publish_to=publish_to,
            admin_user_ids=("U0EDITOR",),
            default_tz="Europe/Paris",
        )
        bot = SlackSocketBot(app, APP_TOKEN)
        await bot.start()
        try:
            yield slack, store
        finally:
            await bot.aclose()
            await store.aclose()


async def test_admins_subscribe_and_everyone_else_is_refused(
    admin_bot: tuple[FakeSlack, Store],
) -> None:
    slack, store = admin_bot
    refused, _ = await slack.slash_command("/digest-admin", "subscribe", user="U0ALICE")
    assert texts(refused).count("Sorry, /digest-admin is for workspace admins and owners") == 2
    assert await store.subscriptions() == []

    done, _ = await slack.slash_command(
        "/digest-admin", "subscribe day:fri time:16:30 difficulty:accessible", user="U0ADMIN"
    )
    assert (
        "Subscribed this channel gets every Friday 16:30 Europe/Paris, Accessible items"
        in texts(done)
    )
    (subscription,) = await store.subscriptions("slack")
    assert (subscription.channel, subscription.weekday, subscription.at_time) == (
        "C0DIGEST",
        4,
        "16:30",
    )

    status, _ = await slack.slash_command("/digest-admin", "status", user="U0EDITOR")
    assert "This channel: every Friday 16:30 Europe/Paris" in texts(status)
    bad, _ = await slack.slash_command("/digest-admin", "subscribe tz:Mars/Base", user="U0ADMIN")
    assert "tz must be an IANA name such as Europe/Paris" in texts(bad)
    gone, _ = await slack.slash_command("/digest-admin", "unsubscribe", user="U0ADMIN")
    assert "Unsubscribed." in texts(gone)
    assert await store.subscriptions() == []


async def test_subscribe_with_bare_values_topics_and_a_help(
    admin_bot: tuple[FakeSlack, Store],
) -> None:
    slack, store = admin_bot
    done, _ = await slack.slash_command(
        "/digest-admin",
        "subscribe fri 16:30 America/New_York topics:agents,security exclude:vision",
        user="U0ADMIN",
    )
    assert (
        "every Friday 16:30 America/New_York, all levels, topics: agents, security, not: vision"
        in texts(done)
    )
    (subscription,) = await store.subscriptions("slack")
    assert (subscription.topics, subscription.exclude) == (("agents", "security"), ("vision",))
    bad, _ = await slack.slash_command("/digest-admin", "subscribe topics:<!here>", user="U0ADMIN")
    assert "is not a topic" in texts(bad)
    assert "<!here>" not in texts(bad)  # escaped: never a ping
    usage, _ = await slack.slash_command("/digest-admin", "help", user="U0ADMIN")
    for sub in ("subscribe", "unsubscribe", "status", "submit", "publish", "resume", "rewrite"):
        assert f"• {sub}" in texts(usage)


@pytest.mark.parametrize(
    ("outside", "expected"),
    [
        (True, "I am not in this channel yet: /invite @LLM News Digest"),
        (False, "I cannot see this channel: invite me with /invite @LLM News Digest"),
    ],
    ids=["public-not-member", "private-or-gone"],
)
async def test_subscribe_asks_to_invite_the_bot_first(
    admin_bot: tuple[FakeSlack, Store], outside: bool, expected: str
) -> None:
    slack, store = admin_bot
    if outside:
        slack.outside.add("C0OUTSIDE")
    ack, _ = await slack.slash_command(
        "/digest-admin", "subscribe", user="U0ADMIN", channel="C0OUTSIDE"
    )
    assert expected in texts(ack)
    assert await store.subscriptions() == []  # nothing stored that would fail at delivery
    assert ("conversations.info", {"channel": "C0OUTSIDE"}) in [
        (m, {k: v for k, v in a.items() if k == "channel"}) for m, a in slack.calls
    ]


async def test_admins_submit_picks_and_publish_here(admin_bot: tuple[FakeSlack, Store]) -> None:
    slack, store = admin_bot
    picked, _ = await slack.slash_command(
        "/digest-admin", "submit https://example.org/post Read this", user="U0ADMIN"
    )
    assert "Queued pick #1" in texts(picked)
    (pending,) = await store.pending_submissions()
    assert (pending.url, pending.note, pending.submitted_by) == (
        "https://example.org/post",
        "Read this",
        "U0ADMIN",
    )
    bad, _ = await slack.slash_command(
        "/digest-admin", "submit javascript:alert(1)", user="U0ADMIN"
    )
    assert "submit needs a link" in texts(bad)

    ack, seconds = await slack.slash_command("/digest-admin", "publish", user="U0ADMIN")
    assert "Posting the latest edition in this channel" in texts(ack)
    assert seconds < 3.0
    await asyncio.wait_for(slack.responded.wait(), timeout=20)
    assert "Posted: 5 messages sent." in json.dumps(slack.responses[-1])
    assert len(slack.messages["C0DIGEST"]) == 5


async def test_a_mention_in_a_thread_is_answered_in_that_thread(
    admin_bot: tuple[FakeSlack, Store],
) -> None:
    slack, _ = admin_bot
    await slack.slash_command("/digest-admin", "publish", user="U0ADMIN")
    await asyncio.wait_for(slack.responded.wait(), timeout=20)
    parent = slack.messages["C0DIGEST"][0]["ts"]

    await slack.mention("<@U0BOT> paper 2604.31415", thread_ts=parent)
    await slack.mention("<@U0BOT> digest difficulty:advanced <!channel>", thread_ts=parent)
    await slack.mention("<@U0BOT> weather", thread_ts=parent)
    for _ in range(100):
        if len(slack.messages["C0DIGEST"]) >= 8:
            break
        await asyncio.sleep(0.05)
    answers = slack.messages["C0DIGEST"][5:]
    assert len(answers) == 3
    assert all(a["thread_ts"] == parent for a in answers)
    replies = sorted(a["text"] for a in answers)  # handlers run concurrently
    assert replies[0].startswith("From the edition of April 13, 2026")
    assert replies[1].startswith("ask me “paper")
    assert replies[2] == "“&lt;!channel&gt;” is not an option; use difficulty:… edition:…"
    assert "<!channel>" not in json.dumps(answers)


async def test_commands_keep_working_after_slack_refreshes_the_connection(
    connected: FakeSlack,
) -> None:
    await connected.refresh()
    ack, seconds = await connected.slash_command("/digest", "difficulty:accessible")
    assert "Accessible items" in texts(ack)
    assert seconds < 3.0
    assert sum(1 for method, _ in connected.calls if method == "apps.connections.open") == 2


def signed(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """Sign a request body the way Slack does (v0, HMAC-SHA256)."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": f"v0={digest}",
    }


async def test_http_mode_answers_signed_requests_and_refuses_others(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'http.db'}")
    await an_edition(store)
    async with FakeSlack() as slack:
        app = build_slack_app(
            web_client(BOT_TOKEN, slack.api_url), store, FakeClock(), signing_secret="s3cret"
        )
        bot = SlackHttpBot(app, "127.0.0.1", 0)
        await bot.start()
        try:
            url = f"http://127.0.0.1:{bot.port}/slack/events"
            body = urlencode(
                {
                    "command": "/digest",
                    "text": "difficulty:accessible",
                    "user_id": "U0ALICE",
                    "channel_id": "C0DIGEST",
                    "team_id": "T0FAKE",
                    "response_url": slack.api_url + "x",
                    "trigger_id": "t",
                }
            ).encode()
            now = int(time.time())
            async with httpx.AsyncClient() as http:
                good = await http.post(url, content=body, headers=signed("s3cret", body, now))
                forged = await http.post(url, content=body, headers=signed("wrong", body, now))
                stale = await http.post(
                    url, content=body, headers=signed("s3cret", body, now - 600)
                )
        finally:
            await bot.aclose()
            await store.aclose()
    assert good.status_code == 200
    assert good.json()["text"].startswith("Accessible items in the edition of April 13, 2026")
    assert forged.status_code == 401
    assert stale.status_code == 401


async def test_health_follows_the_socket_through_a_drop_and_the_reconnection(
    tmp_path: Path,
) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'bot.db'}")
    async with FakeSlack() as slack:
        bot = SlackSocketBot(
            build_slack_app(web_client(BOT_TOKEN, slack.api_url), store, FakeClock()), APP_TOKEN
        )
        assert not bot.connected()
        await bot.start()
        try:
            assert bot.connected()
            slack.refuse_connections = True  # Slack is down: the socket cannot come back
            await slack.drop_connections()
            await until(lambda: not bot.connected(), within_s=5)
            slack.refuse_connections = False
            await until(bot.connected, within_s=30)  # slack_sdk retries on its own
        finally:
            await bot.aclose()
            await store.aclose()
    assert not bot.connected()


async def until(condition: Callable[[], bool], within_s: float) -> None:
    """Wait until ``condition()`` holds; fail after ``within_s`` seconds."""
    async with asyncio.timeout(within_s):
        # Polling: slack_sdk's connection state has no event to wait on.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
