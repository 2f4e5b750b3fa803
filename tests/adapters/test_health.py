"""/healthz and /metrics served by aiohttp, read by a real HTTP client."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from adapters.health import HealthServer
from bot.commands.health import HealthReport
from bot.delivery.slots import UpcomingJob
from bot.delivery.worker import Counters

NOW = datetime(2026, 4, 13, 7, tzinfo=UTC)


async def test_health_and_metrics_tell_what_needs_an_admin() -> None:
    reports = [
        HealthReport(
            NOW,
            True,
            {"slack": True, "discord": True},
            paused=[("discord:9", "Discord: channel 9 was not found")],
            next_jobs=[UpcomingJob("compose", NOW)],
            pending_deliveries=2,
            counters=Counters(deliveries_done=3, messages_sent=39),
        ),
        HealthReport(NOW, False, problem="OperationalError: connection refused"),
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
            assert body["paused_subscriptions"] == [
                {"destination": "discord:9", "reason": "Discord: channel 9 was not found"}
            ]
            assert body["next_jobs"] == [{"job": "compose", "at": NOW.isoformat()}]
            metrics = (await client.get("/metrics")).text
            assert "digest_subscriptions_paused 1.0" in metrics
            assert 'digest_deliveries_total{outcome="done"} 3.0' in metrics
            assert 'digest_messages_total{how="sent"} 39.0' in metrics
            reports.pop(0)
            down = await client.get("/healthz")
            assert down.status_code == 503
            assert down.json()["status"] == "down"
    finally:
        await server.aclose()
