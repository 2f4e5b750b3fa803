"""slack-manifest.yml grants what the code uses: every event listened to, every method's scope.

Slack sends an app only the events its manifest subscribes (and has the scopes for), and
refuses a Web API method without its scope (``missing_scope``). Neither shows up against a
lenient fake, so this reads the code and the manifest side by side; and the fake Slack itself
refuses to deliver what the manifest does not subscribe.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_sdk.web.async_client import AsyncWebClient

from adapters.chat.slack_bot import SlackHttpBot, SlackSocketBot, build_slack_app
from adapters.chat.slack_chat import web_client
from bot.commands.admin import SUBCOMMANDS, SUBSCRIBE_KEYS
from storage.store import Store
from tests.fakes.clock import FakeClock
from tests.fakes.slack_manifest import EVENT_SCOPES, MANIFEST, SlackManifest
from tests.fakes.slack_server import APP_TOKEN, BOT_TOKEN, FakeSlack

ROOT = MANIFEST.parent
HTTP_MANIFEST = ROOT / "slack-manifest-http.yml"
MANIFESTS = pytest.mark.parametrize("path", [MANIFEST, HTTP_MANIFEST], ids=["socket", "http"])
SLACK_CODE = sorted((ROOT / "adapters").rglob("*.py")) + sorted((ROOT / "bot" / "app").glob("*.py"))
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    # Called with SLACK_APP_TOKEN, whose connections:write scope is the app-level token's,
    # not one of the manifest's bot scopes.
    "apps.connections.open": (),
    "chat.postMessage": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.update": ("chat:write",),
    # Editions go to public and private channels alike: both history scopes are needed.
    "conversations.history": ("channels:history", "groups:history"),
    "conversations.replies": ("channels:history", "groups:history"),
    "conversations.info": ("channels:read", "groups:read"),
    "conversations.open": ("im:write",),
    "users.info": ("users:read",),
    "reactions.get": ("reactions:read",),
    "reactions.add": ("reactions:write",),
    "views.publish": (),  # the app's own Home tab: no scope
}
"""The bot scopes each Web API method needs (docs.slack.dev/reference/methods/<method>)."""
_METHOD_DOC = re.compile(r"reference/methods/([\w.]+)")


def string_calls(path: Path, attribute: str) -> Iterator[str]:
    """Yield the string argument of every ``<x>.<attribute>("...")`` call in ``path``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == attribute
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value


def web_api_methods(path: Path) -> Iterator[str]:
    """Yield the Slack method (``chat.postMessage``) of every slack_sdk client call in ``path``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = getattr(AsyncWebClient, node.func.attr, None)
            found = _METHOD_DOC.search(getattr(method, "__doc__", None) or "")
            if found:
                yield found.group(1)


def listened_events() -> dict[str, list[str]]:
    """Return each Bolt event listened to (``app.event("...")``) with where."""
    events: dict[str, list[str]] = {}
    for path in SLACK_CODE:
        for event in string_calls(path, "event"):
            events.setdefault(event, []).append(path.relative_to(ROOT).as_posix())
    return events


@MANIFESTS
def test_every_event_listened_to_is_subscribed_with_its_scope(path: Path) -> None:
    manifest = SlackManifest.load(path)
    events = listened_events()
    assert {"app_mention", "reaction_added", "reaction_removed", "app_home_opened"} <= set(events)
    for event, where in events.items():
        why = manifest.why_not_sent(event)
        assert why is None, f"{where} listen for {event}, but Slack will not send it: {why}"
    unused = manifest.bot_events - set(events)
    assert not unused, f"the manifest subscribes {sorted(unused)}, which no code listens to"


@MANIFESTS
def test_every_web_api_method_called_has_its_scope(path: Path) -> None:
    manifest = SlackManifest.load(path)
    called = {
        method: path.relative_to(ROOT).as_posix()
        for path in SLACK_CODE
        for method in web_api_methods(path)
    }
    assert {"chat.postMessage", "users.info", "conversations.open", "views.publish"} <= set(called)
    assert "conversations.info" in called
    for method, where in called.items():
        assert method in METHOD_SCOPES, f"{where} calls {method}: add its scopes to METHOD_SCOPES"
        lacking = [s for s in METHOD_SCOPES[method] if s not in manifest.scopes]
        assert not lacking, f"{where} calls {method}, which needs the scope {lacking}"


@MANIFESTS
def test_every_command_registered_is_declared(path: Path) -> None:
    manifest = SlackManifest.load(path)
    # Bolt's app.command("/digest"); typer's app.command("status") in bot/app is no Slack's.
    commands = {
        c for path in SLACK_CODE for c in string_calls(path, "command") if c.startswith("/")
    }
    assert commands == manifest.commands
    assert "commands" in manifest.scopes


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


@MANIFESTS
def test_the_usage_hints_name_every_subcommand_and_option(path: Path) -> None:
    hints = {c["command"]: c["usage_hint"] for c in read(path)["features"]["slash_commands"]}
    admin = hints["/digest-admin"]
    missing = [sub for sub in SUBCOMMANDS if sub not in admin]
    assert not missing, f"/digest-admin's usage hint misses {missing}"
    assert all(f"[{key}:]" in admin for key in SUBSCRIBE_KEYS)
    assert all("help" in hint for hint in hints.values())


def test_the_http_manifest_sends_every_request_to_the_bots_url() -> None:
    http, socket = read(HTTP_MANIFEST), read(MANIFEST)
    url = f"https://YOUR_HOST{SlackHttpBot.PATH}"
    assert http["settings"]["socket_mode_enabled"] is False
    assert http["settings"]["event_subscriptions"]["request_url"] == url
    assert http["settings"]["interactivity"]["request_url"] == url
    assert {c["url"] for c in http["features"]["slash_commands"]} == {url}
    # Socket Mode: no request URL anywhere (Slack refuses a manifest with both).
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in socket["settings"]["event_subscriptions"]
    assert all("url" not in c for c in socket["features"]["slash_commands"])
    # Add to Slack needs HTTP mode: only its manifest names the OAuth redirect URL.
    assert http["oauth_config"].pop("redirect_urls") == ["https://YOUR_HOST/slack/oauth_redirect"]
    assert "redirect_urls" not in socket["oauth_config"]
    # Otherwise the same app: scopes, events, Home tab, commands and their hints.
    assert SlackManifest.load(HTTP_MANIFEST) == SlackManifest.load(MANIFEST)
    for data in (http, socket):
        data["settings"].pop("socket_mode_enabled")
        data["settings"]["event_subscriptions"].pop("request_url", None)
        data["settings"]["interactivity"].pop("request_url", None)
        for command in data["features"]["slash_commands"]:
            command.pop("url", None)
    assert http == socket


def test_the_readers_see_what_the_tests_see(tmp_path: Path) -> None:
    # Guards the guards: a listener and a method call in a sample are found.
    sample = tmp_path / "sample.py"
    sample.write_text(
        "@app.event('reaction_added')\nasync def f(): await client.reactions_get(channel='C')\n"
    )
    assert list(string_calls(sample, "event")) == ["reaction_added"]
    assert list(web_api_methods(sample)) == ["reactions.get"]
    assert EVENT_SCOPES["reaction_added"] == ("reactions:read",)


@pytest.mark.parametrize("unsubscribed", [True, False], ids=["not-subscribed", "scope-missing"])
async def test_the_fake_slack_does_not_send_what_the_manifest_does_not_grant(
    tmp_path: Path, unsubscribed: bool
) -> None:
    granted = SlackManifest.load()
    manifest = (
        replace(granted, bot_events=granted.bot_events - {"reaction_added"})
        if unsubscribed
        else granted
    )
    missing = set() if unsubscribed else {"reactions:read"}
    store = await Store.open(f"sqlite:///{tmp_path / 'manifest.db'}")
    async with FakeSlack(manifest=manifest, missing_scopes=missing) as slack:
        bot = SlackSocketBot(
            build_slack_app(web_client(BOT_TOKEN, slack.api_url), store, FakeClock()), APP_TOKEN
        )
        await bot.start()
        try:
            ts = slack.add_message("C0DIGEST", "a message")
            assert not await slack.react("+1", ts=ts)
            assert await slack.mention("<@U0BOT> paper 2604.31415", thread_ts=ts)
        finally:
            await bot.aclose()
            await store.aclose()
    ((event, why),) = slack.undelivered
    assert event == "reaction_added"
    assert why == (
        "reaction_added is not in settings.event_subscriptions.bot_events"
        if unsubscribed
        else "reaction_added needs the scope reactions:read"
    )
