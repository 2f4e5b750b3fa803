"""``--version``, shell completion, ``--json`` and the read-only commands, as real processes."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from importlib.metadata import version
from pathlib import Path

import pytest

from bot.domain import Subscription
from storage.db import head_revision, upgrade
from storage.store import Store
from tests.bot.app.test_cli import digestbot
from tests.builders import COMPOSED_AT, an_edition

VERSION = version("llm-news-digest")


def with_edition_and_subscription(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'digest.db'}"

    async def make() -> None:
        store = await Store.open(url)
        try:
            await an_edition(store)
            paris = Subscription("slack", "T0TEAM", "C0DIGEST", 4, "16:30", "Europe/Paris", None)
            await store.subscribe(paris, "cli", COMPOSED_AT)
            await store.pause_subscription("slack", "C0DIGEST", "Slack: is_archived", COMPOSED_AT)
        finally:
            await store.aclose()

    asyncio.run(make())
    return {"DIGEST_DATABASE_URL": url}


def test_version_comes_from_the_package_metadata(tmp_path: Path) -> None:
    result = digestbot("--version", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, f"digestbot {VERSION}\n")
    assert not list(tmp_path.iterdir()), "--version reads no settings and opens no database"


def test_help_lists_the_everyday_commands_first_and_offers_completion(tmp_path: Path) -> None:
    shown = digestbot("--help", cwd=tmp_path, env={"COLUMNS": "120"}).stdout
    for option in ("--version", "--install-completion", "--show-completion"):
        assert option in shown
    order = [
        "ingest", "submit", "status", "compose", "preview", "publish", "rewrite", "run", "demo",
        "backfill", "candidates", "import", "subscribe", "doctor", "db", "config",
    ]  # fmt: skip
    places = [shown.index(f"│ {name} ") for name in order]
    assert places == sorted(places)


def test_the_shell_completes_command_names_and_format_choices(tmp_path: Path) -> None:
    # What the script of --install-completion asks (it detects the user's shell from the
    # process tree, which a test run may not have): the words completed after the cursor.
    assert "--install-completion" in digestbot("--help", cwd=tmp_path).stdout
    env = {"_DIGESTBOT_COMPLETE": "complete_bash", "COMP_WORDS": "digestbot sta", "COMP_CWORD": "1"}
    assert digestbot(cwd=tmp_path, env=env).stdout.split() == ["status"]
    env |= {"COMP_WORDS": "digestbot preview --format ", "COMP_CWORD": "3"}
    assert digestbot(cwd=tmp_path, env=env).stdout.split() == ["text", "markdown", "json"]


def test_help_shows_the_format_choices(tmp_path: Path) -> None:
    shown = digestbot("preview", "--help", cwd=tmp_path, env={"COLUMNS": "120"}).stdout
    assert "text|markdown|json" in shown
    shown = digestbot("candidates", "--help", cwd=tmp_path, env={"COLUMNS": "120"}).stdout
    assert "text|json" in shown


def test_an_unknown_option_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = digestbot("status", "--nope", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "digestbot: No such option: --nope (see: digestbot status --help)\n"


def test_status_json_is_one_stable_object(tmp_path: Path) -> None:
    env = with_edition_and_subscription(tmp_path)
    text = digestbot("status", cwd=tmp_path, env=env)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith(f"digestbot {VERSION}\n")
    result = digestbot("status", "--json", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["format"] == 1
    assert report["version"] == VERSION
    assert report["last_compose"]["edition_date"] == "2026-04-13"
    assert report["last_compose"]["outcome"] == "composed"
    assert report["subscriptions"]["active"] == 0
    assert report["subscriptions"]["paused"] == 1
    (paused,) = report["subscriptions"]["items"]
    assert paused["paused_reason"] == "Slack: is_archived"
    assert report["delivery_jobs"] == {
        "waiting": 0,
        "failed": 0,
        "skipped": 0,
        "recent_failures": [],
    }
    assert report["llm"]["calls"] == 0
    assert report["feedback"]["up"] == 0
    assert report["schedule_enabled"] is True
    assert {job["name"] for job in report["next_jobs"]} == {"ingest", "compose"}


def test_subscriptions_json_lists_each_with_its_schedule(tmp_path: Path) -> None:
    env = with_edition_and_subscription(tmp_path)
    result = digestbot("subscriptions", "--json", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert listed["subscriptions"] == [
        {
            "destination": "slack:C0DIGEST",
            "platform": "slack",
            "workspace": "T0TEAM",
            "channel": "C0DIGEST",
            "day": "fri",
            "time": "16:30",
            "timezone": "Europe/Paris",
            "difficulty": None,
            "active": False,
            "paused_reason": "Slack: is_archived",
            "paused_at": "2026-04-13T06:00:00+00:00",
            "created_by": "cli",
            "created_at": "2026-04-13T06:00:00+00:00",
            "next_delivery": None,
            "last_delivery": None,
        }
    ]


@pytest.mark.parametrize(
    "command",
    [["status"], ["status", "--json"], ["preview"], ["subscriptions"], ["candidates"]],
)
def test_read_only_commands_never_create_the_database(tmp_path: Path, command: list[str]) -> None:
    result = digestbot(*command, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "digestbot: there is no database at digest.db yet; create it with: digestbot db upgrade\n"
    )
    assert not (tmp_path / "digest.db").exists()


@pytest.mark.parametrize("command", [["status"], ["preview"], ["subscriptions"], ["candidates"]])
def test_read_only_commands_never_migrate_an_older_database(
    tmp_path: Path, command: list[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0010")
    result = digestbot(*command, cwd=tmp_path, env={"DIGEST_DATABASE_URL": url})
    assert result.returncode == 1
    assert result.stderr == (
        "digestbot: the database's schema is older than this digestbot's "
        f"(0010, latest {head_revision()}); run: digestbot db upgrade\n"
    )
    with sqlite3.connect(tmp_path / "old.db") as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [
            ("0010",)
        ]
    if command == ["status"]:
        # A writing command still migrates, as DESIGN.md says every command does.
        env = {"DIGEST_DATABASE_URL": url}
        submit = digestbot("submit", "https://example.org/p", cwd=tmp_path, env=env)
        assert submit.returncode == 0, submit.stderr
        status = digestbot("status", cwd=tmp_path, env=env)
        assert status.returncode == 0, status.stderr
        assert "Editors' picks waiting for the next ingest: 1" in status.stdout
