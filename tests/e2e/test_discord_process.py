"""``digestbot publish --to discord:…`` and ``digestbot run`` with Discord, as real processes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.builders import edition_database
from tests.cli_process import clean_env, run_digestbot, start_digestbot, stop_digestbot
from tests.conftest import data_file
from tests.fakes.discord_server import ADMIN_ID, BOT_TOKEN, TEXT_CHANNEL, FakeDiscord
from tests.fakes.http_server import FakeHttpServer, Reply


async def test_publish_to_discord_posts_once_and_resumes(tmp_path: Path) -> None:
    url = await edition_database(tmp_path)
    async with FakeDiscord() as discord:
        env = clean_env(
            DIGEST_DATABASE_URL=url,
            DISCORD_BOT_TOKEN=BOT_TOKEN,
            DISCORD_API_URL=discord.api_url,
        )
        to = f"discord:{TEXT_CHANNEL}"
        code, out, err = await run_digestbot("publish", "--to", to, env=env, cwd=tmp_path)
        assert code == 0, err
        assert f"{to}: 5 sent, 0 already there, 0 recovered; complete" in out
        code, out, err = await run_digestbot("publish", "--to", to, env=env, cwd=tmp_path)
        assert code == 0, err
        assert "0 sent, 5 already there" in out
        (thread,) = discord.threads_of(TEXT_CHANNEL)
        assert len(discord.posts(TEXT_CHANNEL)) == 1
        assert len(discord.posts(thread["id"])) == 4

        code, out, err = await run_digestbot(
            "publish", "--to", "discord:1400000000000000404", env=env, cwd=tmp_path
        )
        assert code == 1
        assert "was not found (deleted, or the bot was removed)" in out
        assert BOT_TOKEN not in out + err

        env["DISCORD_BOT_TOKEN"] = "not.the.token"
        code, _, err = await run_digestbot("publish", "--to", to, env=env, cwd=tmp_path)
        assert code == 1
        assert "Discord refused DISCORD_BOT_TOKEN" in err
        assert "not.the.token" not in err


async def test_run_answers_discord_commands_and_stops_on_sigterm(
    tmp_path: Path, http_server: FakeHttpServer
) -> None:
    arxiv = http_server.route(
        "/api/query", Reply(body=data_file("arxiv_idlist_2104.12255v1.atom").read_bytes())
    )
    url = await edition_database(tmp_path)
    async with FakeDiscord() as discord:
        env = clean_env(
            DIGEST_DATABASE_URL=url,
            DISCORD_BOT_TOKEN=BOT_TOKEN,
            DISCORD_API_URL=discord.api_url,
            DISCORD_GATEWAY_URL=discord.gateway_url,
            DIGEST_DISCORD__GUILD_READY_TIMEOUT_S="0.05",
            DIGEST_SOURCES__ARXIV__URL=arxiv,
        )
        process = await start_digestbot("run", env=env, cwd=tmp_path)
        try:
            digest = await discord.interact("digest", [])
            await asyncio.wait_for(digest.done.wait(), timeout=30)
            assert digest.answer["data"]["content"].startswith(
                "Items in the edition of April 13, 2026: 4"
            )
            paper = await discord.interact(
                "paper", [{"name": "query", "type": 3, "value": "2104.12255"}]
            )
            await asyncio.wait_for(paper.done.wait(), timeout=20)
            assert paper.answer["type"] == 5
            assert "Quan Thoi Minh Nguyen" in str(paper.followups[0])
            published = await discord.interact(
                "digest-admin", [{"name": "publish", "type": 1, "options": []}], user_id=ADMIN_ID
            )
            await asyncio.wait_for(published.done.wait(), timeout=20)
            assert "5 messages sent" in str(published.followups[0])
        finally:
            code, stdout, stderr, took = await stop_digestbot(process)
        assert code == 0, stderr
        assert took < 10
        assert "Stopped cleanly (discord)." in stdout
        assert BOT_TOKEN not in stdout + stderr
        assert len(discord.posts(TEXT_CHANNEL)) == 1
        assert discord.command_puts == 1
