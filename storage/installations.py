"""The store's Slack installations ("Add to Slack") and the OAuth flow's one-time states.

Each workspace that installs the app keeps one row with its own bot token; a delivery to a
channel finds its workspace through the channel's subscription and posts with that token.
States are kept until used or expired: consuming one deletes it in the same statement that
finds it, so a state is good once even with two instances on one PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.delivery.workspaces import WorkspaceInstall
from storage.base import StoreBase
from storage.models import SlackInstallationRow, SlackOAuthStateRow, SubscriptionRow


def _install_of(row: SlackInstallationRow) -> WorkspaceInstall:
    return WorkspaceInstall(
        enterprise_id=row.enterprise_id,
        team_id=row.team_id,
        team_name=row.team_name,
        app_id=row.app_id,
        bot_token=row.bot_token,
        bot_id=row.bot_id,
        bot_user_id=row.bot_user_id,
        bot_scopes=row.bot_scopes,
        installer_user_id=row.installer_user_id,
        enterprise_install=row.enterprise_install,
        installed_at=row.installed_at,
    )


class InstallationsPart(StoreBase):
    """Slack installs (save, find, forget, revoke their token) and OAuth states."""

    async def save_install(self, install: WorkspaceInstall) -> None:
        """Keep a workspace's install, replacing the one it had (a reinstall)."""
        values = {
            "enterprise_id": install.enterprise_id,
            "team_id": install.team_id,
            "team_name": install.team_name[:200],
            "app_id": install.app_id,
            "bot_token": install.bot_token,
            "bot_id": install.bot_id,
            "bot_user_id": install.bot_user_id,
            "bot_scopes": install.bot_scopes,
            "installer_user_id": install.installer_user_id,
            "enterprise_install": install.enterprise_install,
            "installed_at": install.installed_at,
        }

        def write(session: Session) -> None:
            row = session.scalars(
                select(SlackInstallationRow)
                .where(
                    SlackInstallationRow.enterprise_id == install.enterprise_id,
                    SlackInstallationRow.team_id == install.team_id,
                )
                .with_for_update()
            ).first()
            if row is None:
                session.add(SlackInstallationRow(**values))
            else:
                for key, value in values.items():
                    setattr(row, key, value)

        await self._run(write, writes=True)

    async def find_install(self, enterprise_id: str, team_id: str) -> WorkspaceInstall | None:
        """Return the install of a workspace (or of an org, with ``team_id`` "")."""

        def read(session: Session) -> WorkspaceInstall | None:
            row = session.scalars(
                select(SlackInstallationRow).where(
                    SlackInstallationRow.enterprise_id == enterprise_id,
                    SlackInstallationRow.team_id == team_id,
                )
            ).first()
            return _install_of(row) if row is not None else None

        return await self._run(read)

    async def installs(self) -> list[WorkspaceInstall]:
        """Return every install, by workspace."""

        def read(session: Session) -> list[WorkspaceInstall]:
            rows = session.scalars(
                select(SlackInstallationRow).order_by(
                    SlackInstallationRow.team_id, SlackInstallationRow.enterprise_id
                )
            )
            return [_install_of(row) for row in rows]

        return await self._run(read)

    async def delete_install(self, enterprise_id: str, team_id: str) -> bool:
        """Forget a workspace's install (token and all); True when there was one."""

        def write(session: Session) -> bool:
            result = session.execute(
                delete(SlackInstallationRow).where(
                    SlackInstallationRow.enterprise_id == enterprise_id,
                    SlackInstallationRow.team_id == team_id,
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

        return await self._run(write)

    async def revoke_install_token(self, enterprise_id: str, team_id: str) -> bool:
        """Drop a workspace's bot token (revoked), keeping the rest; True when it had one."""

        def write(session: Session) -> bool:
            result = session.execute(
                update(SlackInstallationRow)
                .where(
                    SlackInstallationRow.enterprise_id == enterprise_id,
                    SlackInstallationRow.team_id == team_id,
                    SlackInstallationRow.bot_token.is_not(None),
                )
                .values(bot_token=None)
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

        return await self._run(write)

    async def team_bot_token(self, team_id: str) -> str | None:
        """Return the bot token a workspace installed the app with, if it did (and still has)."""

        def read(session: Session) -> str | None:
            return session.scalars(
                select(SlackInstallationRow.bot_token)
                .where(
                    SlackInstallationRow.team_id == team_id,
                    SlackInstallationRow.bot_token.is_not(None),
                )
                .order_by(SlackInstallationRow.installed_at.desc())
                .limit(1)
            ).first()

        return await self._run(read)

    async def channel_workspace(self, platform: str, channel: str) -> str | None:
        """Return the workspace of a channel's subscription ("" if none was recorded)."""

        def read(session: Session) -> str | None:
            return session.scalars(
                select(SubscriptionRow.workspace)
                .where(SubscriptionRow.platform == platform, SubscriptionRow.channel == channel)
                .order_by(SubscriptionRow.id)
                .limit(1)
            ).first()

        return await self._run(read)

    async def subscriber_workspace(self, platform: str, user: str) -> str | None:
        """Return the workspace where ``user`` subscribed a channel, if they did."""

        def read(session: Session) -> str | None:
            return session.scalars(
                select(SubscriptionRow.workspace)
                .where(SubscriptionRow.platform == platform, SubscriptionRow.created_by == user)
                .order_by(SubscriptionRow.updated_at.desc())
                .limit(1)
            ).first()

        return await self._run(read)

    # -- OAuth states ----------------------------------------------------------------------

    async def issue_oauth_state(self, state: str, expires_at: datetime) -> None:
        """Keep a state handed to an installer's browser, good until ``expires_at``."""

        def write(session: Session) -> None:
            session.add(SlackOAuthStateRow(state=state, expires_at=expires_at))

        await self._run(write)

    async def consume_oauth_state(self, state: str, now: datetime) -> bool:
        """Use a state up: True when it was issued, unused and not expired.

        The state is deleted by the statement that finds it, so of two requests with it (a
        replayed redirect), one wins. Expired states are swept at the same time.
        """

        def write(session: Session) -> bool:
            found = session.execute(
                delete(SlackOAuthStateRow)
                .where(SlackOAuthStateRow.state == state, SlackOAuthStateRow.expires_at > now)
                .returning(SlackOAuthStateRow.id)
            ).first()
            session.execute(delete(SlackOAuthStateRow).where(SlackOAuthStateRow.expires_at <= now))
            return found is not None

        return await self._run(write)
