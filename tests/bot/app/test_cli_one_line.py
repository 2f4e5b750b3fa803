"""Failures a hostile run found printing tracebacks: each is now one line and an exit code."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from storage.store import Store
from tests.bot.app.test_cli import digestbot
from tests.builders import an_edition


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.strip().splitlines() if line.startswith("digestbot:")]
    assert len(lines) == 1, stderr
    return lines[0]


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'digest.db'}"


def with_edition(tmp_path: Path) -> str:
    async def make() -> None:
        store = await Store.open(sqlite_url(tmp_path))
        try:
            await an_edition(store)
        finally:
            await store.aclose()

    asyncio.run(make())
    return sqlite_url(tmp_path)


@pytest.mark.parametrize("command", [["status"], ["preview"], ["db", "upgrade"]])
def test_a_database_from_a_newer_digestbot_is_said_so(tmp_path: Path, command: list[str]) -> None:
    url = with_edition(tmp_path)
    with sqlite3.connect(tmp_path / "digest.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f00dfacefeed'")
    result = digestbot(*command, cwd=tmp_path, env={"DIGEST_DATABASE_URL": url})
    assert result.returncode == 1
    assert "newer than this digestbot" in one_line(result.stderr)


def test_a_database_url_without_its_driver_is_one_line(tmp_path: Path) -> None:
    url = "mysql://reader:S3cretPw@127.0.0.1/digest"
    result = digestbot("status", cwd=tmp_path, env={"DIGEST_DATABASE_URL": url})
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "no driver" in line
    assert "S3cretPw" not in result.stderr
    assert "reader" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["compose", "--date", "0001-01-01"],
        ["compose", "--date", "9999-12-27"],
        ["preview", "--edition", "99999999999999999999"],
        ["publish", "--to", "slack:C1", "--edition", "99999999999999999999"],
        ["submit", "https://example.com/pick", "--by", "b" * 201],
        ["submit", "https://example.com/pick", "--note", "n" * 5000],
    ],
    ids=[
        "compose-year-1",
        "compose-year-9999",
        "preview-huge-id",
        "publish-huge-id",
        "submit-long-by",
        "submit-long-note",
    ],
)
def test_absurd_arguments_are_bad_usage_in_one_line(tmp_path: Path, args: list[str]) -> None:
    env = {"DIGEST_DATABASE_URL": sqlite_url(tmp_path), "SLACK_BOT_TOKEN": "xoxb-x",
           "SLACK_APP_TOKEN": "xapp-x"}  # fmt: skip
    result = digestbot(*args, cwd=tmp_path, env=env)
    assert result.returncode == 2, result.stderr
    one_line(result.stderr)


def test_publishing_to_an_unreachable_slack_is_one_line_and_fails(tmp_path: Path) -> None:
    env = {
        "DIGEST_DATABASE_URL": with_edition(tmp_path),
        "SLACK_BOT_TOKEN": "xoxb-x",
        "SLACK_APP_TOKEN": "xapp-x",
        "SLACK_API_URL": "http://127.0.0.1:1/api/",
    }
    result = digestbot("publish", "--to", "slack:C0DIGEST", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "Slack unreachable" in result.stdout
    one_line(result.stderr)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SLACK_API_URL", "https://zorro:Hunter2pw@slack.example/api/"),
        ("DISCORD_API_URL", "https://zorro:Hunter2pw@discord.example/api/v10"),
        ("OPENAI_BASE_URL", "https://zorro:Hunter2pw@llm.example/v1"),
    ],
)
def test_credentials_in_an_endpoint_url_are_refused_unprinted(
    tmp_path: Path, name: str, value: str
) -> None:
    result = digestbot("status", cwd=tmp_path, env={name: value})
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert name in line
    assert "credentials" in line
    assert "Hunter2pw" not in result.stderr + result.stdout
    assert "zorro" not in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DIGEST_SCHEDULE__STALE_AFTER_HOURS", "inf"),
        ("DIGEST_SCHEDULE__STALE_AFTER_HOURS", "nan"),
        ("DIGEST_SCHEDULE__LEASE_S", "1e300"),
        ("DIGEST_SCHEDULE__RETRY_BASE_S", "1e300"),
        ("DIGEST_SCHEDULE__MAX_ATTEMPTS", "99999999999"),
        ("DIGEST_SCHEDULE__POLL_S", "inf"),
        ("DIGEST_SCHEDULE__PLAN_EVERY_S", "1e300"),
        ("DIGEST_SOURCES__SEMANTIC_SCHOLAR__REFRESH_HOURS", "99999999999"),
        ("DIGEST_SOURCES__ARXIV__MIN_INTERVAL_S", "inf"),
        ("DIGEST_SOURCES__MAX_BYTES", "99999999999999"),
        ("DIGEST_SOURCES__INPUT_USD_PER_MTOK", "inf"),
        ("DIGEST_SLACK__MIN_INTERVAL_S", "1e300"),
        ("DIGEST_LLM__EDITION_TOKEN_BUDGET", "99999999999999"),
        ("DIGEST_LLM__OUTPUT_USD_PER_MTOK", "nan"),
        ("DIGEST_DISCORD__SHARD_COUNT", "99999999999"),
    ],
)
def test_a_number_out_of_its_sane_range_is_a_one_line_settings_error(
    tmp_path: Path, name: str, value: str
) -> None:
    result = digestbot("status", cwd=tmp_path, env={name: value})
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert line.startswith("digestbot: invalid setting"), line
    assert name in line


def test_a_missing_profile_file_is_one_line_naming_its_setting(tmp_path: Path) -> None:
    env = {"DIGEST_PROFILE_PATH": str(tmp_path / "our-profile.md")}
    result = digestbot("compose", cwd=tmp_path, env=env)
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert line.startswith("digestbot: invalid setting profile_path (DIGEST_PROFILE_PATH"), line
    assert "cannot read the profile" in line
