"""/healthz, /livez, /readyz and /metrics served by aiohttp, read by a real HTTP client.

/metrics is parsed with prometheus_client's own parser, as Prometheus would read it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from adapters.health import HealthServer, Metrics
from bot.commands.health import HealthReport
from bot.delivery.jobs import JobOutcome, JobRun
from bot.delivery.slots import UpcomingJob
from bot.delivery.worker import Counters
from bot.domain import ModelUsage

NOW = datetime(2026, 4, 13, 7, tzinfo=UTC)


def samples(text: str) -> dict[str, list[Sample]]:
    """Return every sample of a scrape by sample name."""
    found: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


def value(found: dict[str, list[Sample]], name: str, **labels: str) -> float:
    (match,) = [
        s.value for s in found[name] if all(s.labels.get(k) == v for k, v in labels.items())
    ]
    return match


async def test_health_and_metrics_tell_what_needs_an_admin() -> None:
    reports = [
        HealthReport(
            NOW,
            True,
            {"slack": True, "discord": True},
            paused=[("discord:9", "Discord: channel 9 was not found")],
            next_jobs=[UpcomingJob("compose", NOW)],
            pending_deliveries=2,
            counters=Counters(deliveries_done=3, messages_sent=39, ingests=2),
            version="1.2.3",
        ),
        HealthReport(NOW, False, problem="OperationalError: connection refused", version="1.2.3"),
    ]

    async def report() -> HealthReport:
        return reports[0]

    server = HealthServer(report, "127.0.0.1", 0)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            health = await client.get("/healthz")
            assert health.status_code == 200
            body = health.json()
            assert body["status"] == "degraded"
            assert body["version"] == "1.2.3"
            assert body["paused_subscriptions"] == [
                {"destination": "discord:9", "reason": "Discord: channel 9 was not found"}
            ]
            assert body["next_jobs"] == [{"job": "compose", "at": NOW.isoformat()}]
            found = samples((await client.get("/metrics")).text)
            assert value(found, "digest_subscriptions_paused") == 1
            assert value(found, "digest_deliveries_total", outcome="done") == 3
            assert value(found, "digest_messages_total", how="sent") == 39
            assert value(found, "digest_jobs_total", task="ingest") == 2
            assert value(found, "digest_build_info", version="1.2.3") == 1
            reports.pop(0)
            down = await client.get("/healthz")
            assert down.status_code == 503
            assert down.json()["status"] == "down"
            assert down.json()["version"] == "1.2.3"
    finally:
        await server.aclose()


async def test_metrics_hold_job_durations_last_successes_llm_spend_and_the_process() -> None:
    metrics = Metrics()
    ingest_at = NOW - timedelta(hours=5)

    async def report() -> HealthReport:
        return HealthReport(
            NOW,
            True,
            {"slack": True},
            version="1.2.3",
            last_success={"ingest": ingest_at, "compose": NOW - timedelta(days=1)},
            llm_usage=[ModelUsage("gpt-5-mini", 12_000, 3_000, 0.0105)],
        )

    metrics.observe(JobRun("delivery", JobOutcome.OK, 1.5, NOW))
    metrics.observe(JobRun("delivery", JobOutcome.RETRY, 40.0, NOW + timedelta(minutes=1)))
    metrics.observe(JobRun("ingest", JobOutcome.FAILED, 12.0, NOW))
    server = HealthServer(report, "127.0.0.1", 0, metrics)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            scrape = await client.get("/metrics")
    finally:
        await server.aclose()
    assert scrape.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(scrape.text)
    assert value(found, "digest_job_duration_seconds_count", task="delivery") == 2
    assert value(found, "digest_job_duration_seconds_sum", task="delivery") == 41.5
    assert value(found, "digest_job_duration_seconds_bucket", task="delivery", le="5.0") == 1
    assert value(found, "digest_job_duration_seconds_count", task="ingest") == 1
    # A retried delivery is no success; a failed ingest keeps the store's last success.
    last = "digest_last_success_timestamp_seconds"
    assert value(found, last, task="delivery") == NOW.timestamp()
    assert value(found, last, task="ingest") == ingest_at.timestamp()
    assert value(found, last, task="compose") == (NOW - timedelta(days=1)).timestamp()
    assert value(found, "digest_llm_tokens_total", model="gpt-5-mini", kind="input") == 12_000
    assert value(found, "digest_llm_tokens_total", model="gpt-5-mini", kind="output") == 3_000
    assert value(found, "digest_llm_cost_usd_total", model="gpt-5-mini") == 0.0105
    assert value(found, "process_resident_memory_bytes") > 0
    # Prometheus adds its own "job" label to every series: ours must not clash with it.
    assert all("job" not in s.labels for series in found.values() for s in series)


async def test_livez_answers_while_readyz_waits_for_the_database_and_platforms() -> None:
    states = [
        HealthReport(NOW, True, {"slack": True, "discord": False}),
        HealthReport(NOW, False, {"slack": True}, problem="OperationalError: refused"),
        HealthReport(NOW, True, {"slack": True, "discord": True}),
    ]

    async def report() -> HealthReport:
        return states[0]

    server = HealthServer(report, "127.0.0.1", 0)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            answers = []
            while states:
                live, ready = await client.get("/livez"), await client.get("/readyz")
                answers.append((live.status_code, ready.status_code, ready.json()["ready"]))
                states.pop(0)
    finally:
        await server.aclose()
    assert answers == [(200, 503, False), (200, 503, False), (200, 200, True)]
