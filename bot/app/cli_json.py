"""``--json`` for ``digestbot status`` and ``digestbot subscriptions``: stable JSON objects.

The shapes are a contract (README, "Machine-readable output"): keys are only ever added, never
renamed or removed. Times are ISO 8601 in UTC, dates ``YYYY-MM-DD``, absent values ``null``.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from typing import Any

from bot.commands.status import StatusReport, SubscriptionStatus
from bot.delivery.slots import WEEKDAYS

JSON_FORMAT_VERSION = 1
"""Raised only if a key ever had to change meaning (it has not)."""


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def subscription_json(status: SubscriptionStatus) -> dict[str, Any]:
    """Return one subscription as ``digestbot subscriptions --json`` lists it."""
    record = status.record
    s = record.subscription
    last = status.last_delivery
    return {
        "destination": status.destination,
        "platform": s.platform,
        "workspace": s.workspace,
        "channel": s.channel,
        "day": WEEKDAYS[s.weekday],
        "time": s.at_time,
        "timezone": s.timezone,
        "difficulty": s.difficulty.value if s.difficulty else None,
        "active": s.active,
        "paused_reason": s.paused_reason or None,
        "paused_at": _when(record.paused_at),
        "created_by": record.created_by,
        "created_at": _when(record.created_at),
        "next_delivery": _when(status.next_delivery),
        "last_delivery": (
            {"edition_date": _when(last.edition_date), "parts": last.parts, "at": _when(last.at)}
            if last
            else None
        ),
    }


def subscriptions_json(report: StatusReport) -> dict[str, Any]:
    """Return ``digestbot subscriptions --json``: ``{"subscriptions": [...]}``."""
    return {
        "format": JSON_FORMAT_VERSION,
        "subscriptions": [subscription_json(s) for s in report.subscriptions],
    }


def status_json(report: StatusReport, version: str) -> dict[str, Any]:
    """Return ``digestbot status --json``: everything the text status shows."""
    compose = report.last_compose
    llm = report.llm
    feedback = report.feedback
    return {
        "format": JSON_FORMAT_VERSION,
        "version": version,
        "at": _when(report.at),
        "sources": [
            {
                "source": run.source,
                "finished_at": _when(run.finished_at),
                "outcome": run.outcome.value,
                "fetched": run.fetched,
                "new": run.counts.new,
                "updated": run.counts.updated,
                "unchanged": run.counts.unchanged,
                "reason": run.reason or None,
            }
            for run in report.sources
        ],
        "pending_picks": report.pending_picks,
        "last_compose": (
            {
                "edition_date": _when(compose.edition_date),
                "outcome": compose.outcome.value,
                "reason": compose.reason,
                "at": _when(compose.at),
            }
            if compose
            else None
        ),
        "schedule_enabled": report.schedule_enabled,
        "next_jobs": (
            [{"name": job.name, "at": _when(job.at)} for job in report.next_jobs]
            if report.schedule_enabled
            else []
        ),
        "subscriptions": {
            "active": len(report.subscriptions) - len(report.paused),
            "paused": len(report.paused),
            "items": [subscription_json(s) for s in report.subscriptions],
        },
        "deliveries": [
            {
                "destination": d.destination,
                "edition_date": _when(d.edition_date),
                "parts": d.parts,
                "at": _when(d.at),
            }
            for d in report.deliveries
        ],
        "delivery_jobs": {
            "waiting": report.pending_deliveries,
            "failed": report.failed_deliveries,
            "skipped": report.skipped_deliveries,
            "recent_failures": [
                {
                    "state": job.state.value,
                    "destination": job.destination,
                    "edition_id": job.edition_id,
                    "due_at": _when(job.due_at),
                    "reason": job.reason,
                }
                for job in report.recent_failures
            ],
        },
        "llm": {
            "since": _when(llm.since),
            "calls": llm.calls,
            "tokens": llm.tokens,
            "cost_usd": round(llm.cost_usd, 6),
            "problem": report.model_problem or None,
        },
        "feedback": {
            "since": _when(feedback.since),
            "up": feedback.up,
            "down": feedback.down,
            "most_liked": feedback.most_liked,
        },
    }


def print_json(payload: object) -> None:
    """Write ``payload`` to stdout as indented JSON and a newline (not through rich)."""
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
