"""Weekly slots: pure time maths for schedules (a weekday, ``HH:MM`` and an IANA timezone).

Slots are computed in local time, so a delivery stays at the same wall-clock hour across
daylight saving changes; every result is in UTC. Nothing here reads a clock: ``now`` is passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import ScheduleSettings
from bot.domain import Subscription

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names as schedules spell them (index 0 is Monday, as `datetime.weekday`)."""


def clock_time(text: str) -> time:
    """Return ``HH:MM`` (already validated) as a `time`."""
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def last_slot(weekday: int, at: str, timezone: str, now: datetime) -> datetime:
    """Return the latest weekly slot (weekday 0 = Monday, ``HH:MM`` in ``timezone``) <= now."""
    zone = ZoneInfo(timezone)
    local_now = now.astimezone(zone)
    day = local_now.date() - timedelta(days=(local_now.weekday() - weekday) % 7)
    slot = datetime.combine(day, clock_time(at), tzinfo=zone)
    if slot > local_now:
        slot = datetime.combine(day - timedelta(days=7), clock_time(at), tzinfo=zone)
    return slot.astimezone(UTC)


def next_slot(weekday: int, at: str, timezone: str, now: datetime) -> datetime:
    """Return the next weekly slot strictly after ``now`` (UTC)."""
    previous = last_slot(weekday, at, timezone, now)
    zone = ZoneInfo(timezone)
    local = previous.astimezone(zone)
    following = datetime.combine(local.date() + timedelta(days=7), clock_time(at), tzinfo=zone)
    return following.astimezone(UTC)


def local_time(moment: datetime, timezone: str) -> str:
    """Return ``moment`` in words in ``timezone``: ``Fri 2026-04-17 16:30 Europe/Paris``."""
    return f"{moment.astimezone(ZoneInfo(timezone)):%a %Y-%m-%d %H:%M} {timezone}"


@dataclass(frozen=True, slots=True)
class UpcomingJob:
    """A job and when it runs next."""

    name: str
    at: datetime


def upcoming_jobs(
    settings: ScheduleSettings,
    subscriptions: Sequence[Subscription],
    last_ingest: datetime | None,
    now: datetime,
) -> list[UpcomingJob]:
    """Return when each job runs next, soonest first (for status and health)."""
    every = timedelta(hours=settings.ingest_every_hours)
    ingest = max(now, last_ingest + every) if last_ingest else now
    compose_day = WEEKDAYS.index(settings.compose_day)
    jobs = [
        UpcomingJob("ingest", ingest),
        UpcomingJob(
            "compose",
            next_slot(compose_day, settings.compose_time, settings.compose_timezone, now),
        ),
    ]
    jobs += [
        UpcomingJob(
            f"deliver {s.platform}:{s.channel}",
            next_slot(s.weekday, s.at_time, s.timezone, now),
        )
        for s in subscriptions
        if s.active
    ]
    return sorted(jobs, key=lambda job: job.at)
