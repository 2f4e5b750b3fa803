"""``digestbot subscribe | unsubscribe | subscriptions | resume | status`` as real processes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.store import Store
from tests.cli_process import clean_env, run_digestbot, slack_env, start_digestbot, stop_digestbot
from tests.fakes.slack_server import FakeSlack

WIDE = {"COLUMNS": "250"}  # rich tables fit the terminal; keep each row on one line


def env_for(tmp_path: Path, **settings: str) -> dict[str, str]:
    return clean_env(DIGEST_DATABASE_URL=f"sqlite:///{tmp_path / 'd.db'}", **WIDE, **settings)


async def digestbot(tmp_path: Path, *args: str, **settings: str) -> tuple[int, str, str]:
    return await run_digestbot(*args, env=env_for(tmp_path, **settings), cwd=tmp_path)


async def test_subscribe_list_update_and_unsubscribe(tmp_path: Path) -> None:
    code, out, err = await digestbot(tmp_path, "subscriptions")
    assert (code, out) == (1, "")  # a read-only command never creates the database
    assert err.strip() == (
        f"digestbot: there is no database at {tmp_path / 'd.db'} yet; "
        "create it with: digestbot db upgrade"
    )
    assert not (tmp_path / "d.db").exists()
    assert (await digestbot(tmp_path, "db", "upgrade"))[0] == 0
    code, out, err = await digestbot(tmp_path, "subscriptions")
    assert (code, err) == (0, "")
    assert "No subscriptions yet. Add one: digestbot subscribe slack:" in out

    code, _, err = await digestbot(tmp_path, "subscribe", "slack:C0DIGEST")
    assert code == 2
    assert err.strip() == (
        "digestbot: slack:C0DIGEST has no subscription yet: give --workspace "
        "(the Slack team id T0... or the Discord server id)"
    )

    code, out, err = await digestbot(
        tmp_path,
        "subscribe",
        "slack:C0DIGEST",
        "--workspace",
        "T0TEAM",
        "--day",
        "fri",
        "--time",
        "16:30",
        "--tz",
        "Europe/Paris",
        "--difficulty",
        "accessible",
    )
    assert code == 0, err
    assert out.startswith(
        "Subscribed slack:C0DIGEST: every Friday 16:30 Europe/Paris, Accessible items. "
        "First delivery: Fri "
    )
    code, out, err = await digestbot(
        tmp_path, "subscribe", "discord:1300000000000000002", "--workspace", "1200000000000000001"
    )
    assert code == 0, err
    assert "every Monday 09:00 UTC, all levels" in out  # DIGEST_TIMEZONE's default

    code, out, err = await digestbot(tmp_path, "subscriptions")
    assert code == 0, err
    rows = [line for line in out.splitlines() if ":" in line and "│" in line]
    assert len(rows) == 2
    discord_row, slack_row = rows
    for cell in (
        "slack:C0DIGEST",
        "every Friday 16:30 Europe/Paris, Accessible items",
        "active",
        "cli",
        "Fri 20",
    ):
        assert cell in slack_row
    assert "discord:1300000000000000002" in discord_row

    # Updating needs no workspace: the subscription keeps its own.
    code, out, err = await digestbot(tmp_path, "subscribe", "slack:C0DIGEST", "--day", "tue")
    assert code == 0, err
    assert out.startswith("Updated slack:C0DIGEST: every Tuesday 09:00 UTC, all levels.")
    store = await Store.open(f"sqlite:///{tmp_path / 'd.db'}")
    try:
        records = await store.subscription_records()
    finally:
        await store.aclose()
    assert [(r.subscription.channel, r.subscription.workspace) for r in records] == [
        ("1300000000000000002", "1200000000000000001"),
        ("C0DIGEST", "T0TEAM"),
    ]

    code, out, err = await digestbot(tmp_path, "unsubscribe", "slack:C0DIGEST")
    assert (code, out.strip()) == (0, "Unsubscribed slack:C0DIGEST."), err
    code, _, err = await digestbot(tmp_path, "unsubscribe", "slack:C0DIGEST")
    assert code == 1
    assert err.strip() == (
        "digestbot: slack:C0DIGEST has no subscription (see: digestbot subscriptions)"
    )


async def test_subscribe_with_topics_and_exclusions(tmp_path: Path) -> None:
    code, out, err = await digestbot(
        tmp_path,
        "subscribe",
        "slack:C0DIGEST",
        "--workspace",
        "T0TEAM",
        "--topics",
        "Agents, security",
        "--exclude",
        "vision",
    )
    assert code == 0, err
    assert out.startswith(
        "Subscribed slack:C0DIGEST: every Monday 09:00 UTC, all levels, topics: agents, "
        "security, not: vision."
    )
    store = await Store.open(f"sqlite:///{tmp_path / 'd.db'}")
    try:
        (subscription,) = await store.subscriptions()
    finally:
        await store.aclose()
    assert (subscription.topics, subscription.exclude) == (("agents", "security"), ("vision",))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["subscribe", "teams:X"], "use slack:CHANNEL_ID or discord:CHANNEL_ID"),
        (["subscribe", "console:x"], "subscriptions are for slack:CHANNEL_ID or discord:"),
        (["subscribe", "slack:C1", "--time", "25:00"], "--time must look like 09:00 (24-hour)"),
        (["subscribe", "slack:C1", "--tz", "Mars/Base"], "--tz must be an IANA name"),
        (["subscribe", "slack:C1", "--day", "someday"], "--day must be one of mon, tue"),
        (["subscribe", "slack:C1", "--difficulty", "easy"], "--difficulty must be one of"),
        (["subscribe", "slack:C1", "--workspace", "T 1"], "--workspace 'T 1' must be an id"),
        (["subscribe", "slack:C1", "--topics", "<!channel>"], "--topics: “<!channel>” is not"),
        (["subscribe", "slack:C1", "--exclude", "a,b,c,d,e,f,g,h,i,j,k"], "--exclude: at most 10"),
        (["unsubscribe", "slack:a b"], "is not a destination"),
        (["resume", "discord:"], "is not a destination"),
    ],
)
async def test_bad_usage_is_exit_2_with_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    code, _, err = await digestbot(tmp_path, *args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "d.db").exists()  # refused before touching the database


async def test_a_paused_subscription_is_shown_and_resumed(tmp_path: Path) -> None:
    code, _, err = await digestbot(tmp_path, "subscribe", "slack:C1", "--workspace", "T0TEAM")
    assert code == 0, err
    store = await Store.open(f"sqlite:///{tmp_path / 'd.db'}")
    try:
        paused_at = datetime(2026, 4, 13, 7, 0, tzinfo=UTC)
        await store.pause_subscription("slack", "C1", "Slack: [red]channel_not_found", paused_at)
    finally:
        await store.aclose()

    code, out, err = await digestbot(tmp_path, "subscriptions")
    assert code == 0, err
    assert "paused: Slack: [red]channel_not_found" in out  # as stored, never rich markup
    assert "Resume a paused one once fixed: digestbot resume DEST" in out
    code, out, err = await digestbot(tmp_path, "status")
    assert code == 0, err
    assert "Subscriptions: 0 active, 1 paused" in out
    assert (
        "  Paused slack:C1 since 2026-04-13 07:00 UTC: Slack: [red]channel_not_found. "
        "Once fixed: digestbot resume slack:C1"
    ) in out

    code, out, err = await digestbot(tmp_path, "resume", "slack:C1")
    assert code == 0, err
    assert out.strip() == (
        "Resumed slack:C1: every Monday 09:00 UTC, all levels. "
        "It was paused: Slack: [red]channel_not_found"
    )
    code, out, err = await digestbot(tmp_path, "resume", "slack:C1")
    assert (code, out.strip()) == (0, "slack:C1 is not paused: every Monday 09:00 UTC, all levels.")
    code, out, err = await digestbot(tmp_path, "subscriptions")
    assert "│ active" in out
    code, _, err = await digestbot(tmp_path, "resume", "slack:C404")
    assert code == 1
    assert "slack:C404 has no subscription" in err


async def test_status_lists_the_next_jobs_only_when_the_schedule_is_on(tmp_path: Path) -> None:
    code, _, err = await digestbot(
        tmp_path, "subscribe", "slack:C1", "--workspace", "T0TEAM", "--day", "wed"
    )
    assert code == 0, err
    code, out, err = await digestbot(tmp_path, "status", DIGEST_SCHEDULE__ENABLED="true")
    assert code == 0, err
    lines = out.splitlines()
    jobs = lines[lines.index("Next jobs of digestbot run:") + 1 :][:3]
    assert sorted(line.rsplit("  ", 1)[1] for line in jobs) == [
        "compose",
        "deliver slack:C1",
        "ingest",
    ]
    assert jobs == sorted(jobs)  # soonest first
    assert "Subscriptions: 1 active, 0 paused (details: digestbot subscriptions)" in out
    assert "Delivery jobs: 0 waiting, 0 failed, 0 skipped" in out

    code, out, err = await digestbot(tmp_path, "status")  # clean_env turns the schedule off
    assert code == 0, err
    assert "The schedule is off (DIGEST_SCHEDULE__ENABLED=false)" in out
    assert "Next jobs" not in out


SETTINGS_FILE = """
timezone = "Europe/Paris"

[[subscriptions]]
platform = "slack"
workspace = "T0TEAM"
channel = "C0FILE"
day = "thu"
time = "08:00"
"""


async def test_the_cli_says_when_the_settings_file_will_win(tmp_path: Path) -> None:
    (tmp_path / "digestbot.toml").write_text(SETTINGS_FILE, encoding="utf-8")
    code, out, err = await digestbot(tmp_path, "subscribe", "slack:C0FILE", "--workspace", "T0TEAM")
    assert code == 0, err
    assert "every Monday 09:00 Europe/Paris" in out  # the file's timezone is the default
    assert (
        "Note: the settings file subscribes slack:C0FILE too; "
        "its entry wins when digestbot run starts."
    ) in out
    code, out, err = await digestbot(tmp_path, "unsubscribe", "slack:C0FILE")
    assert code == 0, err
    assert "or it comes back when digestbot run starts." in out

    (tmp_path / "digestbot.toml").write_text(
        SETTINGS_FILE.replace('"C0FILE"', '"C 0"'), encoding="utf-8"
    )
    code, _, err = await digestbot(tmp_path, "subscriptions")
    assert code == 1
    assert err.strip() == (
        "digestbot: invalid [[subscriptions]] entry #1 channel in digestbot.toml: "
        "'C 0' must be an id: 1-80 letters, digits, '-' or '_'"
    )


async def test_run_seeds_the_settings_files_subscriptions(tmp_path: Path) -> None:
    (tmp_path / "digestbot.toml").write_text(SETTINGS_FILE, encoding="utf-8")
    async with FakeSlack() as slack:
        env = env_for(tmp_path, **slack_env(slack))
        process = await start_digestbot("run", env=env, cwd=tmp_path)
        try:
            await asyncio.wait_for(slack.connected.wait(), timeout=30)
        finally:
            code, _, stderr, _ = await stop_digestbot(process)
        assert code == 0, stderr
    assert "subscriptions from the settings file: 1 created" in stderr
    code, out, err = await digestbot(tmp_path, "subscriptions")
    assert code == 0, err
    (row,) = [line for line in out.splitlines() if "slack:C0FILE" in line]
    assert "every Thursday 08:00 Europe/Paris, all levels" in row
    assert "│ config" in row


def test_every_new_command_has_help(tmp_path: Path) -> None:
    async def helps() -> None:
        for command in ("subscribe", "unsubscribe", "subscriptions", "resume", "status"):
            code, out, err = await digestbot(tmp_path, command, "--help")
            assert code == 0, (command, err)
            assert "Usage" in out

    asyncio.run(helps())
