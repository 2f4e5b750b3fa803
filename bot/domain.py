"""The core's vocabulary: plain, frozen values that every stage and adapter speaks.

Nothing here knows about HTTP, SQL or a chat platform. Adapters translate the outside world
into these types; the store persists them; the stages pass them along.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TypeAlias

JsonValue: TypeAlias = str | int | float | bool | list["JsonValue"] | dict[str, "JsonValue"] | None
"""A value that survives a round trip through JSON (source-specific sighting data)."""


class ItemKind(StrEnum):
    """What an item is: a research paper, a blog post or an editor-submitted web page."""

    PAPER = "paper"
    POST = "post"
    PAGE = "page"


class SourceLabel:
    """The source names shown on an item's source line (DESIGN.md §1)."""

    HF = "api-hf"
    ARXIV = "api-arxiv"
    MANUAL = "manual"
    FEED_PREFIX = "rss-"

    @staticmethod
    def feed(name: str) -> str:
        """Return the label of the feed configured as ``name`` (``rss-<name>``)."""
        return f"{SourceLabel.FEED_PREFIX}{name}"


@dataclass(frozen=True, slots=True)
class Sighting:
    """One source's report of one paper, post or page, already normalised to plain text.

    ``source`` is the label shown to readers (``api-hf``, ``api-arxiv``, ``rss-<name>``,
    ``manual``). ``arxiv_id`` is the canonical id without version when the source knows it;
    ingest also recognises arXiv links in ``url``. ``data`` holds what only this source knows
    (upvotes, comments, GitHub repo and stars, HF's own summary and keywords, an editor's note).
    """

    source: str
    url: str
    title: str
    summary: str = ""
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    arxiv_id: str | None = None
    arxiv_version: int | None = None
    links: tuple[str, ...] = ()
    data: Mapping[str, JsonValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SourceBatch:
    """What one fetch of one source produced.

    ``state`` is the source's new conditional-request state (ETag, Last-Modified) to keep for
    the next fetch; ``None`` keeps the old one. ``not_modified`` means the source answered
    "nothing new" (HTTP 304). ``warnings`` are readable notes on entries that were skipped.
    """

    sightings: tuple[Sighting, ...] = ()
    not_modified: bool = False
    state: Mapping[str, str] | None = None
    warnings: tuple[str, ...] = ()


class RunOutcome(StrEnum):
    """How one source's run ended."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    """How a batch of sightings changed the store, counted per item."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.new + other.new,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


@dataclass(frozen=True, slots=True)
class SourceRun:
    """The record of one source's run: when, how it ended, why, and what it changed."""

    source: str
    started_at: datetime
    finished_at: datetime
    outcome: RunOutcome
    reason: str = ""
    fetched: int = 0
    counts: UpsertCounts = UpsertCounts()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Submission:
    """An editor's pick: a URL with an optional note, waiting to be resolved by ingest."""

    id: int
    url: str
    note: str
    submitted_by: str
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class IdentifiedSighting:
    """A sighting with the identity ingest gave it: the item it belongs to and its kind."""

    canonical_id: str
    kind: ItemKind
    sighting: Sighting


@dataclass(frozen=True, slots=True)
class ItemContent:
    """An item's readable fields, merged from all of its sightings (see bot.ingest.merge)."""

    canonical_id: str
    kind: ItemKind
    title: str
    url: str
    summary: str
    authors: tuple[str, ...]
    published_at: datetime | None
    arxiv_id: str | None
    arxiv_version: int | None
    data: Mapping[str, JsonValue]
    content_hash: str


@dataclass(frozen=True, slots=True)
class Item:
    """A stored paper, post or page: its merged content, where it was seen, and when."""

    id: int
    content: ItemContent
    sources: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    citations: int | None = None
    citations_checked_at: datetime | None = None
    # The day its source dated it (HF's listing day, arXiv's first version, a feed entry's
    # date), else the day it was first seen: which week it belongs to (bot.edition.weeks).
    source_date: date | None = None


@dataclass(frozen=True, slots=True)
class WeekWindow:
    """Which stored items are the candidates of the edition dated ``monday``.

    An item is one when its source date falls in ``first_day``..``last_day``; or when it was
    first seen in ``[seen_from, seen_until)`` with a source date no older than ``fresh_since``
    (a late arrival: arXiv announces days after the date it gives); or when an editor's pick
    of it was submitted in ``[seen_from, seen_until)``.
    """

    monday: date
    first_day: date
    last_day: date
    seen_from: datetime
    seen_until: datetime
    fresh_since: date


class Difficulty(StrEnum):
    """How much background an item asks of its reader."""

    ACCESSIBLE = "accessible"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"

    @property
    def label(self) -> str:
        """The label shown to readers: ``Accessible``, ``Intermediate``, ``Advanced``."""
        return self.value.capitalize()


@dataclass(frozen=True, slots=True)
class ItemSummary:
    """Why an item matters, how hard it is, and three takeaways; who wrote it and how."""

    why: str
    difficulty: Difficulty
    takeaways: tuple[str, ...]
    model: str
    prompt_version: str
    offline: bool
    note: str = ""


@dataclass(frozen=True, slots=True)
class EditionEntry:
    """One item in an edition: its place, the item, its summary, and why it was chosen."""

    position: int
    item: Item
    summary: ItemSummary
    score: float = 0.0
    reason: str = ""
    # When an editor last had the summary rewritten (`digestbot rewrite`); shown to readers.
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Edition:
    """A week's digest, dated on its Monday."""

    id: int
    date: date
    title: str
    intro: str
    offline: bool
    entries: tuple[EditionEntry, ...]
    created_at: datetime
    # Read from a past edition's file (``digestbot import``): history to learn from, never
    # delivered and never rebuilt by compose.
    imported: bool = False


@dataclass(frozen=True, slots=True)
class Subscription:
    """A channel that gets each edition on its own day, time and timezone."""

    platform: str
    workspace: str
    channel: str
    weekday: int
    at_time: str
    timezone: str
    difficulty: Difficulty | None
    active: bool = True
    paused_reason: str = ""
    # Per-channel content (bot.delivery.content): keywords or profile topics, lower-case.
    topics: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    """A subscription with its history: who created it (a user id, ``cli`` or ``config``), when."""

    subscription: Subscription
    created_by: str
    created_at: datetime
    updated_at: datetime
    paused_at: datetime | None = None


class Platform(StrEnum):
    """A chat platform an edition is delivered to (``console`` prints it)."""

    SLACK = "slack"
    DISCORD = "discord"
    CONSOLE = "console"


class JobState(StrEnum):
    """Where a delivery job is in the outbox.

    ``pending`` waits for its due time (or a retry), ``claimed`` is held by a worker until its
    lease runs out; ``done``, ``failed`` and ``skipped`` (found too late after its slot) are
    final.
    """

    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def final(self) -> bool:
        """Whether the job is over (no worker will claim it again)."""
        return self in (JobState.DONE, JobState.FAILED, JobState.SKIPPED)


class ComposeOutcome(StrEnum):
    """How a compose attempt ended: an edition, or nothing to compose (with a reason)."""

    COMPOSED = "composed"
    SKIPPED = "skipped"


class SubmissionStatus(StrEnum):
    """Where an editor's pick is: waiting to be fetched, stored as an item, or failed."""

    PENDING = "pending"
    RESOLVED = "resolved"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ComposeAttempt:
    """The latest compose: the edition it was for, how it ended, why, and when."""

    edition_date: date
    outcome: ComposeOutcome
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class LastDelivery:
    """A destination's latest delivery: the edition's date, parts sent, and the last send."""

    destination: str
    edition_date: date
    parts: int
    at: datetime


@dataclass(frozen=True, slots=True)
class ModelSpend:
    """What the language model cost since some moment: calls, tokens and US dollars."""

    calls: int = 0
    tokens: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True, slots=True)
class ModelUsage:
    """Everything one model was used for, ever: tokens in and out, and US dollars."""

    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    """One edition due in one destination: the outbox row a worker claims and finishes."""

    id: int
    destination: str
    edition_id: int
    difficulty: Difficulty | None
    state: JobState
    due_at: datetime
    attempts: int
    claimed_by: str
    lease_until: datetime | None
    reason: str
    # The subscription's topics and exclusions when the job was planned.
    topics: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SummaryRevision:
    """A summary an editor replaced (`digestbot rewrite`): who, when, their note, the old text.

    ``version`` counts the rewrites of that edition's entry: 1 for the first.
    """

    edition_id: int
    position: int
    canonical_id: str
    version: int
    by: str
    at: datetime
    note: str
    old: ItemSummary


@dataclass(frozen=True, slots=True)
class RewriteRecord:
    """What storing a rewrite did: the entry's new version, and the destinations to edit."""

    version: int
    destinations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EditJob:
    """One delivered item to edit in place in one destination (the outbox of edits).

    ``part`` is the item's position (its delivery part); ``version`` the rewrite it carries.
    """

    id: int
    destination: str
    edition_id: int
    part: int
    version: int
    state: JobState
    due_at: datetime
    attempts: int
    claimed_by: str
    lease_until: datetime | None
    reason: str
    # The subscription's topics and exclusions when the job was planned.
    topics: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


class Vote(StrEnum):
    """A reader's verdict on an item, given by reacting to its reply (👍 up, 👎 down)."""

    UP = "up"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class Reaction:
    """A 👍 or 👎 added to or removed from a message, as a chat adapter translated it.

    ``channel`` is where the reacted message lives (a Slack channel; a Discord thread or
    channel), ``message_id`` its platform id (Slack ``ts``, Discord snowflake). ``by_bot``
    says the bot reacted itself: never a reader's vote. ``on_own_message`` says whether the
    reacted message is the bot's (None when the platform does not say). ``ordered_ids``
    says message ids grow with time in a channel (Discord's snowflakes): an item too long
    for one message is recorded by its last message, and an earlier one of its messages is
    then found as the one just before it.
    """

    platform: Platform
    channel: str
    message_id: str
    user: str
    vote: Vote
    added: bool
    by_bot: bool = False
    on_own_message: bool | None = None
    ordered_ids: bool = False


@dataclass(frozen=True, slots=True)
class ReactedPart:
    """The part of a delivered edition that a message is: part 0 is the parent.

    ``canonical_id`` names the item of an item reply (None for the parent, or when the
    edition no longer has an entry at that position).
    """

    destination: str
    edition_id: int
    part: int
    canonical_id: str | None


@dataclass(frozen=True, slots=True)
class EditionHeading:
    """An edition as a listing shows it: date, title, intro and how many items it has."""

    id: int
    date: date
    title: str
    intro: str
    count: int
    imported: bool
    created_at: datetime
