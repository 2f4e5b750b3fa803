"""The platform checks of ``digestbot doctor`` against the fake Slack and Discord."""

from __future__ import annotations

import pytest

from adapters.chat.checks import SLACK_BOT_SCOPES, ProbeError, discord_access, slack_identity
from adapters.chat.discord_chat import configure_endpoints
from tests.fakes import discord_server, slack_server
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_manifest import SlackManifest
from tests.fakes.slack_server import FakeSlack


def test_the_scopes_checked_are_the_manifests() -> None:
    assert SlackManifest.load().scopes == SLACK_BOT_SCOPES


async def test_slack_identity_reads_the_granted_scopes_from_the_header() -> None:
    async with FakeSlack(missing_scopes={"im:write"}) as slack:
        who = await slack_identity(slack_server.BOT_TOKEN, slack.api_url, timeout_s=5)
        with pytest.raises(ProbeError, match=r"Slack refused SLACK_BOT_TOKEN \(invalid_auth\)"):
            await slack_identity("xoxb-wrong", slack.api_url, timeout_s=5)
    assert who.team_id == "T0FAKE"
    assert who.scopes == SLACK_BOT_SCOPES - {"im:write"}


async def test_slack_unreachable_is_a_probe_error() -> None:
    with pytest.raises(ProbeError, match="could not reach Slack"):
        await slack_identity("xoxb-x", "http://127.0.0.1:1/api/", timeout_s=5)


async def test_discord_permissions_come_from_roles_and_overwrites() -> None:
    async with FakeDiscord() as discord:
        configure_endpoints(discord.api_url, discord.gateway_url)
        # The bot's role grants everything; the channel's overwrite takes two away again.
        denied = discord.add_channel(
            "1400000000000000007",
            "quiet",
            deny_bot=discord_server.SEND_MESSAGES | discord_server.SEND_MESSAGES_IN_THREADS,
        )
        hidden = discord.add_channel(
            "1400000000000000008", "staff", deny_bot=discord_server.VIEW_CHANNEL
        )
        access = await discord_access(
            discord_server.BOT_TOKEN,
            [discord_server.TEXT_CHANNEL, denied["id"], discord_server.FORUM_CHANNEL, hidden["id"]],
            timeout_s=5,
        )
    ok, quiet, forum, staff = access.channels
    assert staff.problem == "the bot cannot see it (View Channel)"
    assert access.user == "digestbot"
    assert (ok.name, ok.missing, ok.problem) == ("llm-digest", (), "")
    # Without Send Messages, Discord treats Embed Links as denied too.
    assert quiet.missing == ("Send Messages", "Embed Links", "Send Messages in Threads")
    assert forum.missing == ()
