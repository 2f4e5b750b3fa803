"""``digestbot publish --to slack:CHANNEL`` as a real subprocess against the fake Slack."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.domain import Subscription
from storage.store import Store
from tests.builders import an_edition, edition_database
from tests.cli_process import clean_env, run_digestbot, slack_env
from tests.fakes.slack_server import BOT_TOKEN, FakeSlack


async def test_publish_posts_the_latest_edition_once(tmp_path: Path) -> None:
    url = await edition_database(tmp_path)
    async with FakeSlack() as slack:
        env = clean_env(DIGEST_DATABASE_URL=url, **slack_env(slack))
        code, out, err = await run_digestbot(
            "publish", "--to", "slack:C0DIGEST", env=env, cwd=tmp_path
        )
        assert code == 0, err
        assert "slack:C0DIGEST: 5 sent, 0 already there, 0 recovered; complete" in out
        code, out, err = await run_digestbot(
            "publish", "--to", "slack:C0DIGEST", env=env, cwd=tmp_path
        )
        assert code == 0, err
        assert "0 sent, 5 already there" in out
        assert len(slack.messages["C0DIGEST"]) == 5
        code, out, err = await run_digestbot("status", env=env, cwd=tmp_path)
        assert code == 0, err
        assert "Delivered to slack:C0DIGEST: edition of 2026-04-13, 5 messages" in out

        code, out, err = await run_digestbot(
            "publish", "--to", "slack:C0GONE", env=env, cwd=tmp_path
        )
        assert code == 1
        assert "stopped: Slack: channel_not_found" in out
        assert BOT_TOKEN not in out + err

    code, _, err = await run_digestbot("publish", "--to", "teams:X", env=env, cwd=tmp_path)
    assert code == 2
    assert "use slack:CHANNEL_ID or discord:CHANNEL_ID" in err
    env.pop("SLACK_BOT_TOKEN")
    env.pop("SLACK_APP_TOKEN")
    code, _, err = await run_digestbot("publish", "--to", "slack:C0DIGEST", env=env, cwd=tmp_path)
    assert code == 1
    assert "slack: destinations need SLACK_BOT_TOKEN" in err


async def test_publish_without_to_serves_each_due_subscription_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    long_ago = datetime(2026, 1, 1, tzinfo=UTC)
    store = await Store.open(url)
    try:
        edition = await an_edition(store)
        for platform, channel in (("slack", "C0ONE"), ("slack", "C0TWO"), ("discord", "42")):
            await store.subscribe(
                Subscription(platform, "T1", channel, 0, "09:00", "Europe/Paris", None),
                "U1",
                long_ago,
            )
    finally:
        await store.aclose()
    async with FakeSlack(channels={"C0ONE", "C0TWO"}) as slack:
        env = clean_env(
            DIGEST_DATABASE_URL=url,
            **slack_env(slack),
            # The sample edition is months old: let last Monday's slot still want it.
            DIGEST_SCHEDULE__STALE_AFTER_HOURS="200",
        )
        code, out, err = await run_digestbot("publish", env=env, cwd=tmp_path)
        assert code == 0, err
        assert "Subscriptions: 2 delivered (10 messages)" in out
        assert "subscriptions on discord wait: no token set here" in err
        code, out, err = await run_digestbot("publish", env=env, cwd=tmp_path)
        assert code == 0, err
        assert "Subscriptions: 0 delivered" in out
        assert [len(slack.messages[c]) for c in ("C0ONE", "C0TWO")] == [5, 5]

        store = await Store.open(url)
        try:
            await store.subscribe(
                Subscription("slack", "T1", "C0GONE", 0, "09:00", "UTC", None), "U1", long_ago
            )
            code, out, err = await run_digestbot("publish", env=env, cwd=tmp_path)
            assert code == 1
            assert "1 failed and paused" in out
            (gone,) = [s for s in await store.subscriptions() if s.channel == "C0GONE"]
            assert not gone.active
            assert "channel_not_found" in gone.paused_reason
            # Discord's delivery waits for an instance with the token; it is not failed.
            jobs = {job.destination: job for job in await store.delivery_jobs()}
            assert jobs["discord:42"].state == "pending"
            assert jobs["discord:42"].edition_id == edition.id
        finally:
            await store.aclose()
    code, _, err = await run_digestbot("publish", "--edition", "2026-04-13", env=env, cwd=tmp_path)
    assert code == 2
    assert "--edition needs --to" in err


async def test_publish_to_several_channels_delivers_them_side_by_side(tmp_path: Path) -> None:
    url = await edition_database(tmp_path)
    channels = ["C0ONE", "C0TWO", "C0THREE"]
    async with FakeSlack(channels=set(channels)) as slack:
        env = clean_env(DIGEST_DATABASE_URL=url, **slack_env(slack))
        args = [arg for channel in channels for arg in ("--to", f"slack:{channel}")]
        code, out, err = await run_digestbot("publish", *args, "--to", "slack:C0ONE", env=env,
                                             cwd=tmp_path)  # fmt: skip
    assert code == 0, err
    # One line per destination (the repeated one delivered once), each complete.
    assert sorted(line.split(":")[1] for line in out.splitlines() if "complete" in line) == sorted(
        channels
    )
    assert all(len(slack.messages[channel]) == 5 for channel in channels)
    # Side by side: every channel's parent was posted before any channel's last reply
    # (one after another, the first channel would be finished before the second began).
    first_posts = max(slack.messages[c][0]["ts"] for c in channels)
    last_posts = min(slack.messages[c][-1]["ts"] for c in channels)
    assert first_posts < last_posts


async def test_publish_to_a_subscribed_channel_applies_its_topics(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    store = await Store.open(url)
    try:
        await an_edition(store)
        subscription = Subscription(
            "slack", "T1", "C0EVAL", 0, "09:00", "UTC", None, topics=("evaluation",)
        )
        await store.subscribe(subscription, "U1", datetime(2026, 1, 1, tzinfo=UTC))
    finally:
        await store.aclose()
    async with FakeSlack(channels={"C0EVAL"}) as slack:
        env = clean_env(DIGEST_DATABASE_URL=url, **slack_env(slack))
        code, out, err = await run_digestbot(
            "publish", "--to", "slack:C0EVAL", env=env, cwd=tmp_path
        )
        assert code == 0, err
        assert "slack:C0EVAL: 2 sent, 0 already there, 0 recovered; complete" in out
        parent, reply = slack.messages["C0EVAL"]
        assert "1 of 4 items, topics: evaluation" in str(parent["blocks"])
        assert "Ledgerline" in str(reply["blocks"])
