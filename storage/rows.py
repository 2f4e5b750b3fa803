"""Rows to domain records and back: the conversions that the parts of the store share."""

from __future__ import annotations

from bot.domain import (
    DeliveryJob,
    Difficulty,
    Edition,
    EditionEntry,
    EditJob,
    Item,
    ItemContent,
    ItemKind,
    ItemSummary,
    JobState,
    RunOutcome,
    Sighting,
    SourceRun,
    Submission,
    Subscription,
    SubscriptionRecord,
    SummaryRevision,
    UpsertCounts,
)
from storage.models import (
    DeliveryJobRow,
    EditionEntryRow,
    EditionRow,
    EditJobRow,
    ItemRow,
    SightingRow,
    SourceRunRow,
    SubmissionRow,
    SubscriptionRow,
    SummaryRewriteRow,
    SummaryRow,
)


def sighting_of(row: SightingRow) -> Sighting:
    """Return the sighting that a sighting row holds."""
    return Sighting(
        source=row.source,
        url=row.url,
        title=row.title,
        summary=row.summary,
        authors=tuple(row.authors),
        published_at=row.published_at,
        arxiv_id=row.arxiv_id,
        arxiv_version=row.arxiv_version,
        links=tuple(row.links),
        data=dict(row.data),
    )


def write_sighting(row: SightingRow, sighting: Sighting, fingerprint: str) -> None:
    """Write ``sighting`` and its ``fingerprint`` into a sighting row."""
    row.url = sighting.url
    row.title = sighting.title
    row.summary = sighting.summary
    row.authors = list(sighting.authors)
    row.published_at = sighting.published_at
    row.arxiv_id = sighting.arxiv_id
    row.arxiv_version = sighting.arxiv_version
    row.links = list(sighting.links)
    row.data = dict(sighting.data)
    row.fingerprint = fingerprint


def write_content(row: ItemRow, content: ItemContent) -> None:
    """Write an item's merged ``content`` into the item's row."""
    row.kind = content.kind.value
    row.title = content.title
    row.url = content.url
    row.summary = content.summary
    row.authors = list(content.authors)
    row.published_at = content.published_at
    row.arxiv_id = content.arxiv_id
    row.arxiv_version = content.arxiv_version
    row.data = dict(content.data)
    row.content_hash = content.content_hash


def item_of(row: ItemRow) -> Item:
    """Return the item that a row holds (its sightings loaded: they name its sources)."""
    content = ItemContent(
        canonical_id=row.canonical_id,
        kind=ItemKind(row.kind),
        title=row.title,
        url=row.url,
        summary=row.summary,
        authors=tuple(row.authors),
        published_at=row.published_at,
        arxiv_id=row.arxiv_id,
        arxiv_version=row.arxiv_version,
        data=dict(row.data),
        content_hash=row.content_hash,
    )
    return Item(
        id=row.id,
        content=content,
        sources=tuple(sorted(s.source for s in row.sightings)),
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        citations=row.citations,
        citations_checked_at=row.citations_checked_at,
        source_date=row.source_date,
    )


def source_run_of(row: SourceRunRow) -> SourceRun:
    """Return the source run that a row records."""
    return SourceRun(
        source=row.source,
        started_at=row.started_at,
        finished_at=row.finished_at,
        outcome=RunOutcome(row.outcome),
        reason=row.reason,
        fetched=row.fetched,
        counts=UpsertCounts(row.new, row.updated, row.unchanged),
        warnings=tuple(row.warnings),
    )


def submission_of(row: SubmissionRow) -> Submission:
    """Return the editor's pick that a row holds."""
    return Submission(
        id=row.id,
        url=row.url,
        note=row.note,
        submitted_by=row.submitted_by,
        submitted_at=row.submitted_at,
    )


def subscription_of(row: SubscriptionRow) -> Subscription:
    """Return the subscription that a row holds."""
    return Subscription(
        platform=row.platform,
        workspace=row.workspace,
        channel=row.channel,
        weekday=row.weekday,
        at_time=row.at_time,
        timezone=row.timezone,
        difficulty=Difficulty(row.difficulty) if row.difficulty else None,
        active=row.active,
        paused_reason=row.paused_reason,
        topics=keywords_of(row.topics),
        exclude=keywords_of(row.exclude),
    )


def keywords_of(text: str) -> tuple[str, ...]:
    """Return the keywords a comma-separated column holds (``""`` holds none)."""
    return tuple(k for k in text.split(",") if k)


def subscription_record_of(row: SubscriptionRow) -> SubscriptionRecord:
    """Return a row's subscription with who created it and when."""
    return SubscriptionRecord(
        subscription_of(row), row.created_by, row.created_at, row.updated_at, row.paused_at
    )


def delivery_job_of(row: DeliveryJobRow) -> DeliveryJob:
    """Return the delivery job that a row holds."""
    return DeliveryJob(
        id=row.id,
        destination=row.destination,
        edition_id=row.edition_id,
        difficulty=Difficulty(row.difficulty) if row.difficulty else None,
        state=JobState(row.state),
        due_at=row.due_at,
        attempts=row.attempts,
        claimed_by=row.claimed_by,
        lease_until=row.lease_until,
        reason=row.reason,
        topics=keywords_of(row.topics),
        exclude=keywords_of(row.exclude),
    )


def summary_of(row: SummaryRow | EditionEntryRow) -> ItemSummary:
    """Return the summary that a cached summary row or an edition entry row holds."""
    return ItemSummary(
        why=row.why,
        difficulty=Difficulty(row.difficulty),
        takeaways=tuple(str(t) for t in row.takeaways),
        model=row.model,
        prompt_version=row.prompt_version,
        offline=row.offline,
        note=row.note,
    )


def entry_of(row: EditionEntryRow) -> EditionEntry:
    """Return one featured item of an edition (its item and sightings loaded)."""
    return EditionEntry(
        position=row.position,
        item=item_of(row.item),
        summary=summary_of(row),
        score=row.score,
        reason=row.reason,
        updated_at=row.rewritten_at,
    )


def edition_of(row: EditionRow) -> Edition:
    """Return the edition that a row holds (its entries' items and sightings loaded)."""
    entries = tuple(entry_of(entry) for entry in row.entries)
    return Edition(
        id=row.id,
        date=row.edition_date,
        title=row.title,
        intro=row.intro,
        offline=row.offline,
        entries=entries,
        created_at=row.created_at,
        imported=bool(row.imported),
    )


def edit_job_of(row: EditJobRow) -> EditJob:
    """Return the edit job that a row holds."""
    return EditJob(
        id=row.id,
        destination=row.destination,
        edition_id=row.edition_id,
        part=row.part,
        version=row.version,
        state=JobState(row.state),
        due_at=row.due_at,
        attempts=row.attempts,
        claimed_by=row.claimed_by,
        lease_until=row.lease_until,
        reason=row.reason,
    )


def revision_of(row: SummaryRewriteRow, canonical_id: str) -> SummaryRevision:
    """Return the replaced summary that a rewrite row keeps."""
    old = ItemSummary(
        why=row.old_why,
        difficulty=Difficulty(row.old_difficulty),
        takeaways=tuple(str(t) for t in row.old_takeaways),
        model=row.old_model,
        prompt_version=row.old_prompt_version,
        offline=row.old_offline,
        note=row.old_note,
    )
    return SummaryRevision(
        edition_id=row.edition_id,
        position=row.position,
        canonical_id=canonical_id,
        version=row.version,
        by=row.rewritten_by,
        at=row.rewritten_at,
        note=row.note,
        old=old,
    )
