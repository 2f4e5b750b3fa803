"""SQLAlchemy 2 models: items, their sightings, source runs and state, editors' picks.

The schema itself is written by the Alembic migrations; tests/storage/test_migrations.py
proves that these models and the migrations agree on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store UTC; refuse naive datetimes, whose meaning is unknown."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Read back as aware UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with deterministic constraint names."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class ItemRow(Base):
    """A paper, post or page, stored once whatever the number of sources that saw it."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    canonical_id: Mapped[str] = mapped_column(String(512), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    authors: Mapped[list[Any]] = mapped_column(JSON)
    published_at: Mapped[datetime | None]
    arxiv_id: Mapped[str | None] = mapped_column(String(64), index=True)
    arxiv_version: Mapped[int | None]
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime] = mapped_column(index=True)
    last_seen: Mapped[datetime]
    citations: Mapped[int | None]
    citations_checked_at: Mapped[datetime | None]
    # Always written; nullable only because making it NOT NULL would rebuild the table on
    # SQLite, whose cascading foreign keys would then delete every sighting (0008).
    source_date: Mapped[date | None] = mapped_column(Date, index=True)

    sightings: Mapped[list[SightingRow]] = relationship(
        back_populates="item", cascade="all, delete-orphan", passive_deletes=True
    )


class SightingRow(Base):
    """What one source said about one item, kept whole so items can be re-merged."""

    __tablename__ = "sightings"
    __table_args__ = (UniqueConstraint("item_id", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    authors: Mapped[list[Any]] = mapped_column(JSON)
    published_at: Mapped[datetime | None]
    arxiv_id: Mapped[str | None] = mapped_column(String(64))
    arxiv_version: Mapped[int | None]
    links: Mapped[list[Any]] = mapped_column(JSON)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    fingerprint: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]

    item: Mapped[ItemRow] = relationship(back_populates="sightings")


class SourceRunRow(Base):
    """How one run of one source ended, and why."""

    __tablename__ = "source_runs"
    __table_args__ = (Index("ix_source_runs_source_started_at", "source", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    fetched: Mapped[int]
    new: Mapped[int]
    updated: Mapped[int]
    unchanged: Mapped[int]
    warnings: Mapped[list[Any]] = mapped_column(JSON)


class SourceStateRow(Base):
    """A source's conditional-request state (ETag, Last-Modified) between runs."""

    __tablename__ = "source_state"

    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class SubmissionRow(Base):
    """An editor's pick: queued, then resolved to an item or failed with a reason."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(Text)
    canonical_id: Mapped[str | None] = mapped_column(String(512))
    resolved_at: Mapped[datetime | None]


class EditionRow(Base):
    """A week's edition, unique per Monday."""

    __tablename__ = "editions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    edition_date: Mapped[date] = mapped_column(Date, unique=True)
    title: Mapped[str] = mapped_column(Text)
    intro: Mapped[str] = mapped_column(Text)
    offline: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    # Read from a file of a past edition (``digestbot import``): history, never delivered.
    imported: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The fingerprint of the imported file's content: the same file again changes nothing.
    import_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)

    entries: Mapped[list[EditionEntryRow]] = relationship(
        back_populates="edition",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="EditionEntryRow.position",
    )


class EditionEntryRow(Base):
    """One item of an edition with the summary it was published with."""

    __tablename__ = "edition_entries"
    __table_args__ = (
        UniqueConstraint("edition_id", "position"),
        UniqueConstraint("edition_id", "item_id", name="uq_edition_entries_edition_id_item_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    why: Mapped[str] = mapped_column(Text)
    difficulty: Mapped[str] = mapped_column(String(16))
    takeaways: Mapped[list[Any]] = mapped_column(JSON)
    model: Mapped[str] = mapped_column(String(200))
    prompt_version: Mapped[str] = mapped_column(String(64))
    offline: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    rewritten_at: Mapped[datetime | None]

    edition: Mapped[EditionRow] = relationship(back_populates="entries")
    item: Mapped[ItemRow] = relationship()


class SummaryRow(Base):
    """A summary cached by what it was written from: content, prompt version and model."""

    __tablename__ = "summaries"
    __table_args__ = (
        UniqueConstraint(
            "content_hash", "prompt_version", "model", name="uq_summaries_content_prompt_model"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    prompt_version: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(200))
    why: Mapped[str] = mapped_column(Text)
    difficulty: Mapped[str] = mapped_column(String(16))
    takeaways: Mapped[list[Any]] = mapped_column(JSON)
    offline: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class ComposeRunRow(Base):
    """Each attempt to compose an edition, including the weeks where none could be made."""

    __tablename__ = "compose_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    edition_date: Mapped[date] = mapped_column(Date, index=True)
    at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    edition_id: Mapped[int | None]


class LlmCallRow(Base):
    """One call to the language model: what for, and what it cost."""

    __tablename__ = "llm_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(200))
    input_tokens: Mapped[int]
    output_tokens: Mapped[int]
    cost_usd: Mapped[float] = mapped_column(Float)


class LlmAnswerRow(Base):
    """A validated model answer kept by what it was asked from (relevance scores, intros)."""

    __tablename__ = "llm_answers"
    __table_args__ = (
        UniqueConstraint("key", "prompt_version", "model", name="uq_llm_answers_key_prompt_model"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128))
    prompt_version: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(200))
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class DeliveryRow(Base):
    """One part of an edition sent to one destination (DESIGN.md §7): part 0 is the parent."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint(
            "destination", "edition_id", "part", name="uq_deliveries_destination_edition_part"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destination: Mapped[str] = mapped_column(String(200))
    edition_id: Mapped[int] = mapped_column(
        ForeignKey("editions.id", ondelete="CASCADE"), index=True
    )
    part: Mapped[int]
    # Indexed: a reaction names only the message, and is mapped back to its part by it.
    message_id: Mapped[str] = mapped_column(String(100), index=True)
    thread_id: Mapped[str] = mapped_column(String(100))
    sent_at: Mapped[datetime]
    # The rewrite (`summary_rewrites.version`) this message shows; 0 as first sent. An edit
    # resumed after a crash sees it applied and does not edit again.
    edit_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))


class DeliveryStartRow(Base):
    """That a delivery of an edition to a destination began (its first send may have landed)."""

    __tablename__ = "delivery_starts"
    __table_args__ = (
        UniqueConstraint("destination", "edition_id", name="uq_delivery_starts_destination"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destination: Mapped[str] = mapped_column(String(200))
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    started_at: Mapped[datetime]


class SubscriptionRow(Base):
    """A channel that gets each edition, on its own day, time and timezone."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("platform", "workspace", "channel", name="uq_subscriptions_destination"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(100))
    weekday: Mapped[int]
    at_time: Mapped[str] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64))
    difficulty: Mapped[str | None] = mapped_column(String(16))
    # Comma-separated keywords (bot.delivery.content); "" keeps every item.
    topics: Mapped[str] = mapped_column(Text, default="", server_default="")
    exclude: Mapped[str] = mapped_column(Text, default="", server_default="")
    active: Mapped[bool] = mapped_column(Boolean)
    paused_reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]
    created_at: Mapped[datetime]
    paused_at: Mapped[datetime | None]


class DeliveryJobRow(Base):
    """One edition due in one destination: claimed by a worker, then done, failed or skipped."""

    __tablename__ = "delivery_jobs"
    __table_args__ = (
        UniqueConstraint("destination", "edition_id", name="uq_delivery_jobs_destination"),
        Index("ix_delivery_jobs_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destination: Mapped[str] = mapped_column(String(200))
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    difficulty: Mapped[str | None] = mapped_column(String(16))
    topics: Mapped[str] = mapped_column(Text, default="", server_default="")
    exclude: Mapped[str] = mapped_column(Text, default="", server_default="")
    state: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    claimed_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    lease_until: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class FeedbackVoteRow(Base):
    """A reader's 👍 or 👎 on an item, one per item, destination and user (the latest wins)."""

    __tablename__ = "feedback_votes"
    __table_args__ = (
        UniqueConstraint("item_id", "destination", "user_id", name="uq_feedback_votes_voter"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    destination: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str] = mapped_column(String(100))
    vote: Mapped[str] = mapped_column(String(8))
    voted_at: Mapped[datetime] = mapped_column(index=True)


class SummaryRewriteRow(Base):
    """A summary an editor had rewritten: the old text, who asked, when, and their note."""

    __tablename__ = "summary_rewrites"
    __table_args__ = (
        UniqueConstraint(
            "edition_id", "position", "version", name="uq_summary_rewrites_entry_version"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    position: Mapped[int]
    version: Mapped[int]
    rewritten_by: Mapped[str] = mapped_column(String(200))
    rewritten_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text)
    old_why: Mapped[str] = mapped_column(Text)
    old_difficulty: Mapped[str] = mapped_column(String(16))
    old_takeaways: Mapped[list[Any]] = mapped_column(JSON)
    old_model: Mapped[str] = mapped_column(String(200))
    old_prompt_version: Mapped[str] = mapped_column(String(64))
    old_offline: Mapped[bool] = mapped_column(Boolean)
    old_note: Mapped[str] = mapped_column(Text)


class EditJobRow(Base):
    """One delivered item to edit in place in one destination, claimed like a delivery."""

    __tablename__ = "edit_jobs"
    __table_args__ = (
        UniqueConstraint(
            "destination", "edition_id", "part", "version", name="uq_edit_jobs_destination"
        ),
        Index("ix_edit_jobs_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destination: Mapped[str] = mapped_column(String(200))
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    part: Mapped[int]
    version: Mapped[int]
    state: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    claimed_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    lease_until: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class SlackInstallationRow(Base):
    """A Slack workspace that installed the app ("Add to Slack"): its own bot token.

    One row per workspace (and Enterprise Grid org; ``""`` when none): installing again
    replaces the row. A revoked bot token is ``None`` until the next install.
    """

    __tablename__ = "slack_installations"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "team_id", name="uq_slack_installations_workspace"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(String(32))
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    team_name: Mapped[str] = mapped_column(String(200))
    app_id: Mapped[str] = mapped_column(String(32))
    bot_token: Mapped[str | None] = mapped_column(String(200))
    bot_id: Mapped[str] = mapped_column(String(32))
    bot_user_id: Mapped[str] = mapped_column(String(32))
    bot_scopes: Mapped[str] = mapped_column(Text)
    installer_user_id: Mapped[str] = mapped_column(String(32))
    enterprise_install: Mapped[bool] = mapped_column(Boolean)
    installed_at: Mapped[datetime]


class SlackOAuthStateRow(Base):
    """A state handed to an installer's browser: good once, until it expires."""

    __tablename__ = "slack_oauth_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(200), unique=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
