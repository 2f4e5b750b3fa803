"""``digestbot run`` with Add to Slack: two workspaces, each with its own token.

Each workspace gets editions with its own token, and one uninstalling pauses only its own
subscriptions. A real ``run`` process in HTTP mode (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET);
an HTTP client plays each installer's browser through /slack/install and
/slack/oauth_redirect; the fake Slack serves two workspaces and exchanges codes at
``oauth.v2.access``.
"""

from __future__ import annotations

import asyncio
import html
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from storage.store import Store
from tests.builders import edition_database
from tests.cli_process import clean_env, run_digestbot, start_digestbot, stop_digestbot
from tests.fakes.slack_workspaces import CLIENT_ID, CLIENT_SECRET, FakeSlackWorkspaces


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Running:
    """A ``digestbot run`` process, the fake Slack it talks to, and its settings."""

    slack: FakeSlackWorkspaces
    env: dict[str, str]
    base: str
    url: str
    logs: list[str]


async def install(running: Running, team: str, admin: str) -> None:
    async with httpx.AsyncClient(timeout=10) as browser:
        page = await browser.get(f"{running.base}/slack/install")
        cookie = page.headers["set-cookie"].split(";")[0]
        found = re.search(r'<a href="([^"]+)"', page.text)
        assert found is not None
        back = running.slack.approve(html.unescape(found.group(1)), team, admin)
        done = await browser.get(back, headers={"Cookie": cookie})
    assert done.status_code == 200, done.text
    status, answer = await running.slack.command(
        team, "/digest-admin", "subscribe day:mon time:09:00", user=admin, channel=f"C0{team[-1]}"
    )
    assert status == 200
    assert "Subscribed" in str(answer.get("text"))


@asynccontextmanager
async def running_bot(tmp_path: Path) -> AsyncIterator[Running]:
    url = await edition_database(tmp_path)
    port = free_port()
    async with FakeSlackWorkspaces() as slack:
        env = clean_env(
            DIGEST_DATABASE_URL=url,
            SLACK_SIGNING_SECRET=slack.signing_secret,
            SLACK_CLIENT_ID=CLIENT_ID,
            SLACK_CLIENT_SECRET=CLIENT_SECRET,
            SLACK_API_URL=slack.api_url,
            DIGEST_HTTP_PORT=str(port),
        )
        base = f"http://127.0.0.1:{port}"
        slack.events_url = f"{base}/slack/events"
        slack.redirect_urls.append(f"{base}/slack/oauth_redirect")
        process = await start_digestbot("run", env=env, cwd=tmp_path)
        logs: list[str] = []
        try:
            async with httpx.AsyncClient(timeout=2) as probe:
                for _ in range(300):
                    try:
                        if (await probe.get(f"{base}/slack/install")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
            yield Running(slack, env, base, url, logs)
        finally:
            code, stdout, stderr, _ = await stop_digestbot(process)
            logs.append(stdout + stderr)
        assert code == 0, stderr


def posts(slack: FakeSlackWorkspaces) -> list[tuple[str, str]]:
    return [(team, channel) for method, team, channel in slack.team_calls
            if method == "chat.postMessage"]  # fmt: skip


async def test_two_workspaces_install_and_each_gets_the_edition_with_its_own_token(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as running:
        await install(running, "T0A", "U0ADA")
        await install(running, "T0B", "U0ADB")
        code, out, err = await run_digestbot(
            "publish", "--to", "slack:C0A", "--to", "slack:C0B", env=running.env, cwd=tmp_path
        )
        assert code == 0, err
    sent = posts(running.slack)
    assert sent.count(("T0A", "C0A")) == 5  # the parent and four items, with A's token
    assert sent.count(("T0B", "C0B")) == 5
    assert len(sent) == 10
    tokens = [team.token for team in running.slack.teams.values()]
    for secret in (CLIENT_SECRET, *tokens):
        assert secret
        assert secret not in running.logs[0] + out + err


async def test_uninstalling_pauses_that_workspace_while_the_other_still_delivers(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as running:
        await install(running, "T0A", "U0ADA")
        await install(running, "T0B", "U0ADB")
        await running.slack.uninstall("T0A")
        store = await Store.open(running.url)
        try:
            async with asyncio.timeout(20):
                while await store.find_install("", "T0A") is not None:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
            subscriptions = {s.channel: s for s in await store.subscriptions()}
        finally:
            await store.aclose()
        code, _, err = await run_digestbot(
            "publish", "--to", "slack:C0B", env=running.env, cwd=tmp_path
        )
        assert code == 0, err
        _, status, _ = await run_digestbot("status", env=running.env, cwd=tmp_path)
    assert not subscriptions["C0A"].active
    assert "uninstalled" in subscriptions["C0A"].paused_reason or "revoked" in (
        subscriptions["C0A"].paused_reason
    )
    assert "Team A (T0A)" in subscriptions["C0A"].paused_reason
    assert subscriptions["C0B"].active
    assert posts(running.slack).count(("T0B", "C0B")) == 5
    assert ("T0A", "C0A") not in posts(running.slack)
    assert "T0A" in status
