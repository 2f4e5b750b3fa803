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
from bot.config import ScheduleSettings
from bot.domain import Difficulty, Submission, Subscription
from bot.ids import canonical_url
from bot.ports import Clock
from bot.status import StatusReport, StatusStore, collect_status

SUBCOMMANDS = ("subscribe", "unsubscribe", "status", "submit", "publish", "resume")
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


class AdminStore(StatusStore, Protocol):
    """What admin commands read and write (and status reads)."""

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

    async def resume_subscription(self, platform: str, channel: str, at: datetime) -> bool:
        """Make a paused subscription active again; True if it was paused."""
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
    return build_subscription(
        ctx.platform,
        ctx.workspace,
        ctx.channel,
        day=options.get("day", "mon"),
        at_time=options.get("time", "09:00"),
        tz=text_option(text, "tz") or default_tz,
        difficulty=options.get("difficulty"),
    )


def build_subscription(
    platform: str,
    workspace: str,
    channel: str,
    *,
    day: str = "mon",
    at_time: str = "09:00",
    tz: str = "UTC",
    difficulty: str | None = None,
) -> Subscription | str:
    """Check a schedule (``day``, ``time``, ``tz``, ``difficulty``); return it or an error line.

    Shared by ``/digest-admin subscribe``, ``digestbot subscribe`` and the TOML seeding, so
    all three accept and refuse the same values with the same words.
    """
    weekday = day.lower()[:3]
    if weekday not in WEEKDAYS:
        return f"day must be one of {', '.join(WEEKDAYS)}, not “{day[:12]}”"
    if not _TIME.fullmatch(at_time):
        return f"time must look like 09:00 (24-hour), not “{at_time[:12]}”"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return f"tz must be an IANA name such as Europe/Paris, not “{tz[:40]}”"
    level = None
    if difficulty is not None:
        try:
            level = Difficulty(difficulty.lower())
        except ValueError:
            return "difficulty must be one of: accessible, intermediate, advanced"
    return Subscription(platform, workspace, channel, WEEKDAYS.index(weekday), at_time, tz, level)


def text_option(text: str, key: str) -> str | None:
    """Return an option's value as typed (timezones are case-sensitive)."""
    for token in text.split():
        name, _, value = token.partition(":")
        if name.lower() == key and value:
            return value
    return None


def local_time(moment: datetime, timezone: str) -> str:
    """Return ``moment`` in words in ``timezone``: ``Fri 2026-04-17 16:30 Europe/Paris``."""
    return f"{moment.astimezone(ZoneInfo(timezone)):%a %Y-%m-%d %H:%M} {timezone}"


def status_lines(report: StatusReport, ctx: AdminContext) -> list[str]:
    """Return the short ``/digest-admin status`` answer (at most 14 lines), this channel first.

    Other workspaces' subscriptions are never shown: one bot serves many workspaces.
    """
    here = report.subscription(ctx.platform, ctx.channel)
    lines: list[str] = []
    if here is None:
        lines.append("This channel has no subscription.")
    else:
        s = here.record.subscription
        if here.next_delivery is not None:
            lines.append(
                f"This channel: {describe(s)}; next {local_time(here.next_delivery, s.timezone)}."
            )
        else:
            lines.append(
                f"This channel: {describe(s)}, PAUSED: {s.paused_reason[:160]}. "
                "Fix that, then /digest-admin resume."
            )
        if here.last_delivery is not None:
            last = here.last_delivery
            lines.append(
                f"Last delivery here: edition of {last.edition_date}, {last.parts} messages, "
                f"{last.at:%Y-%m-%d %H:%M} UTC."
            )
        job = here.last_job
        if job is not None and job.reason and job.state in ("failed", "skipped", "pending"):
            state = "retrying" if job.state == "pending" else job.state
            lines.append(f"Last try here ({state}): {job.reason[:160]}")
    elsewhere = [
        p
        for p in report.paused
        if p.record.subscription.platform == ctx.platform
        and p.record.subscription.workspace == ctx.workspace
        and p.record.subscription.channel != ctx.channel
    ]
    if elsewhere:
        lines.append(f"Paused in other channels: {len(elsewhere)}")
        lines += [
            f"• {p.destination}: {p.record.subscription.paused_reason[:100]}" for p in elsewhere[:3]
        ]
    failing = report.failing_sources
    lines.append(f"Sources: {len(report.sources) - len(failing)} ok, {len(failing)} failing")
    lines += [f"• {run.source}: {run.reason[:120]}" for run in failing[:3]]
    if report.last_compose is not None:
        compose = report.last_compose
        lines.append(f"Last compose: {compose.outcome}: {compose.reason[:160]}")
    lines.append(
        f"Deliveries: {report.pending_deliveries} waiting, {report.failed_deliveries} failed, "
        f"{report.skipped_deliveries} skipped."
    )
    llm = report.llm
    lines.append(f"LLM this week: {llm.calls} calls, {llm.tokens} tokens, ${llm.cost_usd:.2f}")
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
    if sub == "resume":
        return await _resume(ctx, store, clock)
    # The reply shows this channel's own slot, not the schedule-wide jobs: no settings needed.
    report = await collect_status(store, ScheduleSettings(), clock)
    return Reply(text="\n".join(status_lines(report, ctx)))


async def _resume(ctx: AdminContext, store: AdminStore, clock: Clock) -> Reply:
    """Reactivate this channel's paused subscription (once what paused it is fixed)."""
    here = [s for s in await store.subscriptions(ctx.platform) if s.channel == ctx.channel]
    if not here:
        return error("This channel has no subscription; use /digest-admin subscribe.")
    if not await store.resume_subscription(ctx.platform, ctx.channel, clock.now()):
        return Reply(text=f"This channel's subscription is not paused: {describe(here[0])}.")
    return Reply(
        text=f"Resumed: this channel gets {describe(here[0])} again. "
        "/digest-admin publish posts the latest edition now."
    )
