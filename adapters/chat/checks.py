"""What ``digestbot doctor`` asks Slack and Discord: is the token good, is the bot allowed.

Slack: ``auth.test`` names the bot and its team, and every Web API answer carries the scopes
the token holds in its ``x-oauth-scopes`` header; they are compared with the scopes of
slack-manifest.yml (`SLACK_BOT_SCOPES`, which a test keeps equal to the manifest). Discord:
``GET /users/@me`` checks the token, then each channel's permissions for the bot are computed
as Discord does (server roles, then the channel's overwrites) by discord.py from the channel,
server and member it reads over REST. Nothing is posted anywhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
import discord
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.chat.discord_chat import REQUIRED_PERMISSIONS, rest_client
from adapters.chat.slack_bot import REFUSED_TOKEN_ERRORS
from adapters.chat.slack_oauth import BOT_SCOPES
from bot.delivery.deliver import DeliveryError

SLACK_BOT_SCOPES = frozenset(BOT_SCOPES)
"""The bot scopes of slack-manifest.yml: those Add to Slack asks for (a test compares them)."""


class ProbeError(Exception):
    """A platform could not be checked, or refused the token; the reason is one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SlackIdentity:
    """Who the bot token is, and the scopes it was granted (None: Slack did not say)."""

    team: str
    team_id: str
    user: str
    scopes: frozenset[str] | None


async def slack_identity(token: str, api_url: str, *, timeout_s: float) -> SlackIdentity:
    """Call ``auth.test`` with ``token``; raise `ProbeError` if refused or unreachable."""
    client = AsyncWebClient(token=token, base_url=api_url, timeout=max(1, round(timeout_s)))
    try:
        async with asyncio.timeout(timeout_s):
            response = await client.auth_test()
    except SlackApiError as exc:
        code = str(exc.response.get("error") or "")
        if code in REFUSED_TOKEN_ERRORS:
            raise ProbeError(f"Slack refused SLACK_BOT_TOKEN ({code})") from None
        raise ProbeError(f"auth.test failed: {code or exc.response.status_code}") from None
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise ProbeError(f"could not reach Slack at {api_url}: {type(exc).__name__}") from None
    headers = {str(k).lower(): str(v) for k, v in (response.headers or {}).items()}
    granted = headers.get("x-oauth-scopes")
    return SlackIdentity(
        team=str(response.get("team") or ""),
        team_id=str(response.get("team_id") or ""),
        user=str(response.get("user") or response.get("user_id") or ""),
        scopes=(
            frozenset(s.strip() for s in granted.split(",") if s.strip())
            if granted is not None
            else None
        ),
    )


@dataclass(frozen=True, slots=True)
class ChannelAccess:
    """The bot in one Discord channel: its name, and what it lacks (or why it is unknown)."""

    channel: str
    name: str = ""
    missing: tuple[str, ...] = ()
    problem: str = ""


@dataclass(frozen=True, slots=True)
class DiscordAccess:
    """The bot's user name, and its access to each channel asked about."""

    user: str
    channels: tuple[ChannelAccess, ...]


async def _channel_access(
    client: discord.Client, channel: str, guilds: dict[int, tuple[discord.Guild, discord.Member]]
) -> ChannelAccess:
    try:
        found = await client.fetch_channel(int(channel))
        if not isinstance(found, discord.TextChannel | discord.ForumChannel):
            return ChannelAccess(channel, problem="is neither a text channel nor a forum")
        known = guilds.get(found.guild.id)
        if known is None:
            guild = await client.fetch_guild(found.guild.id)
            assert client.user is not None
            known = guilds[guild.id] = (guild, await guild.fetch_member(client.user.id))
        guild, me = known
        # Bound to the fetched server, so that its roles count in permissions_for.
        bound = await guild.fetch_channel(found.id)
    except discord.NotFound:
        return ChannelAccess(channel, problem="not found (deleted, or the bot was removed)")
    except discord.Forbidden:
        return ChannelAccess(channel, problem="the bot cannot see it (View Channel)")
    except discord.HTTPException as exc:
        return ChannelAccess(channel, problem=f"HTTP {exc.status}: {exc.text[:120]}")
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return ChannelAccess(channel, problem=f"{type(exc).__name__}")
    allowed = bound.permissions_for(me)
    missing = tuple(label for flag, label in REQUIRED_PERMISSIONS if not getattr(allowed, flag))
    return ChannelAccess(channel, name=bound.name, missing=missing)


async def discord_access(token: str, channels: Sequence[str], *, timeout_s: float) -> DiscordAccess:
    """Log in over REST (``GET /users/@me``) and read the bot's permissions in ``channels``.

    Raises `ProbeError` when Discord refuses the token or cannot be reached.
    """
    # The bot speaks in no voice channel: discord.py's warnings about voice libraries would
    # read as problems in a report of problems.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
    try:
        async with asyncio.timeout(timeout_s), rest_client(token) as client:
            assert client.user is not None
            guilds: dict[int, tuple[discord.Guild, discord.Member]] = {}
            found = [await _channel_access(client, c, guilds) for c in channels]
            return DiscordAccess(user=client.user.name, channels=tuple(found))
    except DeliveryError as exc:
        raise ProbeError(exc.reason) from None
    except TimeoutError:
        raise ProbeError(f"Discord did not answer within {timeout_s:g} s") from None
