"""``digestbot rewrite`` as a real process: stored history, edits in place on both fakes.

The model is the fake OpenAI server (it enforces output limits and strict schemas); Slack
and Discord are the fakes, reached by the real slack_sdk and discord.py clients.
"""

from __future__ import annotations

import json
from pathlib import Path

from bot.domain import JobState
from storage.store import Store
from tests.builders import PAPER_ID, edition_database
from tests.cli_process import clean_env, run_digestbot, slack_env
from tests.fakes import discord_server
from tests.fakes.discord_server import TEXT_CHANNEL, FakeDiscord
from tests.fakes.openai_server import ChatAnswer, ChatRequest, FakeOpenAI
from tests.fakes.slack_server import FakeSlack

ANSWER = {
    "why": "Ledgerline records every agent action through execution traces and audit logs. "
    "That lets teams judge safety and robustness, not just final outputs.",
    "difficulty": "advanced",
    "takeaways": [
        "Final-output benchmarks miss how agents reach their answers.",
        "Execution traces and audit logs make agent failures visible.",
        "Safety checks belong in every agent evaluation.",
    ],
}


async def test_rewrite_of_an_undelivered_item_changes_the_summary_and_keeps_history(
    tmp_path: Path,
) -> None:
    url = await edition_database(tmp_path)
    env = clean_env(DIGEST_DATABASE_URL=url)
    code, out, err = await run_digestbot(
        "rewrite", "2604.31415", "--note", "for newcomers", env=env, cwd=tmp_path
    )
    assert code == 0, err
    assert "Rewrote “Ledgerline" in out
    assert "version 1, offline." in out
    assert "Not delivered anywhere yet: nothing to edit." in out
    store = await Store.open(url)
    try:
        edition = await store.edition()
        assert edition is not None
        (entry,) = [e for e in edition.entries if e.item.content.canonical_id == PAPER_ID]
        (revision,) = await store.summary_history(edition.id, entry.position)
        assert (revision.by, revision.note) == ("cli", "for newcomers")
        assert entry.updated_at is not None
    finally:
        await store.aclose()
    code, out, _ = await run_digestbot("preview", env=env, cwd=tmp_path)
    assert code == 0
    assert "✎ Updated" in out


async def test_rewrite_edits_the_delivered_replies_in_place_once(tmp_path: Path) -> None:
    url = await edition_database(tmp_path)

    def answer(request: ChatRequest) -> ChatAnswer:
        return ChatAnswer.json(ANSWER)

    async with FakeSlack() as slack, FakeDiscord() as discord, FakeOpenAI(answer) as model:
        env = clean_env(
            DIGEST_DATABASE_URL=url,
            **slack_env(slack),
            DIGEST_SLACK__MIN_INTERVAL_S="0",
            DISCORD_BOT_TOKEN=discord_server.BOT_TOKEN,
            DISCORD_API_URL=discord.api_url,
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL=model.base_url,
        )
        code, _, err = await run_digestbot(
            "publish", "--to", "slack:C0DIGEST", "--to", f"discord:{TEXT_CHANNEL}",
            env=env, cwd=tmp_path,
        )  # fmt: skip
        assert code == 0, err
        slack_before = [dict(m) for m in slack.messages["C0DIGEST"]]
        (thread,) = discord.threads_of(TEXT_CHANNEL)
        discord_before = [dict(m) for m in discord.posts(thread["id"])]

        code, out, err = await run_digestbot(
            "rewrite", "https://arxiv.org/abs/2604.31415v1", "--note", "Stress the safety angle",
            "--by", "editor", env=env, cwd=tmp_path,
        )  # fmt: skip
        assert code == 0, err
        assert "version 1 by" in out
        assert "Delivered copies: 2 edited in place, 0 already current." in out
        (request,) = model.requests
        assert "<editor_note>\nStress the safety angle\n</editor_note>" in request.user

        # Slack: same ts, new text, the mark; nothing new posted.
        after = slack.messages["C0DIGEST"]
        assert [m["ts"] for m in after] == [m["ts"] for m in slack_before]
        changed = [(b, a) for b, a in zip(slack_before, after, strict=True) if b != a]
        ((old, new),) = changed
        assert "Ledgerline records every agent action" in json.dumps(new["blocks"])
        assert "✎ Updated" in json.dumps(new["blocks"], ensure_ascii=False)
        assert old["blocks"] != new["blocks"]
        # Discord: same message id, new embed, the mark; nothing new posted.
        replies = discord.posts(thread["id"])
        assert [m["id"] for m in replies] == [m["id"] for m in discord_before]
        edited = [m for m in replies if m["edited_timestamp"] is not None]
        (message,) = edited
        assert "✎ Updated" in message["embeds"][0]["description"]
        assert "Ledgerline records every agent action" in message["embeds"][0]["description"]

        # Run again with the edits already applied: the new version is edited once more, and
        # no job from the first rewrite is applied twice.
        updates = len([c for c in slack.calls if c[0] == "chat.update"])
        code, out, err = await run_digestbot("rewrite", "2604.31415", env=env, cwd=tmp_path)
        assert code == 0, err
        assert "version 2" in out
        assert len([c for c in slack.calls if c[0] == "chat.update"]) == updates + 1

    store = await Store.open(url)
    try:
        done = await store.edit_jobs([JobState.DONE])
        assert len(done) == 4
        assert await store.edit_jobs([JobState.PENDING, JobState.CLAIMED]) == []
    finally:
        await store.aclose()


async def test_an_unknown_item_is_one_line_and_exit_1(tmp_path: Path) -> None:
    url = await edition_database(tmp_path)
    env = clean_env(DIGEST_DATABASE_URL=url)
    code, _, err = await run_digestbot("rewrite", "2603.09999", env=env, cwd=tmp_path)
    assert code == 1
    assert err.strip().splitlines() == [
        "digestbot: arxiv:2603.09999 is in no edition; only featured items can be rewritten"
    ]
    code, _, err = await run_digestbot("rewrite", "what is this", env=env, cwd=tmp_path)
    assert code == 1
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = await run_digestbot("rewrite", env=env, cwd=tmp_path)
    assert code == 2
