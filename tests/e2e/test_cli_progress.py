"""Progress on ``digestbot compose`` and ``publish``: on a terminal's stderr only, never piped.

The processes run with stderr on a pseudo-terminal, as a person at a shell sees them.
"""

from __future__ import annotations

import asyncio
import os
import pty
import subprocess
import sys
from pathlib import Path

from storage.store import Store
from tests.builders import IN_WEEK, edition_database, seed_week
from tests.cli_process import ENTRY, clean_env, run_digestbot, slack_env
from tests.fakes.slack_server import FakeSlack


def on_a_terminal(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run digestbot with stderr on a pseudo-terminal; return the code, stdout, the terminal."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(  # noqa: S603 - our interpreter and entry point
            [sys.executable, "-c", ENTRY, *args],
            cwd=cwd,
            env=env | {"TERM": "xterm-256color", "COLUMNS": "100"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=follower,
        )
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the process closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        stdout, _ = process.communicate(timeout=120)
    finally:
        os.close(leader)
    return process.returncode, stdout.decode(), shown.decode(errors="replace")


async def seeded(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    store = await Store.open(url)
    try:
        await seed_week(store, IN_WEEK)
    finally:
        await store.aclose()
    return url


async def test_compose_shows_its_summaries_on_a_terminal_only(tmp_path: Path) -> None:
    env = clean_env(DIGEST_DATABASE_URL=await seeded(tmp_path))
    code, out, shown = on_a_terminal("compose", "--date", "2026-04-13", env=env, cwd=tmp_path)
    assert code == 0, shown
    assert "Composed the edition of 2026-04-13" in out
    assert "summaries" in shown
    assert "4/4" in shown  # the week's four items, each summarized
    assert "4/4" not in out  # the display never reaches stdout

    code, out, shown = on_a_terminal(
        "compose", "--date", "2026-04-13", "--force", "--quiet", env=env, cwd=tmp_path
    )
    assert code == 0, shown
    assert "Rebuilt the edition of 2026-04-13" in out
    assert "summaries" not in shown

    code, out, err = await run_digestbot(
        "compose", "--date", "2026-04-13", "--force", env=env, cwd=tmp_path
    )
    assert (code, err) == (0, "")  # piped: no display at all


async def test_publish_shows_the_messages_of_each_destination(tmp_path: Path) -> None:
    url = await edition_database(tmp_path)
    async with FakeSlack() as slack:
        env = clean_env(DIGEST_DATABASE_URL=url, **slack_env(slack))
        # The fake Slack answers in this process's event loop: the child runs in a thread.
        code, out, shown = await asyncio.to_thread(
            on_a_terminal, "publish", "--to", "slack:C0DIGEST", env=env, cwd=tmp_path
        )
    assert code == 0, shown
    assert "slack:C0DIGEST: 5 sent" in out
    assert "slack:C0DIGEST" in shown
    assert "5/5" in shown
