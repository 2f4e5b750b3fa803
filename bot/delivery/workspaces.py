"""Workspaces that installed the app themselves ("Add to Slack"): each with its own token.

With Slack's OAuth on, every workspace that installs the app gets its own bot token, kept in
the store as a `WorkspaceInstall`. A subscription names its workspace (the Slack team id), so
a delivery, a notice or a command answer there uses that workspace's token; a workspace
without an install of its own (the single-token set-up, SLACK_BOT_TOKEN) uses the one token
of the environment. When a workspace uninstalls the app or revokes its token, its
subscriptions are paused with `uninstall_reason` and its install is forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class WorkspaceInstall:
    """One workspace's install of the app: who installed it, when, and its bot token.

    ``enterprise_id`` is the Enterprise Grid org (``""`` outside one); ``team_id`` the
    workspace (``""`` for an org-wide install). ``bot_token`` is None once revoked.
    """

    enterprise_id: str
    team_id: str
    team_name: str
    app_id: str
    bot_token: str | None
    bot_id: str
    bot_user_id: str
    bot_scopes: str
    installer_user_id: str
    enterprise_install: bool
    installed_at: datetime

    def __repr__(self) -> str:
        # Never show the token (a repr ends up in logs and tracebacks).
        return (
            f"WorkspaceInstall(enterprise_id={self.enterprise_id!r}, team_id={self.team_id!r}, "
            f"team_name={self.team_name!r}, bot_user_id={self.bot_user_id!r})"
        )


UNINSTALL_EVENTS = {
    "app_uninstalled": "the app was uninstalled from the Slack workspace",
    "tokens_revoked": "the app's token was revoked in the Slack workspace",
}
"""Slack's events that end an install, and what each means for a subscriber."""


def uninstall_reason(event_type: str, team_id: str, team_name: str = "") -> str:
    """Return why a workspace's subscriptions were paused, for the admin who reads it."""
    what = UNINSTALL_EVENTS.get(event_type, f"Slack sent {event_type} for the workspace")
    named = f"{team_name} ({team_id})" if team_name else team_id
    return f"{what} {named}; install it again (Add to Slack), then resume"
