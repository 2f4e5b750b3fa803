"""One log line and one observation per job run: ingest, compose, plan, each delivery.

A job is timed from the injected clock; when it ends, `JobTimer.finish` logs one line
(INFO when it went well or was not this instance's to run, WARNING when it failed or will be
retried) with the task, outcome and duration as structured fields (``task``, ``outcome``,
``duration_s``: the JSON log format shows them as keys), and hands a `JobRun` to the
observer (the metrics).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.ports import Clock

logger = logging.getLogger(__name__)


class JobOutcome(StrEnum):
    """How one run of a job ended."""

    OK = "ok"
    FAILED = "failed"
    # Not run here: another instance holds the job, or a delivery was too late.
    SKIPPED = "skipped"
    # A delivery that failed for now and is retried later.
    RETRY = "retry"
    # Stopped by a shutdown or a lost claim; the next start resumes it.
    INTERRUPTED = "interrupted"


QUIET = frozenset({JobOutcome.OK, JobOutcome.SKIPPED, JobOutcome.INTERRUPTED})


@dataclass(frozen=True, slots=True)
class JobRun:
    """One finished run of a job: what it was, how it ended, how long it took, when."""

    task: str
    outcome: JobOutcome
    duration_s: float
    finished_at: datetime


JobObserver = Callable[[JobRun], None]


class JobTimer:
    """Times one run; `finish` (once) logs its line and tells the observer."""

    def __init__(
        self, task: str, clock: Clock, observer: JobObserver | None, subject: str = ""
    ) -> None:
        self.task = task
        self.subject = subject
        self._clock = clock
        self._observer = observer
        self._started = clock.now()
        self.outcome = JobOutcome.OK
        self.detail = ""
        self.verbose = True
        self.finished: JobRun | None = None

    def finish(self, outcome: JobOutcome | None = None, detail: str | None = None) -> JobRun:
        """End the run with ``outcome`` (default: the one set on the timer); log it once."""
        if self.finished is not None:
            return self.finished
        outcome = outcome or self.outcome
        detail = self.detail if detail is None else detail
        now = self._clock.now()
        run = JobRun(self.task, outcome, (now - self._started).total_seconds(), now)
        self.finished = run
        level = logging.INFO if outcome in QUIET else logging.WARNING
        if outcome is JobOutcome.OK and not self.verbose:
            level = logging.DEBUG  # a routine run with nothing to tell (the minutely plan)
        what = f"{self.task} {self.subject}".strip()
        logger.log(
            level,
            "%s %s in %.2f s%s",
            what,
            outcome.value,
            run.duration_s,
            f": {detail}" if detail else "",
            extra={
                "task": self.task,
                "outcome": outcome.value,
                "duration_s": round(run.duration_s, 3),
                **({"subject": self.subject} if self.subject else {}),
            },
        )
        if self._observer is not None:
            try:
                self._observer(run)
            except Exception:  # metrics must never stop a job
                logger.exception("recording the %s run failed", self.task)
        return run


@contextmanager
def timed(
    task: str, clock: Clock, observer: JobObserver | None, subject: str = ""
) -> Iterator[JobTimer]:
    """Time the ``with`` block as one run of ``task``; an exception makes it failed.

    A cancellation (shutdown) is ``interrupted``. The block may set ``outcome`` and
    ``detail`` on the timer, or call `JobTimer.finish` itself.
    """
    timer = JobTimer(task, clock, observer, subject)
    try:
        yield timer
    except asyncio.CancelledError:
        timer.finish(JobOutcome.INTERRUPTED)
        raise
    except Exception as exc:
        text = " ".join(str(exc).split())[:200]
        timer.finish(JobOutcome.FAILED, f"{exc.__class__.__name__}: {text}".rstrip(": "))
        raise
    timer.finish()
