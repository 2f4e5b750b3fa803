"""Add to Slack: the real OAuth redirect flow into two workspaces, a token per workspace.

Bolt's flow runs over our store against the fake Slack's ``oauth.v2.access``; an HTTP client
plays the installer's browser (GET /slack/install, "Allow" on Slack's page, GET the redirect
with the state cookie).
"""

from __future__ import annotations

import asyncio
import base64
import html
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from slack_sdk.errors import SlackApiError

from adapters.chat.slack_bot import SlackHttpBot, build_slack_app
from adapters.chat.slack_chat import SlackChat, web_client
from adapters.chat.slack_oauth import (
    BOT_SCOPES,
    WorkspaceTokens,
    add_uninstall_listeners,
    learn_channels,
    oauth_settings,
)
from bot.delivery.deliver import Destination, deliver
from bot.domain import Platform
from storage.store import Store
from tests.builders import an_edition
from tests.fakes.clock import FakeClock
from tests.fakes.slack_manifest import SlackManifest
from tests.fakes.slack_workspaces import CLIENT_ID, CLIENT_SECRET, FakeSlackWorkspaces


@dataclass
class Installing:
    """The app in HTTP mode with Add to Slack, the fake Slack, and a browser."""

    slack: FakeSlackWorkspaces
    bot: SlackHttpBot
    store: Store
    clock: FakeClock
    browser: httpx.AsyncClient
    gone: list[tuple[str, str]]
    tokens: WorkspaceTokens

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.bot.port}"

    async def start_install(self) -> tuple[str, str]:
        """GET /slack/install: return the state cookie and the authorize URL."""
        page = await self.browser.get(f"{self.base}/slack/install")
        assert page.status_code == 200
        cookie = page.headers["set-cookie"].split(";")[0]
        found = re.search(r'<a href="([^"]+)"', page.text)
        assert found is not None
        return cookie, html.unescape(found.group(1))

    async def install(self, team: str, user: str) -> httpx.Response:
        """Go through the whole flow for ``team``; return the last page."""
        cookie, url = await self.start_install()
        back = self.slack.approve(url, team, user)
        return await self.browser.get(back, headers={"Cookie": cookie})


async def open_installing(
    store: Store, slack: FakeSlackWorkspaces, *, secret: str = CLIENT_SECRET, **options: str
) -> Installing:
    clock = FakeClock()
    oauth = oauth_settings(
        CLIENT_ID, secret, store, clock, api_url=slack.api_url, public_url=options.get("public")
    )
    app = build_slack_app(
        web_client(None, slack.api_url), store, clock, signing_secret=slack.signing_secret,
        oauth=oauth,
    )  # fmt: skip
    gone: list[tuple[str, str]] = []

    async def pause(team: str, reason: str) -> None:
        gone.append((team, reason))
        for subscription in await store.subscriptions("slack"):
            if subscription.workspace == team:
                await store.pause_subscription("slack", subscription.channel, reason, clock.now())

    add_uninstall_listeners(app, store, pause)
    tokens = WorkspaceTokens(store, None)
    learn_channels(app, tokens)
    bot = SlackHttpBot(app, "127.0.0.1", 0)
    await bot.start()
    slack.events_url = f"http://127.0.0.1:{bot.port}/slack/events"
    slack.redirect_urls.append(f"http://127.0.0.1:{bot.port}/slack/oauth_redirect")
    return Installing(slack, bot, store, clock, httpx.AsyncClient(timeout=10), gone, tokens)


@pytest.fixture
async def installing(store: Store) -> AsyncIterator[Installing]:
    async with FakeSlackWorkspaces() as slack:
        ready = await open_installing(store, slack)
        try:
            yield ready
        finally:
            await ready.browser.aclose()
            await ready.bot.aclose()


async def subscribe(it: Installing, team: str, admin: str, channel: str) -> str:
    status, answer = await it.slack.command(
        team, "/digest-admin", "subscribe day:mon time:09:00", user=admin, channel=channel
    )
    assert status == 200
    return str(answer.get("text"))


async def test_two_workspaces_install_subscribe_and_each_gets_the_edition_with_its_token(
    installing: Installing,
) -> None:
    it, slack = installing, installing.slack
    page = await it.install("T0A", "U0ADA")
    assert page.status_code == 200
    assert "installed in <b>Team A</b>" in page.text
    assert (await it.install("T0B", "U0ADB")).status_code == 200
    token_a, token_b = slack.teams["T0A"].token, slack.teams["T0B"].token
    assert token_a is not None
    assert token_b is not None
    assert token_a != token_b
    assert await it.store.team_bot_token("T0A") == token_a
    assert await it.store.team_bot_token("T0B") == token_b

    assert "Subscribed" in await subscribe(it, "T0A", "U0ADA", "C0A")
    assert "Subscribed" in await subscribe(it, "T0B", "U0ADB", "C0B")
    # The admin check asked each workspace with its own token.
    assert ("users.info", "T0A", "") in slack.team_calls
    assert ("users.info", "T0B", "") in slack.team_calls
    assert {(s.workspace, s.channel) for s in await it.store.subscriptions()} == {
        ("T0A", "C0A"),
        ("T0B", "C0B"),
    }

    edition = await an_edition(it.store)
    chat = SlackChat(
        web_client(None, slack.api_url), it.clock, min_interval_s=0,
        tokens=WorkspaceTokens(it.store, None),
    )  # fmt: skip
    for channel in ("C0A", "C0B"):
        report = await deliver(
            edition, Destination(Platform.SLACK, channel), chat, it.store, it.clock
        )
        assert report.error is None
        assert report.complete
    posts = [
        (team, channel)
        for method, team, channel in slack.team_calls
        if method == "chat.postMessage"
    ]
    parts = len(edition.entries) + 1
    assert posts.count(("T0A", "C0A")) == parts
    assert posts.count(("T0B", "C0B")) == parts
    assert len(posts) == 2 * parts

    # A reader's 👍 in workspace B is a vote (Bolt answered it with B's install).
    reply = slack.messages["C0B"][1]["ts"]
    reaction = {
        "type": "reaction_added",
        "user": "U0MEMB",
        "reaction": "+1",
        "item_user": "U0BOT",
        "item": {"type": "message", "channel": "C0B", "ts": reply},
        "event_ts": "1.2",
    }
    assert await slack.send_team_event("T0B", reaction)
    async with asyncio.timeout(10):
        while not await it.store.item_votes(datetime(2000, 1, 1, tzinfo=UTC)):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    # A notice to the admin who subscribed B goes by DM with B's token.
    await chat.send_direct("U0ADB", "the digest for C0B was paused")
    assert ("conversations.open", "T0B", "") in slack.team_calls
    assert slack.messages[slack.dm_channel("U0ADB")][-1]["text"] == "the digest for C0B was paused"


async def test_a_channel_without_subscription_is_posted_in_with_the_token_it_was_asked_from(
    installing: Installing,
) -> None:
    it = installing
    await it.install("T0A", "U0ADA")
    await it.install("T0B", "U0ADB")
    assert await it.tokens.for_channel("C0B") is None  # never heard of, no default token
    status, _ = await it.slack.command("T0B", "/digest", "", user="U0MEMB", channel="C0B")
    assert status == 200
    assert await it.tokens.for_channel("C0B") == it.slack.teams["T0B"].token
    edition = await an_edition(it.store)
    chat = SlackChat(web_client(None, it.slack.api_url), it.clock, min_interval_s=0,
                     tokens=it.tokens)  # fmt: skip
    report = await deliver(edition, Destination(Platform.SLACK, "C0B"), chat, it.store, it.clock)
    assert report.complete


async def test_a_workspace_token_cannot_post_in_the_other_workspace(
    installing: Installing,
) -> None:
    await installing.install("T0A", "U0ADA")
    client = web_client(installing.slack.teams["T0A"].token, installing.slack.api_url)
    assert (await client.chat_postMessage(channel="C0A", text="hi"))["ok"]
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel="C0B", text="hi")
    assert refused.value.response["error"] == "channel_not_found"


async def test_uninstalling_pauses_that_workspace_and_the_other_still_delivers(
    installing: Installing,
) -> None:
    it = installing
    await it.install("T0A", "U0ADA")
    await it.install("T0B", "U0ADB")
    await subscribe(it, "T0A", "U0ADA", "C0A")
    await subscribe(it, "T0B", "U0ADB", "C0B")

    await it.slack.uninstall("T0A")
    assert it.slack.event_statuses == [200, 200]
    # Bolt acknowledges events first and runs the listeners after.
    async with asyncio.timeout(10):
        while await it.store.find_install("", "T0A") is not None:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    assert {team for team, _ in it.gone} == {"T0A"}
    subscriptions = {s.channel: s for s in await it.store.subscriptions()}
    assert not subscriptions["C0A"].active
    assert "in the Slack workspace Team A (T0A); install it again" in (
        subscriptions["C0A"].paused_reason
    )
    assert subscriptions["C0B"].active
    assert await it.store.find_install("", "T0B") is not None

    edition = await an_edition(it.store)
    chat = SlackChat(
        web_client(None, it.slack.api_url), it.clock, min_interval_s=0,
        tokens=WorkspaceTokens(it.store, None),
    )  # fmt: skip
    kept = await deliver(edition, Destination(Platform.SLACK, "C0B"), chat, it.store, it.clock)
    assert kept.complete
    lost = await deliver(edition, Destination(Platform.SLACK, "C0A"), chat, it.store, it.clock)
    assert lost.error is not None
    assert lost.error.permanent
    assert "not installed" in lost.error.reason


async def test_a_reused_unknown_or_foreign_state_gets_a_page_not_a_traceback(
    installing: Installing,
) -> None:
    it = installing
    cookie, url = await it.start_install()
    back = it.slack.approve(url, "T0A", "U0ADA")
    assert (await it.browser.get(back, headers={"Cookie": cookie})).status_code == 200
    again = await it.browser.get(back, headers={"Cookie": cookie})  # replayed redirect
    assert again.status_code == 401
    assert "expired" in again.text
    assert "already used" in again.text
    assert "Traceback" not in again.text
    assert "deleted" in again.headers["set-cookie"]  # the browser forgets the state

    forged = back.replace("state=", "state=x")
    unknown = await it.browser.get(forged, headers={"Cookie": cookie.replace("=", "=x", 1)})
    assert unknown.status_code == 401
    assert "already used" in unknown.text
    no_cookie = await it.browser.get(back)
    assert no_cookie.status_code == 400
    assert "another browser" in no_cookie.text


async def test_a_state_expires_after_ten_minutes(installing: Installing) -> None:
    it = installing
    cookie, url = await it.start_install()
    back = it.slack.approve(url, "T0A", "U0ADA")
    it.clock.advance(minutes=10, seconds=1)
    late = await it.browser.get(back, headers={"Cookie": cookie})
    assert late.status_code == 401
    assert "expired" in late.text
    assert await it.store.find_install("", "T0A") is None


async def test_a_wrong_client_secret_fails_the_install_and_is_never_logged(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "not-the-secret-42"
    caplog.set_level(logging.DEBUG)
    async with FakeSlackWorkspaces() as slack:
        it = await open_installing(store, slack, secret=wrong)
        try:
            page = await it.install("T0A", "U0ADA")
        finally:
            await it.browser.aclose()
            await it.bot.aclose()
    assert page.status_code == 401
    assert "did not accept" in page.text
    assert slack.oauth_errors == ["bad_client_secret"]
    assert await store.find_install("", "T0A") is None
    basic = base64.b64encode(f"{CLIENT_ID}:{wrong}".encode()).decode()
    assert wrong not in caplog.text
    assert basic not in caplog.text


async def test_the_client_secret_and_tokens_never_reach_the_log(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeSlackWorkspaces() as slack:
        it = await open_installing(store, slack)
        try:
            assert (await it.install("T0A", "U0ADA")).status_code == 200
            await subscribe(it, "T0A", "U0ADA", "C0A")
        finally:
            await it.browser.aclose()
            await it.bot.aclose()
    token = slack.teams["T0A"].token
    assert token
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    for secret in (CLIENT_SECRET, basic, token):
        assert secret not in caplog.text


async def test_the_public_url_is_the_redirect_uri_at_both_steps(store: Store) -> None:
    async with FakeSlackWorkspaces() as slack:
        it = await open_installing(store, slack, public="https://digest.example.com/")
        try:
            cookie, url = await it.start_install()
            asked = parse_qs(urlsplit(url).query)
            assert asked["redirect_uri"] == ["https://digest.example.com/slack/oauth_redirect"]
            with pytest.raises(ValueError, match="bad_redirect_uri"):
                slack.approve(url, "T0A", "U0ADA")  # not among the app's Redirect URLs yet
            slack.redirect_urls.append("https://digest.example.com/slack/oauth_redirect")
            back = slack.approve(url, "T0A", "U0ADA")
            # The browser lands on the public URL, which (behind HTTPS) is this server.
            local = back.replace("https://digest.example.com", it.base)
            assert (await it.browser.get(local, headers={"Cookie": cookie})).status_code == 200
        finally:
            await it.browser.aclose()
            await it.bot.aclose()
    assert await store.team_bot_token("T0A") == slack.teams["T0A"].token


async def test_the_fake_refuses_what_slack_refuses_at_oauth_v2_access(store: Store) -> None:
    async with FakeSlackWorkspaces() as slack:
        slack.redirect_urls.append("https://digest.example.com/slack/oauth_redirect")
        authorize = (
            f"{slack.api_url.removesuffix('api/')}oauth/v2/authorize?client_id={CLIENT_ID}"
            "&scope=commands,chat:write&state=s"
            "&redirect_uri=https://digest.example.com/slack/oauth_redirect"
        )
        code = slack.approve(authorize, "T0A", "U0ADA").split("code=")[1].split("&")[0]
        client = web_client(None, slack.api_url)

        async def error(**args: str) -> str:
            with pytest.raises(SlackApiError) as refused:
                await client.oauth_v2_access(**args)
            return str(refused.value.response["error"])

        good = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": code}
        redirect = "https://digest.example.com/slack/oauth_redirect"
        assert await error(**(good | {"client_id": "1.2"}), redirect_uri=redirect) == (
            "invalid_client_id"
        )
        assert await error(**(good | {"client_secret": "x"}), redirect_uri=redirect) == (
            "bad_client_secret"
        )
        assert await error(**(good | {"code": "nope"}), redirect_uri=redirect) == "invalid_code"
        assert await error(**good) == "bad_redirect_uri"  # given at authorize, so required
        assert (await client.oauth_v2_access(**good, redirect_uri=redirect))["ok"]
        assert await error(**good, redirect_uri=redirect) == "invalid_code"  # used up


def test_the_install_asks_for_exactly_the_manifest_bot_scopes() -> None:
    assert set(BOT_SCOPES) == SlackManifest.load().scopes
