"""The store's subscription records: who created each one, updating in place, resuming."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import Difficulty, Subscription
from storage.store import Store
from tests.storage.conftest import DATABASES

pytestmark = pytest.mark.parametrize("database_url", DATABASES, indirect=True)
T0 = datetime(2026, 4, 13, 6, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=2)


def sub(
    channel: str, platform: str = "slack", workspace: str = "T1", **changes: object
) -> Subscription:
    values: dict[str, object] = {
        "platform": platform,
        "workspace": workspace,
        "channel": channel,
        "weekday": 0,
        "at_time": "09:00",
        "timezone": "UTC",
        "difficulty": None,
    }
    values.update(changes)
    return Subscription(**values)  # type: ignore[arg-type]


async def test_records_say_who_created_each_subscription_and_when(store: Store) -> None:
    assert await store.subscription_records() == []
    await store.subscribe(sub("C2"), "U0ADMIN", T0)
    await store.subscribe(sub("C1"), "config", LATER)
    await store.subscribe(sub("77", platform="discord", workspace="G1"), "cli", T0)

    records = await store.subscription_records()
    assert [(r.subscription.platform, r.subscription.channel) for r in records] == [
        ("discord", "77"),
        ("slack", "C1"),
        ("slack", "C2"),
    ]
    by_channel = {r.subscription.channel: r for r in records}
    assert (by_channel["C2"].created_by, by_channel["C2"].created_at) == ("U0ADMIN", T0)
    assert (by_channel["C1"].created_by, by_channel["C1"].created_at) == ("config", LATER)
    assert by_channel["77"].created_by == "cli"
    assert by_channel["C1"].updated_at == LATER
    assert by_channel["C1"].paused_at is None


async def test_update_changes_the_schedule_but_not_the_creator_nor_the_pause(store: Store) -> None:
    await store.subscribe(sub("C1"), "U0ADMIN", T0)
    await store.pause_subscription("slack", "C1", "Slack: channel_not_found", T0)

    changed = sub(
        "C1",
        workspace="T2",
        weekday=4,
        at_time="16:30",
        timezone="Europe/Paris",
        difficulty=Difficulty.ADVANCED,
    )
    assert await store.update_subscription(changed, LATER)
    assert not await store.update_subscription(sub("C404"), LATER)

    (record,) = await store.subscription_records()
    s = record.subscription
    assert (s.workspace, s.weekday, s.at_time, s.timezone, s.difficulty) == (
        "T2",
        4,
        "16:30",
        "Europe/Paris",
        Difficulty.ADVANCED,
    )
    assert not s.active  # still paused: only resuming resumes
    assert s.paused_reason == "Slack: channel_not_found"
    assert (record.created_by, record.created_at, record.updated_at) == ("U0ADMIN", T0, LATER)
    assert record.paused_at == T0
    assert await store.subscriptions_since() == [(s, T0)]


async def test_resume_reactivates_only_a_paused_subscription(store: Store) -> None:
    await store.subscribe(sub("C1"), "U0ADMIN", T0)
    assert not await store.resume_subscription("slack", "C1", T0)  # active: nothing to do
    assert not await store.resume_subscription("slack", "C404", T0)

    await store.pause_subscription("slack", "C1", "Slack: not_in_channel", T0)
    assert not await store.resume_subscription("discord", "C1", LATER)  # another platform
    assert await store.resume_subscription("slack", "C1", LATER)

    (record,) = await store.subscription_records()
    assert record.subscription.active
    assert record.subscription.paused_reason == ""
    assert record.paused_at is None
    assert (record.created_at, record.updated_at) == (T0, LATER)
    assert (record.subscription.weekday, record.subscription.at_time) == (0, "09:00")


async def test_admins_subscribing_one_channel_at_once_from_many_instances_all_succeed(
    database_url: str,
) -> None:
    # Each Store is one process's (its own engine, connections and lock), as with several
    # `digestbot run` instances on one PostgreSQL.
    stores = [await Store.open(database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(
            *(
                s.subscribe(sub("C1", at_time=f"{n:02d}:00"), f"U{n}", T0)
                for n, s in enumerate(stores * 3)
            )
        )
        assert results.count(True) == 1  # one created it, the others updated it
        (record,) = await stores[0].subscription_records()
        assert record.subscription.active
    finally:
        for s in stores:
            await s.aclose()


async def test_pausing_tells_only_the_first_caller_who_to_notify(store: Store) -> None:
    await store.subscribe(sub("C1"), "U0ADMIN", T0)
    first = await store.pause_subscription("slack", "C1", "Slack: channel_not_found", LATER)
    assert first is not None
    assert (first.created_by, first.paused_at) == ("U0ADMIN", LATER)
    assert first.subscription.paused_reason == "Slack: channel_not_found"
    assert not first.subscription.active
    # A second worker meeting the same dead channel pauses nothing and notifies no one.
    assert await store.pause_subscription("slack", "C1", "Slack: is_archived", LATER) is None
    assert await store.pause_subscription("slack", "C9", "never subscribed", LATER) is None
    (record,) = await store.subscription_records()
    assert record.subscription.paused_reason == "Slack: channel_not_found"  # the first reason
