"""With DIGEST_PUBLIC_URL, chat messages link the web archive: real processes, the fake Slack."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.builders import PAPER_ID, edition_database
from tests.cli_process import clean_env, run_digestbot, start_digestbot, stop_digestbot
from tests.fakes.slack_server import APP_TOKEN, BOT_TOKEN, FakeSlack

PUBLIC = "https://digest.example/archive/"
EDITION_PAGE = "https://digest.example/archive/editions/2026-04-13"
ITEM_PAGE = f"https://digest.example/archive/items/{PAPER_ID}"


async def test_the_parent_reads_on_the_web_and_each_item_links_its_page(tmp_path: Path) -> None:
    url = await edition_database(tmp_path)
    async with FakeSlack() as slack:
        env = clean_env(
            DIGEST_DATABASE_URL=url,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_APP_TOKEN=APP_TOKEN,
            SLACK_API_URL=slack.api_url,
            DIGEST_PUBLIC_URL=PUBLIC,
        )
        code, _, err = await run_digestbot(
            "publish", "--to", "slack:C0DIGEST", env=env, cwd=tmp_path
        )
        assert code == 0, err
        parent, first, *others = slack.messages["C0DIGEST"]
    assert f"<{EDITION_PAGE}|Read on the web>" in json.dumps(parent["blocks"])
    assert f"<{ITEM_PAGE}|On the web>" in json.dumps(first["blocks"])
    posts = [json.dumps(m["blocks"]) for m in others]
    assert all("https://digest.example/archive/items/https:%2F%2F" in p for p in posts)


async def test_without_a_public_url_no_message_links_the_archive(tmp_path: Path) -> None:
    url = await edition_database(tmp_path)
    async with FakeSlack() as slack:
        env = clean_env(
            DIGEST_DATABASE_URL=url,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_APP_TOKEN=APP_TOKEN,
            SLACK_API_URL=slack.api_url,
        )
        code, _, err = await run_digestbot(
            "publish", "--to", "slack:C0DIGEST", env=env, cwd=tmp_path
        )
        assert code == 0, err
        sent = json.dumps([m["blocks"] for m in slack.messages["C0DIGEST"]])
    assert "on the web" not in sent.lower()


async def test_paper_answers_link_the_items_page(tmp_path: Path) -> None:
    url = await edition_database(tmp_path)
    async with FakeSlack() as slack:
        env = clean_env(
            DIGEST_DATABASE_URL=url,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_APP_TOKEN=APP_TOKEN,
            SLACK_API_URL=slack.api_url,
            DIGEST_PUBLIC_URL=PUBLIC,
        )
        process = await start_digestbot("run", env=env, cwd=tmp_path)
        try:
            await asyncio.wait_for(slack.connected.wait(), timeout=30)
            card, _ = await slack.slash_command("/paper", "2604.31415")
            words, _ = await slack.slash_command("/paper", "ledgerline")
        finally:
            code, _, stderr, _ = await stop_digestbot(process)
        assert code == 0, stderr
    assert f"<{ITEM_PAGE}|On the web>" in json.dumps(card["payload"])
    assert ITEM_PAGE in json.dumps(words["payload"])
