"""``digestbot run`` as a real process: Socket Mode commands answered, SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.builders import edition_database
from tests.cli_process import clean_env, run_digestbot, slack_env, start_digestbot, stop_digestbot
from tests.conftest import data_file
from tests.fakes.http_server import FakeHttpServer, Reply
from tests.fakes.slack_server import BOT_TOKEN, FakeSlack


async def test_run_answers_commands_and_stops_on_sigterm(
    tmp_path: Path, http_server: FakeHttpServer
) -> None:
    arxiv = http_server.route(
        "/api/query", Reply(body=data_file("arxiv_idlist_2104.12255v1.atom").read_bytes())
    )
    url = await edition_database(tmp_path)
    async with FakeSlack() as slack:
        env = clean_env(
            DIGEST_DATABASE_URL=url, **slack_env(slack), DIGEST_SOURCES__ARXIV__URL=arxiv
        )
        process = await start_digestbot("run", env=env, cwd=tmp_path)
        try:
            await asyncio.wait_for(slack.connected.wait(), timeout=30)
            ack, _ = await slack.slash_command("/digest", "")
            payload = ack["payload"]
            assert isinstance(payload, dict)
            assert payload["text"].startswith("Items in the edition of April 13, 2026: 4")
            fetching, _ = await slack.slash_command("/paper", "2104.12255")
            assert "Fetching arXiv:2104.12255" in str(fetching["payload"])
            await asyncio.wait_for(slack.responded.wait(), timeout=20)
            assert "Quan Thoi Minh Nguyen" in str(slack.responses[0])
        finally:
            code, stdout, stderr, took = await stop_digestbot(process)
        assert code == 0, stderr
        assert took < 10
        assert "Stopped cleanly (slack)." in stdout
        assert BOT_TOKEN not in stdout + stderr


async def test_run_with_nothing_configured_says_what_to_set(tmp_path: Path) -> None:
    env = clean_env(
        DIGEST_DATABASE_URL=f"sqlite:///{tmp_path / 'd.db'}", DIGEST_WEB__ENABLED="false"
    )
    code, _, stderr = await run_digestbot("run", env=env, cwd=tmp_path, limit_s=60)
    assert code == 1
    assert "nothing to run: set SLACK_BOT_TOKEN with SLACK_APP_TOKEN" in stderr
