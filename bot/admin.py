"""``/digest-admin``: subscriptions, health, editors' picks and posting now, for admins only.

Platform-free like bot.commands: the adapter says who is asking (and whether the platform
counts them as an admin) and where; this module checks, parses and answers.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.commands import Reply, error, parse_options
from bot.domain import Difficulty, RunOutcome, SourceRun, Submission, Subscription
from bot.ids import canonical_url
from bot.ports import Clock

SUBCOMMANDS = ("subscribe", "unsubscribe", "status", "submit", "publish")
SUBSCRIBE_KEYS = ("day", "time", "tz", "difficulty")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True, slots=True)
class AdminContext:
    """Who asks, where, and whether they may."""

    platform: str
    workspace: str
    channel: str
    user: str
    is_admin: bool


class AdminStore(Protocol):
    """What admin commands read and write."""

    async def subscribe(self, subscription: Subscription, by: str, at: datetime) -> bool:
        """Create or update a subscription."""
        ...

    async def unsubscribe(self, platform: str, workspace: str, channel: str) -> bool:
        """Remove a subscription."""
        ...

    async def subscriptions(self, platform: str | None = None) -> list[Subscription]:
        """List subscriptions."""
        ...

    async def add_submission(
        self, url: str, note: str, submitted_by: str, at: datetime
    ) -> Submission:
        """Queue an editor's pick."""
        ...

    async def last_source_runs(self) -> list[SourceRun]:
        """Return each source's latest run."""
        ...

    async def last_compose(self) -> tuple[date, str, str, datetime] | None:
        """Return the latest compose attempt."""
        ...


Publisher = Callable[[], Awaitable[Reply]]
"""Posts the latest edition to the asking channel now."""


def describe(subscription: Subscription) -> str:
    """Return a subscription in words: ``every Monday 09:00 Europe/Paris, all levels``."""
    day = date(2024, 1, 1 + subscription.weekday).strftime("%A")  # 2024-01-01 was a Monday
    level = subscription.difficulty.label + " items" if subscription.difficulty else "all levels"
    return f"every {day} {subscription.at_time} {subscription.timezone}, {level}"


def parse_subscription(text: str, ctx: AdminContext, default_tz: str) -> Subscription | str:
    """Parse ``[day:] [time:] [tz:] [difficulty:]``; return a subscription or an error line."""
    options = parse_options(text, SUBSCRIBE_KEYS)
    if isinstance(options, str):
        return options
    day = options.get("day", "mon")[:3]
    if day not in WEEKDAYS:
        return f"day must be one of {', '.join(WEEKDAYS)}, not “{options['day'][:12]}”"
    at_time = options.get("time", "09:00")
    if not _TIME.fullmatch(at_time):
        return f"time must look like 09:00 (24-hour), not “{at_time[:12]}”"
    tz_name = text_option(text, "tz") or default_tz
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"tz must be an IANA name such as Europe/Paris, not “{tz_name[:40]}”"
    level = None
    if "difficulty" in options:
        try:
            level = Difficulty(options["difficulty"])
        except ValueError:
            return "difficulty must be one of: accessible, intermediate, advanced"
    return Subscription(
        ctx.platform, ctx.workspace, ctx.channel, WEEKDAYS.index(day), at_time, tz_name, level
    )


def text_option(text: str, key: str) -> str | None:
    """Return an option's value as typed (timezones are case-sensitive)."""
    for token in text.split():
        name, _, value = token.partition(":")
        if name.lower() == key and value:
            return value
    return None


def _status_lines(
    runs: list[SourceRun], compose: tuple[date, str, str, datetime] | None
) -> list[str]:
    failed = [run for run in runs if run.outcome is RunOutcome.FAILED]
    lines = [f"Sources: {len(runs) - len(failed)} ok, {len(failed)} failing"]
    lines += [f"• {run.source}: {run.reason[:120]}" for run in failed[:5]]
    if compose is not None:
        lines.append(f"Last compose: {compose[1]}: {compose[2][:160]}")
    return lines


async def answer_admin(
    text: str,
    ctx: AdminContext,
    store: AdminStore,
    clock: Clock,
    *,
    default_tz: str = "UTC",
    publish_here: Publisher | None = None,
) -> Reply:
    """Answer ``/digest-admin <subcommand> ...`` for an admin; refuse politely otherwise."""
    if not ctx.is_admin:
        return error(
            "Sorry, /digest-admin is for workspace admins and owners (and listed editors)."
        )
    sub, _, rest = text.strip().partition(" ")
    sub = sub.lower()
    if sub not in SUBCOMMANDS:
        return error(f"use /digest-admin {' | '.join(SUBCOMMANDS)}")
    if sub == "subscribe":
        parsed = parse_subscription(rest, ctx, default_tz)
        if isinstance(parsed, str):
            return error(parsed)
        new = await store.subscribe(parsed, ctx.user, clock.now())
        verb = "Subscribed" if new else "Updated the subscription:"
        return Reply(
            text=f"{verb} this channel gets {describe(parsed)}, starting with the next edition. "
            "/digest-admin publish posts the latest one now."
        )
    if sub == "unsubscribe":
        removed = await store.unsubscribe(ctx.platform, ctx.workspace, ctx.channel)
        return Reply(text="Unsubscribed." if removed else "This channel had no subscription.")
    if sub == "submit":
        url, _, note = rest.strip().partition(" ")
        try:
            canonical_url(url)
        except ValueError as exc:
            return error(f"submit needs a link: {exc}")
        pick = await store.add_submission(url, note.strip(), ctx.user, clock.now())
        return Reply(text=f"Queued pick #{pick.id}; it is resolved at the next ingest.")
    if sub == "publish":
        if publish_here is None:
            return error("publishing from here is not available")
        # Posting takes a second per message: acknowledge now, report when done.
        return Reply(text="Posting the latest edition in this channel…", deferred=publish_here)
    here = [s for s in await store.subscriptions(ctx.platform) if s.channel == ctx.channel]
    lines = _status_lines(await store.last_source_runs(), await store.last_compose())
    lines.append(
        f"This channel: {describe(here[0])}"
        + ("" if here[0].active else f" (paused: {here[0].paused_reason})")
        if here
        else "This channel has no subscription."
    )
    return Reply(text="\n".join(lines))
