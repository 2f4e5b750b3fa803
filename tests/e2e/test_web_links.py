"""With DIGEST_PUBLIC_URL, chat messages link the web archive: real processes, the fake Slack."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from tests.builders import PAPER_ID, edition_database
from tests.cli_process import (
    clean_env,
    run_digestbot,
    slack_env,
    start_digestbot,
    stop_digestbot,
)
from tests.fakes.slack_server import FakeSlack

PUBLIC = "https://digest.example/archive/"
EDITION_PAGE = "https://digest.example/archive/editions/2026-04-13"
ITEM_PAGE = f"https://digest.example/archive/items/{PAPER_ID}"


async def published(folder: Path, **settings: str) -> list[dict[str, Any]]:
    """Return the Slack messages of ``digestbot publish`` of a stored edition to one channel."""
    url = await edition_database(folder)
    async with FakeSlack() as slack:
        env = clean_env(DIGEST_DATABASE_URL=url, **slack_env(slack), **settings)
        code, _, err = await run_digestbot("publish", "--to", "slack:C0DIGEST", env=env, cwd=folder)
        assert code == 0, err
        return slack.messages["C0DIGEST"]


async def test_the_parent_reads_on_the_web_and_each_item_links_its_page(tmp_path: Path) -> None:
    parent, first, *others = await published(tmp_path, DIGEST_PUBLIC_URL=PUBLIC)
    assert f"<{EDITION_PAGE}|Read on the web>" in json.dumps(parent["blocks"])
    assert f"<{ITEM_PAGE}|On the web>" in json.dumps(first["blocks"])
    posts = [json.dumps(m["blocks"]) for m in others]
    assert all("https://digest.example/archive/items/https:%2F%2F" in p for p in posts)


async def test_without_a_public_url_no_message_links_the_archive(tmp_path: Path) -> None:
    sent = json.dumps([m["blocks"] for m in await published(tmp_path)])
    assert "on the web" not in sent.lower()


async def test_paper_answers_link_the_items_page(tmp_path: Path) -> None:
    url = await edition_database(tmp_path)
    async with FakeSlack() as slack:
        env = clean_env(DIGEST_DATABASE_URL=url, **slack_env(slack), DIGEST_PUBLIC_URL=PUBLIC)
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
