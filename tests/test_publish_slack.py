"""``digestbot publish --to slack:CHANNEL`` as a real subprocess against the fake Slack."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from storage.store import Store
from tests.bot.test_deliver import an_edition
from tests.fakes.slack_server import BOT_TOKEN, FakeSlack


async def run_cli(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        *args,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_publish_posts_the_latest_edition_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    store = await Store.open(url)
    try:
        await an_edition(store)
    finally:
        await store.aclose()
    async with FakeSlack() as slack:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DIGEST_", "OPENAI_", "SLACK_"))
        }
        env |= {
            "DIGEST_DATABASE_URL": url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": "xapp-fake",
            "SLACK_API_URL": slack.api_url,
        }
        code, out, err = await run_cli("publish", "--to", "slack:C0DIGEST", env=env, cwd=tmp_path)
        assert code == 0, err
        assert "slack:C0DIGEST: 5 sent, 0 already there, 0 recovered; complete" in out
        code, out, err = await run_cli("publish", "--to", "slack:C0DIGEST", env=env, cwd=tmp_path)
        assert code == 0, err
        assert "0 sent, 5 already there" in out
        assert len(slack.messages["C0DIGEST"]) == 5

        code, out, err = await run_cli("publish", "--to", "slack:C0GONE", env=env, cwd=tmp_path)
        assert code == 1
        assert "stopped: Slack: channel_not_found" in out
        assert BOT_TOKEN not in out + err

    code, _, err = await run_cli("publish", "--to", "teams:X", env=env, cwd=tmp_path)
    assert code == 2
    assert "use slack:CHANNEL_ID or discord:CHANNEL_ID" in err
    env.pop("SLACK_BOT_TOKEN")
    env.pop("SLACK_APP_TOKEN")
    code, _, err = await run_cli("publish", "--to", "slack:C0DIGEST", env=env, cwd=tmp_path)
    assert code == 1
    assert "slack:C0DIGEST needs SLACK_BOT_TOKEN" in err
