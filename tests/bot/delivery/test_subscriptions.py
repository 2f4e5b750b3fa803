"""Subscriptions from the TOML file: validated at load, seeded into a real store at start."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, ScheduleSettings, Settings, load_settings
from bot.delivery.schedule import Scheduler
from bot.delivery.subscriptions import CONFIG_CREATOR, seed_subscriptions
from bot.domain import Difficulty, Subscription, SubscriptionRecord
from storage.store import Store
from tests.builders import an_edition
from tests.fakes.clock import FakeClock

T0 = datetime(2026, 4, 13, 9, 0, tzinfo=UTC)  # a Monday
LATER = T0 + timedelta(days=1)

TWO_CHANNELS = """
timezone = "Europe/Paris"

[[subscriptions]]
platform = "slack"
workspace = "T0TEAM"
channel = "C0DIGEST"

[[subscriptions]]
platform = "discord"
workspace = "1200000000000000001"
channel = "1300000000000000002"
day = "fri"
time = "16:30"
tz = "America/New_York"
difficulty = "accessible"
"""


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'subscriptions.db'}")
    try:
        yield opened
    finally:
        await opened.aclose()


def settings_from(tmp_path: Path, toml: str, **environ: str) -> Settings:
    path = tmp_path / "digestbot.toml"
    path.write_text(toml, encoding="utf-8")
    return load_settings({"DIGEST_CONFIG": str(path), **environ})


def entry(channel: str, *, workspace: str = "T0TEAM", **keys: str) -> str:
    lines = [
        "[[subscriptions]]",
        'platform = "slack"',
        f'workspace = "{workspace}"',
        f'channel = "{channel}"',
    ]
    lines += [f'{key} = "{value}"' for key, value in keys.items()]
    return "\n".join(lines) + "\n"


async def records(store: Store) -> dict[str, SubscriptionRecord]:
    return {
        f"{r.subscription.platform}:{r.subscription.channel}": r
        for r in await store.subscription_records()
    }


# -- the settings ----------------------------------------------------------------------------


def test_entries_are_read_with_their_defaults(tmp_path: Path) -> None:
    slack, discord = settings_from(tmp_path, TWO_CHANNELS).subscriptions
    assert (slack.platform, slack.workspace, slack.channel) == ("slack", "T0TEAM", "C0DIGEST")
    assert (slack.day, slack.time, slack.tz, slack.difficulty) == ("mon", "09:00", None, None)
    assert (discord.day, discord.time, discord.tz, discord.difficulty) == (
        "fri",
        "16:30",
        "America/New_York",
        "accessible",
    )
    assert load_settings({}).subscriptions == ()


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        (
            entry("C 2"),
            "invalid [[subscriptions]] entry #2 channel in {file}: 'C 2' must be an id",
        ),
        (
            entry("C2").replace('"slack"', '"teams"'),
            "invalid [[subscriptions]] entry #2 platform in {file}: "
            "Input should be 'slack' or 'discord'",
        ),
        (entry("C2", day="monday"), "entry #2 day in {file}: Input should be 'mon', 'tue'"),
        (entry("C2", time="25:00"), "entry #2 time in {file}: String should match pattern"),
        (entry("C2", tz="Mars/Olympus"), "entry #2 tz in {file}: unknown timezone 'Mars/Olympus'"),
        (entry("C2", difficulty="easy"), "entry #2 difficulty in {file}: Input should be"),
        (entry("C2", colour="red"), "entry #2 colour in {file}: unknown setting"),
        (
            '[[subscriptions]]\nplatform = "slack"\nchannel = "C2"\n',
            "entry #2 workspace in {file}: Field required",
        ),
        (
            entry("C1", workspace="T0OTHER"),
            "invalid [[subscriptions]] in {file}: entries #1 and #2 both subscribe slack:C1",
        ),
    ],
)
def test_a_bad_entry_is_one_line_naming_it(tmp_path: Path, second: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, entry("C1") + second)
    message = str(caught.value)
    assert expected.format(file=tmp_path / "digestbot.toml") in message
    assert "\n" not in message


def test_the_same_channel_id_on_two_platforms_is_two_subscriptions(tmp_path: Path) -> None:
    other = entry("C1").replace('"slack"', '"discord"')
    assert len(settings_from(tmp_path, entry("C1") + other).subscriptions) == 2


# -- seeding ---------------------------------------------------------------------------------


async def test_seeding_creates_the_files_subscriptions(store: Store, tmp_path: Path) -> None:
    report = await seed_subscriptions(store, settings_from(tmp_path, TWO_CHANNELS), FakeClock(T0))
    assert report.created == ("slack:C0DIGEST", "discord:1300000000000000002")
    assert (report.updated, report.unchanged, report.removed) == ((), (), ())

    found = await records(store)
    slack = found["slack:C0DIGEST"]
    assert slack.subscription == Subscription(
        "slack",
        "T0TEAM",
        "C0DIGEST",
        0,
        "09:00",
        "Europe/Paris",
        None,  # the top-level tz
    )
    assert (slack.created_by, slack.created_at) == (CONFIG_CREATOR, T0)
    discord = found["discord:1300000000000000002"].subscription
    assert (discord.workspace, discord.weekday, discord.at_time) == (
        "1200000000000000001",
        4,
        "16:30",
    )
    assert (discord.timezone, discord.difficulty) == ("America/New_York", Difficulty.ACCESSIBLE)


async def test_the_default_timezone_follows_DIGEST_TIMEZONE(store: Store, tmp_path: Path) -> None:
    settings = settings_from(tmp_path, entry("C1"), DIGEST_TIMEZONE="Asia/Tokyo")
    await seed_subscriptions(store, settings, FakeClock(T0))
    assert (await records(store))["slack:C1"].subscription.timezone == "Asia/Tokyo"


async def test_unchanged_entries_are_not_written_again(store: Store, tmp_path: Path) -> None:
    settings = settings_from(tmp_path, TWO_CHANNELS)
    await seed_subscriptions(store, settings, FakeClock(T0))
    before = await records(store)

    again = await seed_subscriptions(store, settings, FakeClock(LATER))
    assert again.unchanged == ("slack:C0DIGEST", "discord:1300000000000000002")
    assert not again.changed
    assert await records(store) == before  # created_at and updated_at did not move


async def test_a_changed_entry_is_updated_in_place(store: Store, tmp_path: Path) -> None:
    await seed_subscriptions(store, settings_from(tmp_path, entry("C1")), FakeClock(T0))
    changed = settings_from(
        tmp_path, entry("C1", workspace="T0MOVED", day="thu", time="07:15", difficulty="advanced")
    )
    report = await seed_subscriptions(store, changed, FakeClock(LATER))
    assert report.updated == ("slack:C1",)

    (record,) = await store.subscription_records()  # one row, even with a new workspace
    s = record.subscription
    assert (s.workspace, s.weekday, s.at_time, s.difficulty) == (
        "T0MOVED",
        3,
        "07:15",
        Difficulty.ADVANCED,
    )
    assert (record.created_by, record.created_at, record.updated_at) == (CONFIG_CREATOR, T0, LATER)


async def test_subscriptions_made_elsewhere_are_untouched_unless_the_file_names_them(
    store: Store, tmp_path: Path
) -> None:
    admins = Subscription("slack", "T0TEAM", "C0ADMIN", 2, "12:00", "UTC", None)
    shared = Subscription("slack", "T0TEAM", "C0SHARED", 2, "12:00", "UTC", None)
    await store.subscribe(admins, "U0ADMIN", T0 - timedelta(days=30))
    await store.subscribe(shared, "cli", T0 - timedelta(days=30))
    admins_before = (await records(store))["slack:C0ADMIN"]

    file = entry("C0SHARED", day="fri") + entry("C0FILE")
    report = await seed_subscriptions(store, settings_from(tmp_path, file), FakeClock(T0))
    assert (report.created, report.updated) == (("slack:C0FILE",), ("slack:C0SHARED",))
    found = await records(store)
    assert found["slack:C0ADMIN"] == admins_before
    assert found["slack:C0SHARED"].subscription.weekday == 4  # the file wins
    assert found["slack:C0SHARED"].created_by == "cli"  # but did not create it

    # Entries leave the file: the file's own subscription goes, the CLI's stays.
    report = await seed_subscriptions(store, settings_from(tmp_path, ""), FakeClock(LATER))
    assert report.removed == ("slack:C0FILE",)
    assert set(await records(store)) == {"slack:C0ADMIN", "slack:C0SHARED"}


async def test_a_paused_subscription_stays_paused(store: Store, tmp_path: Path) -> None:
    await seed_subscriptions(store, settings_from(tmp_path, entry("C1")), FakeClock(T0))
    await store.pause_subscription("slack", "C1", "Slack: channel_not_found", T0)

    report = await seed_subscriptions(
        store, settings_from(tmp_path, entry("C1", time="10:00")), FakeClock(LATER)
    )
    assert (report.updated, report.paused) == (("slack:C1",), ("slack:C1",))
    (record,) = await store.subscription_records()
    assert record.subscription.at_time == "10:00"
    assert not record.subscription.active
    assert record.subscription.paused_reason == "Slack: channel_not_found"


async def enqueued_after_planning(store: Store, now: datetime) -> list[tuple[str, datetime]]:
    async def nothing(*_: object) -> None:
        return None

    async def compose(_: date) -> None:
        return None

    scheduler = Scheduler(
        store, FakeClock(now), ScheduleSettings(), {}, ingest=nothing, compose=compose
    )
    await scheduler.plan()
    return [(job.destination, job.due_at) for job in await store.delivery_jobs()]


async def test_a_seeded_subscription_starts_with_the_next_slot_even_after_restarts(
    store: Store, tmp_path: Path
) -> None:
    edition = await an_edition(store)  # composed Monday 2026-04-13 06:00 UTC
    # Monday 10:00 in Paris is 08:00 UTC; the bot starts at 09:00 UTC, after that slot.
    settings = settings_from(tmp_path, entry("C1", tz="Europe/Paris", time="10:00"))
    await seed_subscriptions(store, settings, FakeClock(T0))
    assert await enqueued_after_planning(store, T0 + timedelta(minutes=30)) == []

    # A restart a week later, past the next slot: seeding again must not make it new.
    restart = T0 + timedelta(days=7)
    await seed_subscriptions(store, settings, FakeClock(restart))
    assert await enqueued_after_planning(store, restart) == [
        ("slack:C1", datetime(2026, 4, 20, 8, 0, tzinfo=UTC))
    ]
    assert edition.created_at <= T0


async def test_the_files_topics_are_seeded_and_a_change_updates_them(
    tmp_path: Path, store: Store
) -> None:
    clock = FakeClock(T0)
    first = settings_from(tmp_path, entry("C0AGENTS", topics="agents,security", exclude="vision"))
    report = await seed_subscriptions(store, first, clock)
    assert report.created == ("slack:C0AGENTS",)
    (seeded,) = await store.subscriptions()
    assert (seeded.topics, seeded.exclude) == (("agents", "security"), ("vision",))

    again = await seed_subscriptions(store, first, clock)
    assert again.unchanged == ("slack:C0AGENTS",)
    narrower = settings_from(tmp_path, entry("C0AGENTS", topics="agents"))
    changed = await seed_subscriptions(store, narrower, clock)
    assert changed.updated == ("slack:C0AGENTS",)
    (updated,) = await store.subscriptions()
    assert (updated.topics, updated.exclude) == (("agents",), ())
