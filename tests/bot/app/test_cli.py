"""The ``digestbot`` command line as a user runs it: a subprocess, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from adapters.sources.sample import HF_DAYS, hf_day_file, sample_bytes
from tests.conftest import data_file

ROOT = Path(__file__).resolve().parents[2]


def digestbot(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the console script's entry point in a fresh interpreter, offline, with no stdin."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DIGEST_", "OPENAI_"))}
    return subprocess.run(  # noqa: S603 - our own interpreter and entry point
        [sys.executable, "-c", "from bot.app.cli import main; main()", *args],
        cwd=cwd,
        env=clean | (env or {}),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def test_demo_ingests_the_bundled_sample_data_offline(tmp_path: Path) -> None:
    result = digestbot("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    output = result.stdout
    for source in ("hf", "arxiv", "willison", "interconnects", "openai", "manual"):
        assert source in output
    assert "FAILED" not in output
    assert "Nothing changed: every item was already stored and up to date." in output
    assert "Composed the edition of" in output
    assert "\nLLM News Digest\n" in output
    assert output.count("\nTakeaways\n") == 12 + 1  # the edition, then the /paper card
    assert "> /digest difficulty:accessible" in output
    assert "Accessible items in the edition of" in output
    assert "> /paper " in output
    assert "From the edition of" in output
    assert not list(tmp_path.iterdir()), "the demo must not leave files behind"


def test_the_demo_composes_the_edition_of_2026_04_13_from_that_weeks_papers(
    tmp_path: Path,
) -> None:
    database = f"sqlite:///{tmp_path / 'demo.db'}"
    started = time.monotonic()
    demo = digestbot("demo", "--database", database, cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert time.monotonic() - started < 30
    env = {"DIGEST_DATABASE_URL": database}
    shown = digestbot(
        "preview", "--edition", "2026-04-13", "--format", "json", cwd=tmp_path, env=env
    )
    edition = json.loads(shown.stdout)
    assert edition["date"] == "2026-04-13"
    # Every item is a paper HF listed in the week (Tuesday 7 to Monday 13 April), the
    # editor's pick included: read from the bundled recorded lists, not named here.
    listed: dict[str, int] = {}
    for day in HF_DAYS:
        assert date(2026, 4, 7) <= day <= date(2026, 4, 13)
        for record in json.loads(sample_bytes(hf_day_file(day)))["papers"]:
            listed[record["id"]] = record["upvotes"]
    assert len(edition["items"]) == 12
    assert {item["arxiv_id"] for item in edition["items"]} <= set(listed)
    (pick,) = [item for item in edition["items"] if item["source"] == "manual"]
    assert re.search(r"\bagent", pick["title"].lower())
    assert "2104.12255" not in shown.stdout


def test_unknown_source_is_bad_usage_with_the_valid_names(tmp_path: Path) -> None:
    result = digestbot("ingest", "--source", "nosuch", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown source nosuch" in result.stderr
    assert "hf, arxiv, willison" in result.stderr


def test_a_wrong_setting_fails_with_one_line(tmp_path: Path) -> None:
    result = digestbot("status", cwd=tmp_path, env={"DIGEST_HTTP_PORT": "eighty"})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "digestbot: invalid setting http.port (DIGEST_HTTP_PORT or [http] port in "
        "digestbot.toml): Input should be a valid integer, unable to parse string as an integer"
    ]


def test_a_bad_database_url_is_one_clear_line(tmp_path: Path) -> None:
    result = digestbot("status", cwd=tmp_path, env={"DIGEST_DATABASE_URL": "nosuchdb://x"})
    assert result.returncode == 1
    assert "DIGEST_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_submit_then_status_shows_the_waiting_pick(tmp_path: Path) -> None:
    env = {"DIGEST_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}"}
    queued = digestbot(
        "submit", "https://example.org/post", "--note", "good", cwd=tmp_path, env=env
    )
    assert queued.returncode == 0, queued.stderr
    assert "Queued pick #1" in queued.stdout
    status = digestbot("status", cwd=tmp_path, env=env)
    assert status.returncode == 0, status.stderr
    assert "Editors' picks waiting for the next ingest: 1" in status.stdout


def test_submit_refuses_a_link_that_is_not_http(tmp_path: Path) -> None:
    result = digestbot("submit", "file:///etc/passwd", cwd=tmp_path)
    assert result.returncode == 2
    assert "not a usable link" in result.stderr


def test_every_command_has_help(tmp_path: Path) -> None:
    for command in (
        ["--help"],
        ["ingest", "--help"],
        ["db", "upgrade", "--help"],
        ["demo", "--help"],
    ):
        result = digestbot(*command, cwd=tmp_path)
        assert result.returncode == 0, (command, result.stderr)
        assert "Usage" in result.stdout


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    env = {"DIGEST_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    result = digestbot("db", "upgrade", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "fresh.db").exists()
    assert "latest schema" in result.stdout


def test_compose_then_preview_in_every_format(tmp_path: Path) -> None:
    env = {"DIGEST_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}"}
    empty = digestbot("compose", "--date", "2026-04-13", cwd=tmp_path, env=env)
    assert empty.returncode == 0, empty.stderr
    assert (
        "No edition: no edition for 2026-04-13: no new items: none dated 2026-04-07" in empty.stdout
    )
    status = digestbot("status", cwd=tmp_path, env=env)
    assert "skipped: no edition for 2026-04-13" in status.stdout
    assert "LLM this week: 0 calls, 0 tokens, $0.00" in status.stdout

    missing = digestbot("preview", cwd=tmp_path, env=env)
    assert missing.returncode == 1
    assert "no edition latest; run: digestbot compose" in missing.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compose", "--date", "2026-04-15"], "is a Wednesday; editions are dated on Mondays"),
        (["compose", "--date", "next week"], "--date must look like 2026-04-13"),
        (["preview", "--format", "pdf"], "'pdf' is not one of 'text', 'markdown', 'json'"),
        (["preview", "--edition", "last"], "--edition must be latest, an id or a date"),
    ],
)
def test_bad_compose_and_preview_options_are_usage_errors(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = digestbot(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["ingest", "--source", "hf", "--date", "2999-01-04"],
            "--date 2999-01-04 is in the future",
        ),
        (["ingest", "--date", "1999-12-31"], "--date 1999-12-31 is before 2000-01-01"),
        (["ingest", "--date", "April 13"], "--date must look like 2026-04-13"),
        (
            ["ingest", "--since", "2026-04-13", "--until", "2026-04-07"],
            "--since 2026-04-13 is after --until 2026-04-07",
        ),
        (["ingest", "--date", "2026-04-13", "--since", "2026-04-07"], "either --date or --since"),
        (["ingest", "--until", "2026-04-13"], "--until needs --since"),
        (
            ["backfill", "--since", "2026-04-13", "--until", "2026-04-07"],
            "--since 2026-04-13 is after --until 2026-04-07",
        ),
        (["backfill", "--since", "2999-01-01"], "is in the future"),
        (["candidates", "--date", "2026-04-15"], "is a Wednesday; editions are dated on Mondays"),
        (["candidates", "--format", "csv"], "'csv' is not one of 'text', 'json'"),
    ],
)
def test_bad_dates_are_refused_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = digestbot(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "digest.db").exists(), "refused before opening the store"


def test_candidates_lists_the_weeks_ranking_as_json(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'demo.db'}"
    assert digestbot("demo", "--database", database, cwd=tmp_path).returncode == 0
    env = {"DIGEST_DATABASE_URL": database}
    shown = digestbot(
        "candidates", "--date", "2026-04-13", "--limit", "40", "--format", "json",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    ranked = json.loads(shown.stdout)
    assert isinstance(ranked, list)
    assert len(ranked) == 40
    keys = {"canonical_id", "arxiv_id", "title", "score", "reason", "picked"}
    assert all(keys <= set(candidate) for candidate in ranked)
    assert all(isinstance(c["score"], float) and isinstance(c["picked"], bool) for c in ranked)
    scores = [c["score"] for c in ranked]
    assert scores == sorted(scores, reverse=True)
    assert any(c["picked"] for c in ranked)
    assert all(c["reason"].startswith(("topics: ", "no profile topic")) for c in ranked)
    assert any("upvotes" in c["reason"] for c in ranked)
    text = digestbot("candidates", "--date", "2026-04-13", "--limit", "3", cwd=tmp_path, env=env)
    assert text.returncode == 0, text.stderr
    assert "Candidates for the edition of 2026-04-13" in text.stdout
    assert "No taste learned yet: 0 past picks (it learns from 6 on)" in text.stdout

    # A past edition imported: its five items are counted, not yet enough to learn from.
    history = data_file("history/invented_edition.txt")
    assert digestbot("import", str(history), cwd=tmp_path, env=env).returncode == 0
    text = digestbot("candidates", "--date", "2026-04-13", "--limit", "3", cwd=tmp_path, env=env)
    assert "No taste learned yet: 5 past picks (it learns from 6 on)" in text.stdout
