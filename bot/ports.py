"""Ports: the protocols through which the core reaches the outside world.

Adapters implement them; the composition root (`bot.app`) plugs adapters in; tests plug in
fakes that speak the real protocols. The core imports only these protocols, never an adapter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, runtime_checkable

from pydantic import BaseModel

from bot.domain import (
    IdentifiedSighting,
    Item,
    Sighting,
    SourceBatch,
    SourceRun,
    Submission,
    UpsertCounts,
)


class SourceError(Exception):
    """An expected failure of an outside source, with a reason a person can read.

    Adapters raise it for timeouts, HTTP errors, bodies that are too large or not what was
    asked for; ingest records the reason and carries on with the other sources.
    """

    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        # A timeout, an unreachable host, a 5xx or a throttle: the same request may work later.
        self.transient = transient


@runtime_checkable
class Clock(Protocol):
    """Where time comes from: injected so that tests control it."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware (UTC)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a fake clock advances instead of waiting)."""
        ...


class Source(Protocol):
    """One outside source of sightings (HF, arXiv, a feed, editors' picks)."""

    @property
    def name(self) -> str:
        """The name used on the command line and in run records (``hf``, ``willison``...)."""
        ...

    async def fetch(self, state: Mapping[str, str]) -> SourceBatch:
        """Fetch what is new; ``state`` is what the previous batch asked to keep.

        Raises `SourceError` for an expected failure.
        """
        ...


@runtime_checkable
class DatedSource(Source, Protocol):
    """A source that can be asked for past days (HF's ``?date=``, arXiv's submittedDate)."""

    async def fetch_days(self, first: date, last: date) -> SourceBatch:
        """Fetch what the source dated from ``first`` to ``last``, both included.

        Raises `SourceError` for an expected failure.
        """
        ...


class PaperLookup(Protocol):
    """Resolves arXiv ids to full paper sightings (the arXiv API's ``id_list``)."""

    async def lookup(self, arxiv_ids: Sequence[str]) -> list[Sighting]:
        """Return a sighting for each id arXiv knows; unknown ids are left out."""
        ...


class LinkResolver(Protocol):
    """Turns an editor's URL into a sighting.

    An arXiv or HF link becomes the paper; any other page its title and description.
    """

    async def resolve(self, url: str) -> Sighting:
        """Return the sighting for ``url`` (source ``manual``); raise `SourceError` if unusable."""
        ...


class CitationLookup(Protocol):
    """Citation counts for arXiv papers (Semantic Scholar)."""

    async def citations(self, arxiv_ids: Sequence[str]) -> dict[str, int]:
        """Return the citation count of each id the service knows; unknown ids are left out."""
        ...


class IngestStore(Protocol):
    """The part of the store that ingest writes to."""

    async def upsert_sightings(
        self, sightings: Sequence[IdentifiedSighting], seen_at: datetime
    ) -> UpsertCounts:
        """Insert or update items and their sightings; count new, updated, unchanged items."""
        ...

    async def source_state(self, source: str) -> dict[str, str]:
        """Return the conditional-request state kept for ``source`` (empty when none)."""
        ...

    async def save_source_state(self, source: str, state: Mapping[str, str], at: datetime) -> None:
        """Keep ``state`` (as of ``at``) for the next fetch of ``source``."""
        ...

    async def record_source_run(self, run: SourceRun) -> None:
        """Record how one source's run ended."""
        ...

    async def last_source_runs(self) -> list[SourceRun]:
        """Return the latest run of every source that has run."""
        ...

    async def arxiv_ids_needing_citations(self, checked_before: datetime, limit: int) -> list[str]:
        """Return ids of papers whose citation count is missing or older than ``checked_before``."""
        ...

    async def save_citations(
        self, counts: Mapping[str, int], checked: Sequence[str], at: datetime
    ) -> None:
        """Store citation counts; mark every id in ``checked`` as checked at ``at``."""
        ...

    async def add_submission(
        self, url: str, note: str, submitted_by: str, at: datetime
    ) -> Submission:
        """Queue an editor's pick for the next ingest."""
        ...

    async def pending_submissions(self) -> list[Submission]:
        """Return the editors' picks not yet resolved, oldest first."""
        ...

    async def resolve_submission(
        self, submission_id: int, canonical_id: str | None, reason: str, at: datetime
    ) -> None:
        """Mark a pick as resolved to ``canonical_id``, or as failed with ``reason``."""
        ...

    async def note_submission_problem(self, submission_id: int, reason: str) -> None:
        """Keep a pick waiting, with why its last attempt failed."""
        ...

    async def get_item(self, canonical_id: str) -> Item | None:
        """Return the item with that canonical id, or ``None``."""
        ...

    async def count_items(self) -> int:
        """Return how many items are stored."""
        ...


class LanguageModelError(Exception):
    """The language model could not answer (after the client's own retries); says why."""

    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        # A timeout, an unreachable host, a 5xx or a throttle: the same request may work later.
        self.transient = transient


@dataclass(frozen=True, slots=True)
class Completion:
    """One answer of a language model, with what it cost in tokens.

    ``cut_off`` says the answer stopped at its output limit (OpenAI's ``finish_reason:
    "length"``): its JSON is unfinished, and asking again under the same limit would be cut
    again. ``reasoning_tokens`` is the part of ``output_tokens`` a reasoning model spent
    thinking (it counts against the limit and the budget like the answer does).
    """

    content: str
    refusal: str | None
    input_tokens: int
    output_tokens: int
    model: str
    cut_off: bool = False
    reasoning_tokens: int = 0


class LanguageModel(Protocol):
    """An OpenAI-compatible chat model asked for JSON shaped like a pydantic model."""

    @property
    def model(self) -> str:
        """The model's name."""
        ...

    async def complete(
        self,
        system: str,
        user: str,
        answer_type: type[BaseModel],
        *,
        purpose: str,
        max_output_tokens: int,
    ) -> Completion:
        """Ask once for JSON shaped like ``answer_type``; raise `LanguageModelError` if none came.

        The adapter turns ``answer_type`` into whatever the server accepts (a strict JSON
        schema, or JSON mode with the schema in the prompt); ``purpose`` names the schema.
        ``max_output_tokens`` is room for the answer itself: an adapter for a reasoning model
        adds room for its reasoning. Validating the answer is the caller's job.
        """
        ...


class IngestProgress(Protocol):
    """Told as sources start and finish (the CLI shows a progress display)."""

    def started(self, source: str) -> None:
        """Show that a source began fetching."""
        ...

    def finished(self, run: SourceRun) -> None:
        """Show how a source's run ended (successfully or not)."""
        ...


class CredentialRefusedError(Exception):
    """A platform refused a credential: retrying cannot help; the message names the variable."""


class PlatformBot(Protocol):
    """A connected platform: started without blocking, closed cleanly."""

    async def start(self) -> None:
        """Connect; return once ready to answer.

        Raises `CredentialRefusedError` when the platform refuses a token. Any other
        exception (unreachable, timed out) leaves the bot ready for another ``start``.
        """
        ...

    async def aclose(self) -> None:
        """Disconnect and release every resource."""
        ...

    def connected(self) -> bool:
        """Tell whether connected."""
        ...
