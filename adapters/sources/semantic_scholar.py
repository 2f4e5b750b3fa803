"""Citation counts from the Semantic Scholar Graph API, in batches, patient with rate limits.

``POST /paper/batch?fields=citationCount,externalIds`` with ``{"ids": ["ARXIV:<id>", ...]}``
answers a list aligned with the ids, ``null`` where the paper is unknown. Without an API key the
shared pool often answers 429; those (and 5xx) are retried with backoff (tenacity, sleeping on
the injected clock, honouring Retry-After) and, failing that, left for the next run (the store
remembers which papers still need a count).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_after_attempt

from adapters.sources.http_fetch import FetchedBody, fetch_limited, retry_after_seconds
from bot.ports import Clock, SourceError


class SemanticScholarCitations:
    """Citation counts for arXiv papers (implements `CitationLookup`)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        clock: Clock,
        *,
        url: str = "https://api.semanticscholar.org/graph/v1",
        api_key: str | None = None,
        batch_size: int = 500,
        max_attempts: int = 4,
        backoff_s: float = 5.0,
        deadline_s: float = 30.0,
    ) -> None:
        self._client = client
        self._clock = clock
        self._endpoint = url.rstrip("/") + "/paper/batch"
        self._headers = {"x-api-key": api_key} if api_key else {}
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._deadline_s = deadline_s

    async def citations(self, arxiv_ids: Sequence[str]) -> dict[str, int]:
        """Return the citation count of every id Semantic Scholar knows."""
        counts: dict[str, int] = {}
        ids = list(dict.fromkeys(arxiv_ids))
        for start in range(0, len(ids), self._batch_size):
            batch = ids[start : start + self._batch_size]
            body = await self._post(batch)
            counts.update(_counts(batch, body.content))
        return counts

    async def _fetch(self, batch: Sequence[str]) -> FetchedBody:
        return await fetch_limited(
            self._client,
            self._endpoint,
            method="POST",
            params={"fields": "citationCount,externalIds"},
            headers=self._headers,
            json_body={"ids": [f"ARXIV:{arxiv_id}" for arxiv_id in batch]},
            deadline_s=self._deadline_s,
        )

    def _wait(self, state: RetryCallState) -> float:
        """Retry-After when the answer gives one, else backoff_s doubled at each attempt."""
        assert state.outcome is not None
        body: FetchedBody = state.outcome.result()
        return retry_after_seconds(body.headers, self._backoff_s * 2 ** (state.attempt_number - 1))

    async def _post(self, batch: Sequence[str]) -> FetchedBody:
        # Only answers are retried (429, 5xx); a failed request (timeout, too large) is
        # raised at once, and the last answer of a spent budget is judged below.
        retrying = AsyncRetrying(
            retry=retry_if_result(_transient),
            stop=stop_after_attempt(self._max_attempts),
            wait=self._wait,
            sleep=self._clock.sleep,
            retry_error_callback=_last_answer,
        )
        body: FetchedBody = await retrying(self._fetch, batch)
        if body.status == 200:
            return body
        if body.status == 403:
            raise SourceError("Semantic Scholar refused the API key (HTTP 403)")
        if not _transient(body):
            raise SourceError(f"HTTP {body.status} from api.semanticscholar.org")
        if body.status == 429:
            raise SourceError(
                "Semantic Scholar is rate limiting (HTTP 429); citations left for the next run"
            )
        raise SourceError(
            f"HTTP {body.status} from api.semanticscholar.org after {self._max_attempts} attempts"
        )


def _transient(body: FetchedBody) -> bool:
    return body.status == 429 or body.status >= 500


def _last_answer(state: RetryCallState) -> FetchedBody:
    assert state.outcome is not None
    body: FetchedBody = state.outcome.result()
    return body


def _counts(batch: Sequence[str], content: bytes) -> dict[str, int]:
    try:
        papers = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SourceError("Semantic Scholar sent something that is not JSON") from None
    if not isinstance(papers, list) or len(papers) != len(batch):
        raise SourceError("Semantic Scholar's answer does not match the papers asked for")
    counts: dict[str, int] = {}
    for asked, paper in zip(batch, papers, strict=True):
        if not isinstance(paper, dict):
            continue  # null: not known (yet)
        external = paper.get("externalIds") or {}
        known_as = external.get("ArXiv") if isinstance(external, dict) else None
        if known_as and str(known_as) != asked:
            continue  # answer for a different paper: trust nothing in it
        count = paper.get("citationCount")
        if isinstance(count, int) and not isinstance(count, bool):
            counts[asked] = count
    return counts
