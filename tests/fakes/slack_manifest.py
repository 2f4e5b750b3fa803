"""What slack-manifest.yml grants the app: the events Slack sends it and the scopes it holds.

The fake Slack delivers an event only when the manifest subscribes it and the app holds the
scope Slack requires for it, as Slack does: an event left out of ``bot_events`` never reaches a
real workspace, however well the code listens for it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "slack-manifest.yml"
EVENT_SCOPES: dict[str, tuple[str, ...]] = {
    "app_mention": ("app_mentions:read",),
    "reaction_added": ("reactions:read",),
    "reaction_removed": ("reactions:read",),
    "message.channels": ("channels:history",),
    "message.groups": ("groups:history",),
    "message.im": ("im:history",),
    "app_uninstalled": (),  # no scope: every app hears that it was removed
    "tokens_revoked": (),
    "app_home_opened": (),  # no scope: the Home tab is the app's own
}
"""The bot scope Slack requires before it sends each event type (its events reference)."""


@dataclass(frozen=True, slots=True)
class SlackManifest:
    """The parts of an app manifest that decide what Slack sends and allows."""

    bot_events: frozenset[str]
    scopes: frozenset[str]
    commands: frozenset[str]
    # features.app_home.home_tab_enabled: without it no one can open the Home tab.
    home_tab: bool = False

    @classmethod
    def load(cls, path: Path = MANIFEST) -> SlackManifest:
        """Read a manifest file (YAML)."""
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        settings = data.get("settings") or {}
        events = (settings.get("event_subscriptions") or {}).get("bot_events") or []
        scopes = ((data.get("oauth_config") or {}).get("scopes") or {}).get("bot") or []
        features = data.get("features") or {}
        commands = features.get("slash_commands") or []
        home = bool((features.get("app_home") or {}).get("home_tab_enabled"))
        return cls(
            frozenset(events),
            frozenset(scopes),
            frozenset(c["command"] for c in commands),
            home_tab=home,
        )

    def why_not_sent(self, event_type: str, missing_scopes: Collection[str] = ()) -> str | None:
        """Return why Slack would not send ``event_type`` to this app, or None if it would."""
        if event_type == "app_home_opened" and not self.home_tab:
            return "features.app_home.home_tab_enabled is not true"
        if event_type not in self.bot_events:
            return f"{event_type} is not in settings.event_subscriptions.bot_events"
        needed = EVENT_SCOPES.get(event_type)
        if needed is None:
            return f"the fake does not know the scope {event_type} needs; add it to EVENT_SCOPES"
        lacking = [s for s in needed if s not in self.scopes or s in missing_scopes]
        if lacking:
            return f"{event_type} needs the scope {', '.join(lacking)}"
        return None
