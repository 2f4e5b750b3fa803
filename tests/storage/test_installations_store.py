"""Slack installs ("Add to Slack") and OAuth states in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.delivery.workspaces import WorkspaceInstall
from bot.domain import Subscription
from storage.store import Store
from tests.storage.conftest import DATABASES

pytestmark = pytest.mark.parametrize("database_url", DATABASES, indirect=True)
T0 = datetime(2026, 4, 13, 6, 0, tzinfo=UTC)


TOKEN_A = "xoxb-a"


def install(team: str, token: str | None = TOKEN_A, **changes: object) -> WorkspaceInstall:
    values: dict[str, object] = {
        "enterprise_id": "",
        "team_id": team,
        "team_name": f"Team {team}",
        "app_id": "A0APP",
        "bot_token": token,
        "bot_id": "B1",
        "bot_user_id": "U0BOT",
        "bot_scopes": "chat:write,commands",
        "installer_user_id": "U0ADMIN",
        "enterprise_install": False,
        "installed_at": T0,
    }
    values.update(changes)
    return WorkspaceInstall(**values)  # type: ignore[arg-type]


async def test_each_workspace_keeps_its_own_token_and_a_reinstall_replaces_it(
    store: Store,
) -> None:
    await store.save_install(install("T0A", "xoxb-a"))
    await store.save_install(install("T0B", "xoxb-b"))
    assert await store.team_bot_token("T0A") == "xoxb-a"
    assert await store.team_bot_token("T0B") == "xoxb-b"
    assert await store.team_bot_token("T0C") is None
    later = T0 + timedelta(days=1)
    await store.save_install(install("T0A", "xoxb-a2", installed_at=later))
    assert await store.find_install("", "T0A") == install("T0A", "xoxb-a2", installed_at=later)
    assert [i.team_id for i in await store.installs()] == ["T0A", "T0B"]


async def test_a_revoked_token_is_gone_and_a_deleted_install_too(store: Store) -> None:
    await store.save_install(install("T0A", "xoxb-a"))
    assert await store.revoke_install_token("", "T0A")
    assert not await store.revoke_install_token("", "T0A")
    assert await store.team_bot_token("T0A") is None
    found = await store.find_install("", "T0A")
    assert found is not None
    assert found.bot_token is None
    assert await store.delete_install("", "T0A")
    assert not await store.delete_install("", "T0A")
    assert await store.find_install("", "T0A") is None


async def test_the_token_never_shows_in_the_record_repr(store: Store) -> None:
    await store.save_install(install("T0A", "xoxb-secret-token"))
    assert "xoxb-secret-token" not in repr(await store.find_install("", "T0A"))


async def test_a_state_is_good_once_and_only_until_it_expires(store: Store) -> None:
    await store.issue_oauth_state("s-1", T0 + timedelta(minutes=10))
    await store.issue_oauth_state("s-2", T0 + timedelta(minutes=10))
    assert await store.consume_oauth_state("s-1", T0 + timedelta(minutes=9))
    assert not await store.consume_oauth_state("s-1", T0 + timedelta(minutes=9))  # reused
    assert not await store.consume_oauth_state("unknown", T0)
    assert not await store.consume_oauth_state("s-2", T0 + timedelta(minutes=10))  # expired


async def test_two_redirects_with_one_state_let_one_through(store: Store) -> None:
    await store.issue_oauth_state("s-1", T0 + timedelta(minutes=10))
    results = await asyncio.gather(*(store.consume_oauth_state("s-1", T0) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]


async def test_a_channel_and_a_subscriber_lead_to_their_workspace(store: Store) -> None:
    subscription = Subscription("slack", "T0B", "C0B", 0, "09:00", "UTC", None)
    await store.subscribe(subscription, "U0BOB", T0)
    await store.subscribe(replace(subscription, workspace="", channel="C0ENV"), "cli", T0)
    assert await store.channel_workspace("slack", "C0B") == "T0B"
    assert await store.channel_workspace("slack", "C0ENV") == ""
    assert await store.channel_workspace("slack", "C0NONE") is None
    assert await store.channel_workspace("discord", "C0B") is None
    assert await store.subscriber_workspace("slack", "U0BOB") == "T0B"
    assert await store.subscriber_workspace("slack", "U0NOBODY") is None
