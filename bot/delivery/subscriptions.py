"""Subscriptions the TOML file declares (``[[subscriptions]]``), seeded into the store at start.

`seed_subscriptions` runs once when ``digestbot run`` starts and makes the store match the
file for what the file owns: the subscriptions it created (``created_by == "config"``) and
the channels it names.

- A channel the file names that has no subscription is created, by ``config``. Its
  ``created_at`` is now, so like any new subscription it starts with the next slot (no
  back editions).
- A channel the file names whose subscription differs (workspace, day, time, timezone,
  level) is updated in place, whoever created it: the file wins. Who created it and when
  are kept, as ``/digest-admin subscribe`` keeps them.
- A channel the file names whose subscription already matches is left alone: nothing is
  written, so ``created_at`` and ``updated_at`` do not move.
- A subscription the file created whose channel is no longer in the file is removed (that
  is how a file entry is deleted). One created by ``/digest-admin`` or the CLI is never
  removed, even if the file once named its channel.
- Subscriptions created elsewhere that the file does not name are not touched.

A paused subscription stays paused, even when the file names it or changes its schedule: it
was paused because delivering failed for good (channel deleted, bot removed, permission
missing) and a restart fixes none of that. An admin resumes it once fixed (``digestbot
resume``, ``/digest-admin resume`` or ``/digest-admin subscribe``); the seeding reports it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import Settings, SubscriptionSettings
from bot.delivery.content import parse_keywords
from bot.delivery.ports import SeedStore
from bot.delivery.slots import WEEKDAYS
from bot.domain import Difficulty, Subscription, SubscriptionRecord
from bot.ports import Clock

logger = logging.getLogger(__name__)

CONFIG_CREATOR = "config"
"""The ``created_by`` of the subscriptions the TOML file created (the ones it owns)."""


_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def describe(subscription: Subscription) -> str:
    """Return a subscription in words: ``every Monday 09:00 Europe/Paris, all levels``.

    Topics and exclusions follow when set: ``..., topics: agents, security, not: vision``.
    """
    day = date(2024, 1, 1 + subscription.weekday).strftime("%A")  # 2024-01-01 was a Monday
    level = subscription.difficulty.label + " items" if subscription.difficulty else "all levels"
    words = f"every {day} {subscription.at_time} {subscription.timezone}, {level}"
    if subscription.topics:
        words += ", topics: " + ", ".join(subscription.topics)
    if subscription.exclude:
        words += ", not: " + ", ".join(subscription.exclude)
    return words


def build_subscription(
    platform: str,
    workspace: str,
    channel: str,
    *,
    day: str = "mon",
    at_time: str = "09:00",
    tz: str = "UTC",
    difficulty: str | None = None,
    topics: str = "",
    exclude: str = "",
) -> Subscription | str:
    """Check a schedule (``day``, ``time``, ``tz``, ``difficulty``); return it or an error line.

    ``topics`` and ``exclude`` are comma-separated profile topics or keywords
    (`bot.delivery.content`): the channel gets the items matching a topic and no exclusion.

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
    wanted = parse_keywords(topics)
    if isinstance(wanted, str):
        return f"topics: {wanted}"
    unwanted = parse_keywords(exclude)
    if isinstance(unwanted, str):
        return f"exclude: {unwanted}"
    return Subscription(
        platform,
        workspace,
        channel,
        WEEKDAYS.index(weekday),
        at_time,
        tz,
        level,
        topics=wanted,
        exclude=unwanted,
    )


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What seeding did, as destinations (``slack:C0123``)."""

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    # File entries whose subscription is paused (and stays so until an admin resumes it).
    paused: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """True when the store was written to."""
        return bool(self.created or self.updated or self.removed)

    def summary(self) -> str:
        """Return one line for the log: counts, and the destinations that changed."""
        parts = [
            f"{len(self.created)} created",
            f"{len(self.updated)} updated",
            f"{len(self.unchanged)} unchanged",
            f"{len(self.removed)} removed",
        ]
        named = [
            f"{label} {', '.join(names)}"
            for label, names in (
                ("created:", self.created),
                ("updated:", self.updated),
                ("removed:", self.removed),
            )
            if names
        ]
        return "subscriptions from the settings file: " + "; ".join([", ".join(parts), *named])


def subscription_from(entry: SubscriptionSettings, default_tz: str) -> Subscription:
    """Return the subscription a ``[[subscriptions]]`` entry declares."""
    built = build_subscription(
        entry.platform,
        entry.workspace,
        entry.channel,
        day=entry.day,
        at_time=entry.time,
        tz=entry.tz or default_tz,
        difficulty=entry.difficulty,
        topics=",".join(entry.topics),
        exclude=",".join(entry.exclude),
    )
    if isinstance(built, str):  # the settings were validated at load; this is a bug
        raise ValueError(f"[[subscriptions]] {entry.destination}: {built}")
    return built


def _schedule(subscription: Subscription) -> tuple[object, ...]:
    """Return what the file decides about a subscription (not whether it is paused)."""
    s = subscription
    return (s.workspace, s.weekday, s.at_time, s.timezone, s.difficulty, s.topics, s.exclude)


def _destination(subscription: Subscription) -> str:
    return f"{subscription.platform}:{subscription.channel}"


async def seed_subscriptions(store: SeedStore, settings: Settings, clock: Clock) -> SeedReport:
    """Make the store's subscriptions match ``settings.subscriptions`` (see the module doc)."""
    now = clock.now()
    wanted = [subscription_from(entry, settings.timezone) for entry in settings.subscriptions]
    records = await store.subscription_records()
    # Channel ids are unique per platform; the oldest row is the one that counts.
    existing: dict[str, SubscriptionRecord] = {}
    for record in records:
        existing.setdefault(_destination(record.subscription), record)

    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    paused: list[str] = []
    for subscription in wanted:
        where = _destination(subscription)
        found = existing.get(where)
        if found is None:
            await store.subscribe(subscription, CONFIG_CREATOR, now)
            created.append(where)
            continue
        if not found.subscription.active:
            paused.append(where)
        if _schedule(found.subscription) == _schedule(subscription):
            unchanged.append(where)
        else:
            await store.update_subscription(subscription, now)
            updated.append(where)

    named = {_destination(s) for s in wanted}
    removed = await _remove_dropped(store, records, named)
    report = SeedReport(
        tuple(created), tuple(updated), tuple(unchanged), tuple(removed), tuple(paused)
    )
    if report.changed:
        logger.info("%s", report.summary())
    for where in report.paused:
        logger.warning(
            "%s is in the settings file but paused; resume it with: digestbot resume %s",
            where,
            where,
        )
    return report


async def _remove_dropped(
    store: SeedStore, records: Sequence[SubscriptionRecord], named: set[str]
) -> list[str]:
    """Remove the file's own subscriptions whose channel the file no longer names."""
    removed: list[str] = []
    for record in records:
        s = record.subscription
        if record.created_by != CONFIG_CREATOR or _destination(s) in named:
            continue
        if await store.unsubscribe(s.platform, s.workspace, s.channel):
            removed.append(_destination(s))
    return removed
