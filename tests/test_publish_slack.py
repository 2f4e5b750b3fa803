"""``digestbot publish --to slack:CHANNEL`` as a real subprocess against the fake Slack."""

from __future__ import annotations

from pathlib import Path

from storage.store import Store
from tests.bot.test_deliver import an_edition
from tests.cli_process import clean_env, run_digestbot
from tests.fakes.slack_server import BOT_TOKEN, FakeSlack


async def test_publish_posts_the_latest_edition_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    store = await Store.open(url)
    try:
        await an_edition(store)
    finally:
        await store.aclose()
    async with FakeSlack() as slack:
        env = clean_env(
            DIGEST_DATABASE_URL=url,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_APP_TOKEN="xapp-fake",
            SLACK_API_URL=slack.api_url,
        )
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
